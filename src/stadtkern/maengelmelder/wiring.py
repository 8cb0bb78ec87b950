"""The Mängelmelder's background work per running platform: the mail courier and the
retention purge, each round in a worker thread so the event loop never waits on SMTP."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime

from stadtkern.db.threads import run_to_end
from stadtkern.maengelmelder.mail import deliver_due
from stadtkern.maengelmelder.retention import purge_personal_data
from stadtkern.maengelmelder.settings import MaengelmelderSettings
from stadtkern.modules.contract import BackgroundTask, ModuleContext

log = logging.getLogger(__name__)
PURGE_EVERY = 720  # rounds: with the default tick of 5 s, once an hour


def settings_of(context: ModuleContext) -> MaengelmelderSettings:
    """The module's settings."""
    settings = context.settings
    assert isinstance(settings, MaengelmelderSettings)  # noqa: S101 - validated by the platform
    return settings


def purge(context: ModuleContext, now: datetime) -> int:
    """One retention purge over every town; how many reporters were forgotten."""
    with context.platform.database.write() as session:
        return purge_personal_data(
            session=session, now=now, retention_days=settings_of(context).retention_days
        )


def background_tasks(context: ModuleContext) -> list[BackgroundTask]:
    """Send due notices every tick; purge personal data at start and then hourly."""
    settings = settings_of(context)
    database = context.platform.database

    async def courier() -> None:
        while True:
            try:
                await run_to_end(deliver_due, database, settings, datetime.now(UTC))
            except Exception:
                log.exception("sending report notices failed; trying again")
            await asyncio.sleep(settings.tick_seconds)

    async def purger() -> None:
        while True:
            try:
                forgotten = await run_to_end(purge, context, datetime.now(UTC))
                if forgotten:
                    log.info("deleted the personal data of %d closed reports", forgotten)
            except Exception:
                log.exception("the retention purge failed; trying again later")
            await asyncio.sleep(settings.tick_seconds * PURGE_EVERY)

    return [courier, purger]

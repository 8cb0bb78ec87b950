"""The warning module's objects per running platform, kept in the module context."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime

from anyio import to_thread

from stadtkern.modules.contract import BackgroundTask, ModuleContext, TopicHandler
from stadtkern.sensorthings.wiring import dispatcher_of, public_url
from stadtkern.warning.dispatch import WarningEnv
from stadtkern.warning.report_desk import ReportDesk
from stadtkern.warning.retries import close_expired, resend_due
from stadtkern.warning.settings import WarningSettings
from stadtkern.warning.status_streams import status_writer
from stadtkern.warning.warning_day import start_due_days

log = logging.getLogger(__name__)
TICK_SECONDS = 1.0  # how often resends, expiries and due warning days are looked at


def settings_of(context: ModuleContext) -> WarningSettings:
    """The module's settings."""
    settings = context.settings
    assert isinstance(settings, WarningSettings)  # noqa: S101 - the platform validated it
    return settings


def env_of(context: ModuleContext) -> WarningEnv:
    """What the services need: settings, the sealing secret and the outbox."""
    platform = context.platform
    return WarningEnv(
        settings=settings_of(context),
        secret=platform.settings.secret_key.get_secret_value().encode(),
        outbox=platform.mqtt,
    )


def desk_of(context: ModuleContext) -> ReportDesk:
    """The platform's report desk, made on first use."""
    desk = context.extras.get("reports")
    if isinstance(desk, ReportDesk):
        return desk
    sta = context.platform.contexts["sensorthings"]
    desk = ReportDesk(
        context.platform.database,
        batch_rows=settings_of(context).ack_batch_rows,
        observations=status_writer(dispatcher_of(sta).publish, public_url(sta)),
    )
    context.extras["reports"] = desk
    return desk


def topic_handlers(context: ModuleContext) -> list[TopicHandler]:
    """Acknowledgements and heartbeats of every lantern of every tenant."""
    desk = desk_of(context)
    return [
        TopicHandler("warning/lanterns/+/ack", desk.handle),
        TopicHandler("warning/lanterns/+/health", desk.handle),
    ]


def tick(context: ModuleContext, now: datetime) -> None:
    """One round of resends, expiries and due warning days, each in its own transaction."""
    database = context.platform.database
    env = env_of(context)
    with database.write() as session:
        resend_due(session, env, now)
    with database.write() as session:
        close_expired(session, now)
    start_due_days(database, env, now)


def background_tasks(context: ModuleContext) -> list[BackgroundTask]:
    """The report writer and the once-a-second round."""
    desk = desk_of(context)

    async def rounds() -> None:
        while True:
            await asyncio.sleep(TICK_SECONDS)
            try:
                await to_thread.run_sync(tick, context, datetime.now(UTC))
            except Exception:
                log.exception("a warning round failed; trying again in a second")

    return [desk.run, rounds]


async def stop(context: ModuleContext) -> None:
    """Write the reports still queued."""
    desk = context.extras.get("reports")
    if isinstance(desk, ReportDesk):
        await desk.drain()

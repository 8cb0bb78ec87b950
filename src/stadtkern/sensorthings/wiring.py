"""The module's objects per running platform, kept in the module context."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

from anyio import to_thread
from sqlalchemy.orm import Session

from stadtkern.core.refs import TenantRef
from stadtkern.modules.contract import ModuleContext, TopicHandler
from stadtkern.sensorthings import tenant_settings
from stadtkern.sensorthings.dispatch import Dispatcher
from stadtkern.sensorthings.ingest.pipeline import IngestPipeline
from stadtkern.sensorthings.mqtt_create import create_handlers
from stadtkern.sensorthings.notifications import publish_changes
from stadtkern.sensorthings.settings import SensorThingsSettings
from stadtkern.sensorthings.writer import Change

log = logging.getLogger(__name__)
# How often each process re-reads which tenants publish open data (other processes may
# have changed it; this process updates its own set at once).
OPEN_DATA_REFRESH_SECONDS = 30.0
# Base URL of selfLinks in MQTT messages when no public_url is configured.
FALLBACK_PUBLIC_URL = "http://localhost:8000"


def settings_of(context: ModuleContext) -> SensorThingsSettings:
    """The module's settings."""
    settings = context.settings
    assert isinstance(settings, SensorThingsSettings)  # noqa: S101 - the platform validated it
    return settings


def dispatcher_of(context: ModuleContext) -> Dispatcher:
    """The platform's dispatcher, made on first use; it publishes changes to subscribers."""
    dispatcher = context.extras.get("dispatcher")
    if isinstance(dispatcher, Dispatcher):
        return dispatcher
    platform = context.platform
    settings = settings_of(context)

    def publish(session: Session, tenant: TenantRef, changes: Sequence[Change], base: str) -> None:
        topics = platform.subscriptions.topics_for(tenant.slug)
        if not topics:
            return
        prefix = f"{tenant.slug}/"
        publish_changes(
            session,
            tenant,
            changes,
            [topic.removeprefix(prefix) for topic in topics],
            base_url=base,
            settings=settings,
            enqueue=lambda s, topic, payload: platform.mqtt.enqueue(
                s, tenant=tenant, topic=topic, payload=payload, qos=1
            ),
        )

    pipeline = IngestPipeline(
        platform.database,
        publish,
        max_delay_ms=settings.ingest_max_delay_ms,
        batch_rows=settings.ingest_batch_rows,
        queue_rows=settings.ingest_queue_rows,
    )
    context.extras["ingest"] = pipeline
    dispatcher = Dispatcher(platform.database, settings, publish, pipeline)
    context.extras["dispatcher"] = dispatcher
    return dispatcher


def ingest_of(context: ModuleContext) -> IngestPipeline:
    """The platform's ingest pipeline (made with the dispatcher)."""
    pipeline = dispatcher_of(context).ingest
    assert pipeline is not None  # noqa: S101 - dispatcher_of always makes one
    return pipeline


def stop_ingest(context: ModuleContext) -> None:
    """Write what the ingest queue holds, then stop its writer (on shutdown)."""
    pipeline = context.extras.get("ingest")
    if isinstance(pipeline, IngestPipeline):
        pipeline.close()


def public_url(context: ModuleContext) -> str:
    """The platform's URL as clients see it (for selfLinks in MQTT messages)."""
    return context.platform.settings.public_url.rstrip("/") or FALLBACK_PUBLIC_URL


def topic_handlers(context: ModuleContext) -> list[TopicHandler]:
    """MQTT Create: the topics whose messages become Observations."""
    return create_handlers(dispatcher_of(context), public_url(context))


def mqtt_endpoint(context: ModuleContext) -> str:
    """The MQTT URL announced in the service root."""
    configured = settings_of(context).mqtt_endpoint
    if configured:
        return configured
    platform = context.platform
    if platform.broker is not None:
        return platform.broker.url
    return platform.settings.mqtt.url


async def refresh_open_data(context: ModuleContext) -> None:
    """Load which tenants anyone may read, into the set the broker's access rules consult."""

    def load() -> set[str]:
        with context.platform.database.read() as session:
            return tenant_settings.anonymous_read_slugs(session)

    slugs = await to_thread.run_sync(load)
    tenants = context.platform.open_data_tenants
    tenants.intersection_update(slugs)
    tenants.update(slugs)


async def keep_open_data_current(context: ModuleContext) -> None:
    """Background task: refresh the open-data tenants now and then."""
    while True:
        await asyncio.sleep(OPEN_DATA_REFRESH_SECONDS)
        try:
            await refresh_open_data(context)
        except Exception:
            log.exception("refreshing the open-data tenants failed; keeping the last set")

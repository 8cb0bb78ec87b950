"""OGC SensorThings API 1.1: the urban data platform's core.

Every tenant gets a SensorThings service at `/{tenant}/v1.1/` (Sensing Core, Filtering,
Create-Update-Delete, Batch, MultiDatastream, dataArray, Tasking Core) and the MQTT extension
on the platform's broker. See docs/sensorthings.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from fastapi import APIRouter

from stadtkern.http.direct import DirectRoute
from stadtkern.modules.contract import BackgroundTask, BaseModule, ModuleContext, TopicHandler
from stadtkern.sensorthings.settings import SensorThingsSettings


class SensorThingsModule(BaseModule):
    """Things, Datastreams, Observations and Tasking for every sensor and actuator."""

    name = "sensorthings"
    title = "Urban data platform: OGC SensorThings API 1.1"
    settings_model = SensorThingsSettings
    migrations = Path(__file__).parent / "migrations"

    def routers(self, context: ModuleContext) -> Sequence[APIRouter]:
        """`/{tenant}/v1.1/...` and the tenant's SensorThings settings."""
        from stadtkern.sensorthings.api import build_router
        from stadtkern.sensorthings.wiring import dispatcher_of, mqtt_endpoint

        return [build_router(dispatcher_of(context), mqtt_endpoint(context))]

    def direct_routes(self, context: ModuleContext) -> Sequence[DirectRoute]:
        """Creating Observations (sensors' single POSTs) without FastAPI's routing."""
        from stadtkern.sensorthings.api_direct import direct_routes
        from stadtkern.sensorthings.wiring import dispatcher_of

        return direct_routes(dispatcher_of(context), context.platform)

    def topic_handlers(self, context: ModuleContext) -> Sequence[TopicHandler]:
        """MQTT Create: Observations published to the tenant's Observations topics."""
        from stadtkern.sensorthings.wiring import topic_handlers

        return topic_handlers(context)

    def background_tasks(self, context: ModuleContext) -> Sequence[BackgroundTask]:
        """Keep the set of open-data tenants (anonymous MQTT read) current, and the
        Observations' monthly partitions ahead of time (PostgreSQL)."""
        from stadtkern.sensorthings.partitions import keep_partitions_ahead
        from stadtkern.sensorthings.wiring import keep_open_data_current

        async def refresh() -> None:
            await keep_open_data_current(context)

        async def partitions() -> None:
            await keep_partitions_ahead(context.platform.database)

        return [refresh] if context.platform.database.is_sqlite else [refresh, partitions]

    async def on_start(self, context: ModuleContext) -> None:
        """Load the open-data tenants before the broker admits anyone."""
        from stadtkern.sensorthings.wiring import refresh_open_data

        await refresh_open_data(context)

    async def on_stop(self, context: ModuleContext) -> None:
        """Write the Observations still queued for ingest (their senders wait for it)."""
        from anyio import to_thread

        from stadtkern.sensorthings.wiring import stop_ingest

        await to_thread.run_sync(stop_ingest, context)


module = SensorThingsModule()

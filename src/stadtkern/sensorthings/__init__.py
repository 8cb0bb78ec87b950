"""OGC SensorThings API 1.1: the urban data platform's core.

Built so far: the entity schema (`models.py`, Alembic branch `sensorthings`) and the query
language of the query options (`query/`). The HTTP and MQTT adapters are not built yet, so
the module is not registered as an entry point: no route or topic would serve it.
"""

from __future__ import annotations

from pathlib import Path

from stadtkern.modules.contract import BaseModule


class SensorThingsModule(BaseModule):
    """Things, Datastreams, Observations and Tasking for every sensor and actuator."""

    name = "sensorthings"
    title = "Urban data platform: OGC SensorThings API 1.1"
    migrations = Path(__file__).parent / "migrations"


module = SensorThingsModule()

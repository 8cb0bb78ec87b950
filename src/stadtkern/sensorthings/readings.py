"""Latest readings by observed property: what a public page shows of a town's sensors.

Reads the latest-value table (one row per Datastream) joined with the Datastream, its
ObservedProperty and Thing, and the Thing's first Location: no Observation is scanned.
Only numeric results are readings; the caller names the ObservedProperties (by definition)
it publishes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from stadtkern.sensorthings.catalogue import DATASTREAM, OBSERVED_PROPERTY, THING
from stadtkern.sensorthings.latest import LATEST_OBSERVATION, location_of
from stadtkern.sensorthings.models import ResultType

MAX_READINGS = 20_000


@dataclass(frozen=True)
class Reading:
    """The newest value of one Datastream, with where and what it measures."""

    datastream_id: int
    thing_id: int
    thing_name: str
    kind: str | None
    property_name: str
    definition: str
    unit_symbol: str
    value: float
    at: datetime
    location: dict[str, Any] | None


def latest_readings(
    session: Session, tenant_id: int, definitions: Sequence[str], *, limit: int = MAX_READINGS
) -> list[Reading]:
    """The latest numeric value of every Datastream of these ObservedProperties."""
    if not definitions:
        return []
    latest = LATEST_OBSERVATION
    stream, prop, thing = DATASTREAM.table, OBSERVED_PROPERTY.table, THING.table
    query = (
        select(
            latest.c.datastream_id,
            thing.c.id,
            thing.c.name,
            thing.c.properties,
            prop.c.name,
            prop.c.definition,
            stream.c.unit_of_measurement,
            latest.c.result_number,
            latest.c.phenomenon_time_start,
            location_of(thing.c.id),
        )
        .select_from(latest)
        .join(stream, stream.c.id == latest.c.datastream_id)
        .join(prop, prop.c.id == stream.c.observed_property_id)
        .join(thing, thing.c.id == stream.c.thing_id)
        .where(
            latest.c.tenant_id == tenant_id,
            latest.c.result_type == ResultType.NUMBER,
            prop.c.definition.in_(sorted(set(definitions))),
        )
        .order_by(latest.c.datastream_id)
        .limit(limit)
    )
    readings = []
    for row in session.execute(query):
        properties = row[3] if isinstance(row[3], dict) else {}
        unit = row[6] if isinstance(row[6], dict) else {}
        kind = properties.get("kind")
        readings.append(
            Reading(
                datastream_id=int(row[0]),
                thing_id=int(row[1]),
                thing_name=str(row[2]),
                kind=kind if isinstance(kind, str) else None,
                property_name=str(row[4]),
                definition=str(row[5]),
                unit_symbol=str(unit.get("symbol") or ""),
                value=float(row[7]),
                at=row[8],
                location=row[9] if isinstance(row[9], dict) else None,
            )
        )
    return readings

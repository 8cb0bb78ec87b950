"""One Datastream for the console and the portal: what it is, its values over a range,
bucketed in SQL."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from stadtkern.errors import InvalidInput, NotFound
from stadtkern.sensorthings.aggregate import buckets
from stadtkern.sensorthings.catalogue import DATASTREAM, OBSERVATION, OBSERVED_PROPERTY, THING
from stadtkern.sensorthings.results import COLUMNS, result_value

# range -> (length, bucket seconds): about 100-170 points a chart can show
RANGES: dict[str, tuple[timedelta, int]] = {
    "day": (timedelta(days=1), 900),
    "week": (timedelta(days=7), 3600),
    "month": (timedelta(days=30), 6 * 3600),
}
MAX_DOWNLOAD = 100_000


@dataclass(frozen=True)
class StreamInfo:
    """What a Datastream measures, where, in which unit."""

    id: int
    name: str
    unit: str
    thing_id: int
    thing_name: str
    property_name: str
    definition: str


def stream_info(session: Session, tenant_id: int, datastream_id: int) -> StreamInfo:
    """The Datastream of the town with this id; NotFound otherwise."""
    stream, thing, prop = DATASTREAM.table, THING.table, OBSERVED_PROPERTY.table
    row = session.execute(
        select(
            stream.c.name,
            stream.c.unit_of_measurement,
            thing.c.id,
            thing.c.name,
            prop.c.name,
            prop.c.definition,
        )
        .join(thing, thing.c.id == stream.c.thing_id)
        .join(prop, prop.c.id == stream.c.observed_property_id)
        .where(stream.c.id == datastream_id, stream.c.tenant_id == tenant_id)
    ).one_or_none()
    if row is None:
        raise NotFound(f"no Datastream {datastream_id}")
    name, unit, thing_id, thing_name, property_name, definition = row
    symbol = unit.get("symbol", "") if isinstance(unit, dict) else ""
    return StreamInfo(
        datastream_id, str(name), str(symbol or ""), int(thing_id), str(thing_name),
        str(property_name), str(definition or ""),
    )  # fmt: skip


def range_of(value: str | None) -> str:
    """The asked range (`?range=`, default a day); InvalidInput for any other word."""
    span = value or "day"
    if span not in RANGES:
        raise InvalidInput(f"range: one of {', '.join(RANGES)}")
    return span


def series_body(info: StreamInfo, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The series as the chart reads it: name, unit, and buckets with ISO times."""
    value = [
        {**row, "start": row["start"].isoformat(), "end": row["end"].isoformat()} for row in rows
    ]
    return {"name": info.name, "unit": info.unit, "value": value}


def series(session: Session, datastream_id: int, span: str, now: datetime) -> list[dict[str, Any]]:
    """avg, min, max and count per bucket of the range up to now (buckets without values left
    out), computed by the database."""
    length, seconds = RANGES[span]
    return buckets(
        session, datastream_id, seconds, ("avg", "min", "max", "count"), now - length, now
    )


def observations(
    session: Session, datastream_id: int, since: datetime, until: datetime
) -> list[tuple[datetime, Any]]:
    """The Observations of the range, oldest first, at most MAX_DOWNLOAD."""
    table = OBSERVATION.table
    query = (
        select(table.c.phenomenon_time_start, *(table.c[name] for name in COLUMNS))
        .where(
            table.c.datastream_id == datastream_id,
            table.c.phenomenon_time_start >= since,
            table.c.phenomenon_time_start < until,
        )
        .order_by(table.c.phenomenon_time_start)
        .limit(MAX_DOWNLOAD)
    )
    return [
        (row[0], result_value(dict(zip(COLUMNS, row[1:], strict=True))))
        for row in session.execute(query)
    ]

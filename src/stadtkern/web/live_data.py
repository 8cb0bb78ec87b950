"""What the live feed reads: latest values changed since a cursor, from the latest-value table.

The cursor is an Observation id. A Datastream's latest value changes when a newer
Observation arrives, and new Observations get greater ids, so "changed since cursor" is
`observation_id > cursor` on the latest-value table (one row per Datastream, never the
Observations). On SQLite the single writer hands out ids in commit order; on PostgreSQL two
transactions may commit out of id order, which the feed covers by reading a few seconds of
ids again (`live_feed.OVERLAP_SECONDS`). A value that becomes *older* (its newest
Observation deleted) is not a change here; the next page load shows it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from stadtkern.sensorthings.catalogue import DATASTREAM
from stadtkern.sensorthings.latest import LATEST_OBSERVATION
from stadtkern.sensorthings.models import ResultType


@dataclass(frozen=True)
class LiveValue:
    """A Datastream's new latest value."""

    datastream_id: int
    thing_id: int
    observation_id: int
    value: float | bool | None  # numbers and booleans; other results show as a dash
    unit: str
    at: datetime


def newest_id(session: Session, tenant_id: int) -> int:
    """The greatest Observation id among the town's latest values (0: none yet)."""
    latest = LATEST_OBSERVATION
    found = session.scalar(
        select(func.max(latest.c.observation_id)).where(latest.c.tenant_id == tenant_id)
    )
    return int(found or 0)


def current_ids(session: Session, tenant_id: int) -> dict[int, int]:
    """Datastream id -> id of its latest Observation, for the whole town."""
    latest = LATEST_OBSERVATION
    rows = session.execute(
        select(latest.c.datastream_id, latest.c.observation_id).where(
            latest.c.tenant_id == tenant_id
        )
    )
    return {int(stream): int(observation) for stream, observation in rows}


def changed_since(session: Session, tenant_id: int, cursor: int) -> list[LiveValue]:
    """The town's latest values whose Observation id is greater than `cursor`."""
    latest, stream = LATEST_OBSERVATION, DATASTREAM.table
    query = (
        select(
            latest.c.datastream_id,
            stream.c.thing_id,
            latest.c.observation_id,
            latest.c.result_type,
            latest.c.result_number,
            latest.c.result_boolean,
            # The symbol only, extracted by the database: decoding every unit's JSON in
            # Python was most of a read's time.
            stream.c.unit_of_measurement["symbol"].as_string(),
            latest.c.phenomenon_time_start,
        )
        .select_from(latest)
        .join(stream, stream.c.id == latest.c.datastream_id)
        .where(latest.c.tenant_id == tenant_id, latest.c.observation_id > cursor)
        .order_by(latest.c.observation_id)
    )
    found = []
    for stream_id, thing_id, observation_id, kind, number, boolean, symbol, at in session.execute(
        query
    ):
        value: float | bool | None = None
        if kind == ResultType.NUMBER:
            value = number
        elif kind == ResultType.BOOLEAN:
            value = boolean
        moment = at if at.tzinfo is not None else at.replace(tzinfo=UTC)
        found.append(
            LiveValue(
                int(stream_id), int(thing_id), int(observation_id), value, str(symbol or ""), moment
            )
        )
    return found

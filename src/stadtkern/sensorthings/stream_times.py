"""A (Multi)Datastream's phenomenonTime and resultTime: the span of its Observations' times.

New Observations only widen the span, so a request collects their times per stream and
widens each stream once, at its end, with one UPDATE (no per-row triggers). When
Observations change or disappear the span may shrink, so it is computed again from the
Observations that remain (the minimum uses the index on (stream, phenomenon_time_start)).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, case, func, literal, select

from stadtkern.sensorthings.catalogue import (
    DATASTREAM,
    ENTITY_TYPES,
    MULTI_DATASTREAM,
    OBSERVATION,
)
from stadtkern.sensorthings.entities import EntityType
from stadtkern.sensorthings.write_context import StreamSpan, WriteContext

STREAM_COLUMN = {DATASTREAM.name: "datastream_id", MULTI_DATASTREAM.name: "multi_datastream_id"}
TIME_FIELDS = frozenset({"phenomenonTime", "resultTime"})
TIME_COLUMNS = (
    "phenomenon_time_start",
    "phenomenon_time_end",
    "result_time_start",
    "result_time_end",
)


def note_observation(
    ctx: WriteContext,
    stream: EntityType,
    stream_id: int,
    times: tuple[datetime, datetime | None, datetime | None],
) -> None:
    """Remember a new Observation's (phenomenon start, end, result time) for its stream."""
    start, end, result = times
    key = (stream.name, stream_id)
    span = ctx.spans.get(key)
    if span is None:
        ctx.spans[key] = StreamSpan(start, end or start, result, result)
    else:
        span.add(start, end or start, result)


def widen_streams(ctx: WriteContext) -> None:
    """Widen every stream by the Observations this request added; forget them."""
    for (name, stream_id), span in ctx.spans.items():
        table = ENTITY_TYPES[name].table
        values: dict[str, Any] = {
            "phenomenon_time_start": _least(table.c.phenomenon_time_start, span.phenomenon_start),
            "phenomenon_time_end": _greatest(table.c.phenomenon_time_end, span.phenomenon_end),
        }
        if span.result_start is not None and span.result_end is not None:
            values["result_time_start"] = _least(table.c.result_time_start, span.result_start)
            values["result_time_end"] = _greatest(table.c.result_time_end, span.result_end)
        ctx.update(ENTITY_TYPES[name], stream_id, values)
        ctx.log.updated(ENTITY_TYPES[name], stream_id, TIME_FIELDS)
    ctx.spans.clear()


def recompute_stream(ctx: WriteContext, stream: EntityType, stream_id: int) -> None:
    """Set a stream's times from the Observations it has now (null when it has none)."""
    observations = OBSERVATION.table
    mine = observations.c[STREAM_COLUMN[stream.name]] == stream_id
    start = observations.c.phenomenon_time_start
    end = func.coalesce(observations.c.phenomenon_time_end, start, type_=start.type)
    result = observations.c.result_time
    row = ctx.session.execute(
        select(
            func.min(start, type_=start.type),
            func.max(end, type_=start.type),
            func.min(result, type_=start.type),
            func.max(result, type_=start.type),
        ).where(mine, observations.c.tenant_id == ctx.tenant_id)
    ).one()
    ctx.update(stream, stream_id, dict(zip(TIME_COLUMNS, row, strict=True)))
    ctx.log.updated(stream, stream_id, TIME_FIELDS)


def _least(column: ColumnElement[Any], value: datetime) -> ColumnElement[Any]:
    bound = literal(value, column.type)
    return case((column.is_(None), bound), (column > bound, bound), else_=column)


def _greatest(column: ColumnElement[Any], value: datetime) -> ColumnElement[Any]:
    bound = literal(value, column.type)
    return case((column.is_(None), bound), (column < bound, bound), else_=column)

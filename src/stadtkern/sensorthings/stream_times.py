"""A (Multi)Datastream's phenomenonTime and resultTime: the span of its Observations' times.

New Observations only widen the span, so a request collects their times per stream and
widens each stream once, at its end, with one UPDATE (no per-row triggers). When
Observations change or disappear the span may shrink, so it is computed again from the
Observations that remain (the minimum uses the index on (stream, phenomenon_time_start)).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Update, bindparam, case, func, select, update

from stadtkern.sensorthings import rollups
from stadtkern.sensorthings.catalogue import (
    DATASTREAM,
    ENTITY_TYPES,
    MULTI_DATASTREAM,
    OBSERVATION,
)
from stadtkern.sensorthings.entities import EntityType
from stadtkern.sensorthings.ingest.latest import refresh_latest
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


def widen_streams(ctx: WriteContext, *, latest: bool = True) -> None:
    """Widen every stream by the Observations this request added; forget them.

    One statement per stream type and kind of span, executed for all streams at once (an
    ingest batch may touch thousands). `latest=False`: the caller keeps the latest values
    itself, and the hourly rollups (the ingest batch knows its newest rows without asking the
    index, and adds its rows to their hours with `rollups.roll_up`).
    """
    statements: dict[tuple[str, bool], list[dict[str, Any]]] = {}
    for (name, stream_id), span in ctx.spans.items():
        with_result = span.result_start is not None and span.result_end is not None
        values = {
            "k_id": stream_id,
            "k_tenant": ctx.tenant_id,
            "k_phenomenon_start": span.phenomenon_start,
            "k_phenomenon_end": span.phenomenon_end,
        }
        if with_result:
            values.update(k_result_start=span.result_start, k_result_end=span.result_end)
        statements.setdefault((name, with_result), []).append(values)
        ctx.log.updated(ENTITY_TYPES[name], stream_id, TIME_FIELDS)
    for (name, with_result), parameters in statements.items():
        ctx.session.execute(_widen(ENTITY_TYPES[name], with_result), parameters)
    if latest:
        for (name, stream_id), span in ctx.spans.items():
            if name == DATASTREAM.name:
                refresh_latest(ctx, stream_id)
                first, last = span.phenomenon_start, span.phenomenon_end
                rollups.recompute(ctx.session, ctx.tenant_id, stream_id, first, last)
    ctx.spans.clear()


def _widen(stream: EntityType, with_result: bool) -> Update:
    table = stream.table
    c = table.c
    values = {
        "phenomenon_time_start": _least(c.phenomenon_time_start, "k_phenomenon_start"),
        "phenomenon_time_end": _greatest(c.phenomenon_time_end, "k_phenomenon_end"),
    }
    if with_result:
        values["result_time_start"] = _least(c.result_time_start, "k_result_start")
        values["result_time_end"] = _greatest(c.result_time_end, "k_result_end")
    return (
        update(table)
        .where(c.id == bindparam("k_id"), c.tenant_id == bindparam("k_tenant"))
        .values(**values)
    )


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
    if stream is DATASTREAM:
        refresh_latest(ctx, stream_id)


def _least(column: ColumnElement[Any], name: str) -> ColumnElement[Any]:
    bound = bindparam(name, type_=column.type)
    return case((column.is_(None), bound), (column > bound, bound), else_=column)


def _greatest(column: ColumnElement[Any], name: str) -> ColumnElement[Any]:
    bound = bindparam(name, type_=column.type)
    return case((column.is_(None), bound), (column < bound, bound), else_=column)

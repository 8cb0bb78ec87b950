"""Changing an entity: PATCH merges (RFC 7396 style, as 18-088 §10.3 describes), PUT replaces.

An update may bind navigation properties to existing entities by `{"@iot.id": n}` but not
contain related entities inline (§10.3). A to-one binding replaces the link; a to-many one
adds to it, except a Thing's Locations, which a new Location replaces (see
`thing_locations`). Server-maintained fields and `@iot.id` in the body are ignored.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from stadtkern.errors import BadRequest
from stadtkern.sensorthings import rollups
from stadtkern.sensorthings.associations import associate
from stadtkern.sensorthings.bodies import BodyMode, parse_body
from stadtkern.sensorthings.catalogue import (
    LOCATION,
    MULTI_DATASTREAM,
    MULTI_DATASTREAM_OBSERVED_PROPERTY,
    OBSERVATION,
)
from stadtkern.sensorthings.entities import EntityType, Link, LinkKind
from stadtkern.sensorthings.features import detach_features
from stadtkern.sensorthings.links import existing, reference_id, target_of
from stadtkern.sensorthings.rules import (
    check_multi_datastream,
    check_result_size,
    observation_stream,
)
from stadtkern.sensorthings.stream_times import recompute_stream
from stadtkern.sensorthings.write_context import WriteContext

STREAM_COLUMNS = ("datastream_id", "multi_datastream_id")
TIME_COLUMNS = ("phenomenon_time_start", "phenomenon_time_end", "result_time")
# what moves an Observation between hourly rollups or changes its numeric value
_ROLLED_UP = ("phenomenon_time_start", "datastream_id", "result_number")


def update_entity(
    ctx: WriteContext, entity: EntityType, entity_id: int, body: object, *, replace: bool
) -> None:
    """Apply a PATCH (merge) or PUT (replace) body to an existing entity of the tenant."""
    parsed = parse_body(entity, body, mode=BodyMode.REPLACE if replace else BodyMode.MERGE)
    columns = dict(parsed.columns)
    many: list[tuple[Link, list[int]]] = []
    for name, value in parsed.links.items():
        link = entity.link(name)
        assert link is not None  # noqa: S101 - parse_body only passes on links
        where = f"{entity.name}.{name}"
        if link.kind is LinkKind.OWN:
            columns[link.column] = _reference(ctx, link, value, where)
        else:
            many.append((link, _references(ctx, link, value, where)))
    before = _before_update(ctx, entity, entity_id, columns)
    ctx.update(entity, entity_id, columns)
    for link, ids in many:
        associate(ctx, entity, entity_id, link, ids, replace=True)
    _after_update(ctx, entity, entity_id, columns, before)
    ctx.log.updated(entity, entity_id, parsed.fields | frozenset(parsed.links))


def _reference(ctx: WriteContext, link: Link, value: object, where: str) -> int:
    known = reference_id(value, where)
    if known is None:
        raise BadRequest(f"{where}: an update links entities by @iot.id, it creates none")
    return existing(ctx, target_of(link), known, where)


def _references(ctx: WriteContext, link: Link, value: object, where: str) -> list[int]:
    if not isinstance(value, list):
        raise BadRequest(f"{where}: expected a JSON array")
    return [_reference(ctx, link, item, f"{where}[{i}]") for i, item in enumerate(value)]


def _before_update(
    ctx: WriteContext, entity: EntityType, entity_id: int, columns: dict[str, Any]
) -> dict[str, Any]:
    """Check the merged row; return the stored row (of the columns that matter)."""
    if entity is OBSERVATION:
        return _before_observation(ctx, entity_id, columns)
    if entity is MULTI_DATASTREAM and columns:
        stored = _stored(ctx, entity, entity_id)
        check_multi_datastream({**stored, **columns}, _property_count(ctx, entity_id))
    return {}


def _before_observation(
    ctx: WriteContext, observation_id: int, columns: dict[str, Any]
) -> dict[str, Any]:
    given = [name for name in STREAM_COLUMNS if name in columns]
    if len(given) == 2:
        raise BadRequest("Observation: link exactly one of Datastream and MultiDatastream")
    if given:
        other = STREAM_COLUMNS[1 - STREAM_COLUMNS.index(given[0])]
        columns[other] = None
    stored = _stored(ctx, OBSERVATION, observation_id)
    merged = {**stored, **columns}
    stream, stream_id = observation_stream(merged)
    if stream is MULTI_DATASTREAM and ("result_type" in columns or given):
        check_result_size(ctx, stream_id, merged)
    return stored


def _after_update(
    ctx: WriteContext,
    entity: EntityType,
    entity_id: int,
    columns: dict[str, Any],
    before: dict[str, Any],
) -> None:
    if entity is LOCATION and "location_json" in columns:
        detach_features(ctx, entity_id)
    if entity is OBSERVATION and any(name in columns for name in (*TIME_COLUMNS, *STREAM_COLUMNS)):
        streams = {observation_stream(before), observation_stream({**before, **columns})}
        for stream, stream_id in streams:
            recompute_stream(ctx, stream, stream_id)
    if entity is OBSERVATION and any(name in columns for name in _ROLLED_UP):
        # the hour it left and the hour it is in now (the same one, mostly)
        for row in (before, {**before, **columns}):
            if row.get("datastream_id") is not None:
                moment = row["phenomenon_time_start"]
                rollups.recompute(ctx.session, ctx.tenant_id, row["datastream_id"], moment, moment)


def _stored(ctx: WriteContext, entity: EntityType, entity_id: int) -> dict[str, Any]:
    table = entity.table
    row = ctx.session.execute(
        select(table).where(table.c.id == entity_id, table.c.tenant_id == ctx.tenant_id)
    ).one()
    return dict(row._mapping)


def _property_count(ctx: WriteContext, multi_datastream_id: int) -> int:
    association = MULTI_DATASTREAM_OBSERVED_PROPERTY
    count = ctx.session.scalar(
        select(func.count()).where(association.c.multi_datastream_id == multi_datastream_id)
    )
    return int(count or 0)

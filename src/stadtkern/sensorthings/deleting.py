"""Deleting entities and links (OGC 18-088 §10.4, table 25).

The database cascades what the standard asks (a Thing takes its Datastreams and
HistoricalLocations, a Datastream its Observations, ...) and removes association rows.
Beyond that: a deleted Location takes the HistoricalLocations that name it (table 25); a
deleted ObservedProperty takes the MultiDatastreams that use it (their results would lose
an element); a deleted Observation (or a FeatureOfInterest with Observations) makes its
streams' times be computed again. A FeatureOfInterest generated from a deleted Location is
kept: Observations refer to it (it just stops being reused).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, select

from stadtkern.errors import BadRequest
from stadtkern.sensorthings import rollups
from stadtkern.sensorthings.associations import fixed_properties_message
from stadtkern.sensorthings.catalogue import (
    DATASTREAM,
    FEATURE_OF_INTEREST,
    LOCATION,
    MULTI_DATASTREAM,
    MULTI_DATASTREAM_OBSERVED_PROPERTY,
    OBSERVATION,
    OBSERVED_PROPERTY,
)
from stadtkern.sensorthings.entities import EntityType, Link, LinkKind
from stadtkern.sensorthings.links import target_of
from stadtkern.sensorthings.stream_times import recompute_stream
from stadtkern.sensorthings.write_context import WriteContext


def delete_entity(ctx: WriteContext, entity: EntityType, entity_id: int) -> None:
    """Delete one entity of the tenant (it exists) and what depends on it."""
    streams = _observation_streams(ctx, entity, entity_id)
    hours = _observation_hours(ctx, entity, entity_id)
    if entity is LOCATION:
        _delete_linked(ctx, LOCATION, "HistoricalLocations", entity_id)
    if entity is OBSERVED_PROPERTY:
        _delete_linked(ctx, OBSERVED_PROPERTY, "MultiDatastreams", entity_id)
    _delete_rows(ctx, entity, [entity_id])
    ctx.log.deleted(entity, entity_id)
    for stream, stream_id in streams:
        recompute_stream(ctx, stream, stream_id)
    for stream_id, (first, last) in hours.items():
        rollups.recompute(ctx.session, ctx.tenant_id, stream_id, first, last)


def unlink(ctx: WriteContext, owner: EntityType, owner_id: int, link: Link, target: int) -> None:
    """Remove the link between two linked entities, where the link is optional."""
    if link.table is MULTI_DATASTREAM_OBSERVED_PROPERTY:
        raise BadRequest(fixed_properties_message())
    if link.kind is not LinkKind.TABLE:
        raise BadRequest(
            f"{owner.name}.{link.name} is a required relation; link another entity instead"
        )
    table = link.table
    assert table is not None  # noqa: S101 - a TABLE link names its table
    ctx.session.execute(
        delete(table).where(table.c[link.near] == owner_id, table.c[link.far] == target)
    )
    ctx.log.updated(owner, owner_id, frozenset({link.name}))


def _observation_streams(
    ctx: WriteContext, entity: EntityType, entity_id: int
) -> set[tuple[EntityType, int]]:
    if entity not in (OBSERVATION, FEATURE_OF_INTEREST):
        return set()
    table = OBSERVATION.table
    key = table.c.id if entity is OBSERVATION else table.c.feature_of_interest_id
    rows = ctx.session.execute(
        select(table.c.datastream_id, table.c.multi_datastream_id)
        .where(key == entity_id, table.c.tenant_id == ctx.tenant_id)
        .distinct()
    )
    streams: set[tuple[EntityType, int]] = set()
    for datastream, multi in rows:
        streams.add((DATASTREAM, int(datastream)) if datastream else (MULTI_DATASTREAM, int(multi)))
    return streams


def _observation_hours(
    ctx: WriteContext, entity: EntityType, entity_id: int
) -> dict[int, tuple[datetime, datetime]]:
    """Per Datastream, the first and last phenomenonTime of the Observations that go: their
    hours are rolled up again after the delete."""
    if entity not in (OBSERVATION, FEATURE_OF_INTEREST):
        return {}
    table = OBSERVATION.table
    key = table.c.id if entity is OBSERVATION else table.c.feature_of_interest_id
    moment = table.c.phenomenon_time_start
    rows = ctx.session.execute(
        select(
            table.c.datastream_id,
            func.min(moment, type_=moment.type),
            func.max(moment, type_=moment.type),
        )
        .where(
            key == entity_id, table.c.tenant_id == ctx.tenant_id, table.c.datastream_id.is_not(None)
        )
        .group_by(table.c.datastream_id)
    )
    return {int(stream): (first, last) for stream, first, last in rows}


def _delete_linked(ctx: WriteContext, owner: EntityType, name: str, owner_id: int) -> None:
    """Delete the entities linked to the owner through an association table."""
    link = owner.link(name)
    assert link is not None  # noqa: S101 - the callers name catalogue links
    table = link.table
    assert table is not None  # noqa: S101 - both are TABLE links
    query = select(table.c[link.far]).where(table.c[link.near] == owner_id)
    ids = [int(linked) for linked in ctx.session.scalars(query)]
    target = target_of(link)
    _delete_rows(ctx, target, ids)
    for linked in ids:
        ctx.log.deleted(target, linked)


def _delete_rows(ctx: WriteContext, entity: EntityType, ids: list[int]) -> None:
    if ids:
        table = entity.table
        ctx.session.execute(
            delete(table).where(table.c.id.in_(ids), table.c.tenant_id == ctx.tenant_id)
        )

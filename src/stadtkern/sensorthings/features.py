"""The FeatureOfInterest of an Observation sent without one: its Thing's Location.

OGC 18-088 §10.2 (special case #1): the service links the FeatureOfInterest made from the
Location of the Thing, creating it the first time. Stadtkern takes the Thing's first current
Location (lowest id) and remembers the feature's source (`source_location_id`), so one
Location yields one feature. A Location whose `location` changes is detached from its
feature (see `detach_features`), so later Observations get a feature at the new place.
A Thing without a Location: 400.
"""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import func, select, update

from stadtkern.errors import BadRequest
from stadtkern.sensorthings.catalogue import FEATURE_OF_INTEREST, LOCATION, THING_LOCATION
from stadtkern.sensorthings.entities import EntityType
from stadtkern.sensorthings.write_context import WriteContext

GENERATED_ENCODING = "application/geo+json"
PREFETCH_CHUNK = 1000  # stream ids per IN list


def feature_from_thing(ctx: WriteContext, stream: EntityType, stream_id: int) -> int:
    """The id of the feature generated from the Location of the stream's Thing."""
    key = ("feature", stream.name, stream_id)
    if key not in ctx.cache:
        ctx.cache[key] = _feature(ctx, stream, stream_id)
    feature: int = ctx.cache[key]
    return feature


def prefetch_features(ctx: WriteContext, stream: EntityType, stream_ids: Collection[int]) -> None:
    """Find the existing generated features of many streams in two queries per chunk.

    An ingest batch over thousands of Datastreams would otherwise ask twice per stream; the
    answers are the ones `feature_from_thing` would find (lowest Location id, lowest feature
    id). Streams whose feature does not exist yet are left to it, which creates the feature.
    """
    wanted = sorted({i for i in stream_ids if ("feature", stream.name, i) not in ctx.cache})
    streams = stream.table
    features = FEATURE_OF_INTEREST.table
    for start in range(0, len(wanted), PREFETCH_CHUNK):
        chunk = wanted[start : start + PREFETCH_CHUNK]
        location_of: dict[int, int] = dict(
            ctx.session.execute(
                select(streams.c.id, func.min(THING_LOCATION.c.location_id))
                .join(THING_LOCATION, THING_LOCATION.c.thing_id == streams.c.thing_id)
                .where(streams.c.id.in_(chunk))
                .group_by(streams.c.id)
            ).all()
        )
        if not location_of:
            continue
        feature_of: dict[int, int] = dict(
            ctx.session.execute(
                select(features.c.source_location_id, func.min(features.c.id))
                .where(features.c.source_location_id.in_(sorted(set(location_of.values()))))
                .where(features.c.tenant_id == ctx.tenant_id)
                .group_by(features.c.source_location_id)
            ).all()
        )
        for stream_id, location_id in location_of.items():
            feature = feature_of.get(location_id)
            if feature is not None:
                ctx.cache[("feature", stream.name, int(stream_id))] = int(feature)


def detach_features(ctx: WriteContext, location_id: int) -> None:
    """Stop reusing the features generated from a Location (its place changed)."""
    table = FEATURE_OF_INTEREST.table
    ctx.session.execute(
        update(table)
        .where(table.c.source_location_id == location_id, table.c.tenant_id == ctx.tenant_id)
        .values(source_location_id=None)
    )
    ctx.cache.clear()


def _feature(ctx: WriteContext, stream: EntityType, stream_id: int) -> int:
    streams = stream.table
    location_id = ctx.session.scalar(
        select(THING_LOCATION.c.location_id)
        .join(streams, streams.c.thing_id == THING_LOCATION.c.thing_id)
        .where(streams.c.id == stream_id)
        .order_by(THING_LOCATION.c.location_id)
        .limit(1)
    )
    if location_id is None:
        raise BadRequest(
            f"Observation: no FeatureOfInterest given and the Thing of {stream.name}"
            f"({stream_id}) has no Location to make one from"
        )
    features = FEATURE_OF_INTEREST.table
    found = ctx.session.scalar(
        select(features.c.id)
        .where(features.c.source_location_id == location_id)
        .where(features.c.tenant_id == ctx.tenant_id)
        .order_by(features.c.id)
        .limit(1)
    )
    if found is not None:
        return int(found)
    locations = LOCATION.table
    location = ctx.session.execute(
        select(
            locations.c.name, locations.c.description, locations.c.location_json, locations.c.geom
        ).where(locations.c.id == location_id)
    ).one()
    return ctx.insert(
        FEATURE_OF_INTEREST,
        {
            "name": location.name,
            "description": location.description,
            "encoding_type": GENERATED_ENCODING,
            "feature_json": location.location_json,
            "geom": location.geom,
            "source_location_id": location_id,
        },
    )

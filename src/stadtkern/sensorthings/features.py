"""The FeatureOfInterest of an Observation sent without one: its Thing's Location.

OGC 18-088 §10.2 (special case #1): the service links the FeatureOfInterest made from the
Location of the Thing, creating it the first time. Stadtkern takes the Thing's first current
Location (lowest id) and remembers the feature's source (`source_location_id`), so one
Location yields one feature. A Location whose `location` changes is detached from its
feature (see `detach_features`), so later Observations get a feature at the new place.
A Thing without a Location: 400.
"""

from __future__ import annotations

from sqlalchemy import select, update

from stadtkern.errors import BadRequest
from stadtkern.sensorthings.catalogue import FEATURE_OF_INTEREST, LOCATION, THING_LOCATION
from stadtkern.sensorthings.entities import EntityType
from stadtkern.sensorthings.write_context import WriteContext

GENERATED_ENCODING = "application/geo+json"


def feature_from_thing(ctx: WriteContext, stream: EntityType, stream_id: int) -> int:
    """The id of the feature generated from the Location of the stream's Thing."""
    key = ("feature", stream.name, stream_id)
    if key not in ctx.cache:
        ctx.cache[key] = _feature(ctx, stream, stream_id)
    feature: int = ctx.cache[key]
    return feature


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

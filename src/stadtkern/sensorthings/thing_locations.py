"""A Thing's current Locations and the HistoricalLocations that record them (OGC 18-088 §8.2.3).

When a Thing gets a new Location the service creates a HistoricalLocation (time: now) with
the Thing's Locations from then on. A Location created for a Thing, or given to it in an
update, replaces the Thing's current Locations: a Thing is at one place, and several
Locations are encodings of that place given together (FROST-Server does the same). A
reference added with `POST Things(1)/Locations/$ref` adds to the current Locations, as
OData's $ref does. A HistoricalLocation created by a client whose time is later than every
other one of its Thing makes its Locations the Thing's current ones
(/req/create-update-delete/historical-location-manual-creation).
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import delete, func, insert, select

from stadtkern.sensorthings.catalogue import (
    HISTORICAL_LOCATION,
    HISTORICAL_LOCATION_LOCATION,
    THING,
    THING_LOCATION,
)
from stadtkern.sensorthings.write_context import WriteContext

LOCATIONS = frozenset({"Locations"})


def move_thing(
    ctx: WriteContext, thing_id: int, location_ids: Iterable[int], *, replace: bool
) -> None:
    """Give a Thing Locations (replacing or adding to its current ones) and record it."""
    new = list(dict.fromkeys(location_ids))
    current = current_locations(ctx, thing_id)
    if replace:
        ctx.session.execute(delete(THING_LOCATION).where(THING_LOCATION.c.thing_id == thing_id))
        current = []
    added = [location for location in new if location not in current]
    if added:
        ctx.session.execute(
            insert(THING_LOCATION),
            [{"thing_id": thing_id, "location_id": location} for location in added],
        )
    if not added and not replace:
        return
    ctx.log.updated(THING, thing_id, LOCATIONS)
    locations = [*current, *added]
    if locations:
        record_history(ctx, thing_id, locations)


def record_history(ctx: WriteContext, thing_id: int, location_ids: list[int]) -> int:
    """A HistoricalLocation of the Thing at these Locations, now."""
    historical = ctx.insert(HISTORICAL_LOCATION, {"thing_id": thing_id, "time": ctx.now})
    ctx.session.execute(
        insert(HISTORICAL_LOCATION_LOCATION),
        [{"historical_location_id": historical, "location_id": loc} for loc in location_ids],
    )
    return historical


def current_locations(ctx: WriteContext, thing_id: int) -> list[int]:
    """The ids of a Thing's current Locations, in id order."""
    query = (
        select(THING_LOCATION.c.location_id)
        .where(THING_LOCATION.c.thing_id == thing_id)
        .order_by(THING_LOCATION.c.location_id)
    )
    return [int(location) for location in ctx.session.scalars(query)]


def apply_manual_history(ctx: WriteContext, historical_id: int) -> None:
    """A client-made HistoricalLocation later than all others moves its Thing there."""
    table = HISTORICAL_LOCATION.table
    row = ctx.session.execute(
        select(table.c.thing_id, table.c.time).where(table.c.id == historical_id)
    ).one()
    latest_other = ctx.session.scalar(
        select(func.max(table.c.time)).where(
            table.c.thing_id == row.thing_id,
            table.c.id != historical_id,
            table.c.tenant_id == ctx.tenant_id,
        )
    )
    if latest_other is not None and row.time <= latest_other:
        return
    locations = [
        int(location)
        for location in ctx.session.scalars(
            select(HISTORICAL_LOCATION_LOCATION.c.location_id).where(
                HISTORICAL_LOCATION_LOCATION.c.historical_location_id == historical_id
            )
        )
    ]
    if not locations:
        return
    ctx.session.execute(delete(THING_LOCATION).where(THING_LOCATION.c.thing_id == row.thing_id))
    ctx.session.execute(
        insert(THING_LOCATION),
        [{"thing_id": row.thing_id, "location_id": location} for location in locations],
    )
    ctx.log.updated(THING, int(row.thing_id), LOCATIONS)

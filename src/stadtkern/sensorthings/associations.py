"""Linking existing entities along a to-many navigation property.

A TARGET link (`Things(1)/Datastreams`) moves the targets to the owner (their foreign key
changes); a TABLE link adds association rows, except that a Thing's Locations follow
`thing_locations` (replace or add, with a HistoricalLocation). The ObservedProperties of a
MultiDatastream are fixed when it is created: their number and order give its results'
shape, so they cannot be linked or unlinked later.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import insert, select

from stadtkern.errors import BadRequest
from stadtkern.sensorthings.catalogue import (
    LOCATION,
    MULTI_DATASTREAM_OBSERVED_PROPERTY,
    THING,
)
from stadtkern.sensorthings.entities import EntityType, Link, LinkKind
from stadtkern.sensorthings.links import reverse, target_of
from stadtkern.sensorthings.thing_locations import move_thing
from stadtkern.sensorthings.write_context import WriteContext


def associate(
    ctx: WriteContext,
    owner: EntityType,
    owner_id: int,
    link: Link,
    ids: Sequence[int],
    *,
    replace: bool,
) -> None:
    """Link existing entities (ids already checked) to the owner along `link`."""
    if not ids:
        return
    if link.table is MULTI_DATASTREAM_OBSERVED_PROPERTY:
        raise BadRequest(fixed_properties_message())
    if owner is THING and link.name == "Locations":
        move_thing(ctx, owner_id, ids, replace=replace)
    elif owner is LOCATION and link.name == "Things":
        for thing in ids:
            move_thing(ctx, thing, [owner_id], replace=replace)
    elif link.kind is LinkKind.TARGET:
        _move_targets(ctx, owner, owner_id, link, ids)
    else:
        _add_rows(ctx, owner_id, link, ids)


def order_properties(ctx: WriteContext, multi_datastream_id: int, ids: Sequence[int]) -> None:
    """The ObservedProperties of a new MultiDatastream, in the order of its results."""
    ctx.session.execute(
        insert(MULTI_DATASTREAM_OBSERVED_PROPERTY),
        [
            {
                "multi_datastream_id": multi_datastream_id,
                "position": position,
                "observed_property_id": property_id,
            }
            for position, property_id in enumerate(ids)
        ],
    )


def fixed_properties_message() -> str:
    """Why the ObservedProperties of a MultiDatastream cannot change."""
    return (
        "the ObservedProperties of a MultiDatastream are fixed when it is created "
        "(they give its results' shape)"
    )


def _move_targets(
    ctx: WriteContext, owner: EntityType, owner_id: int, link: Link, ids: Sequence[int]
) -> None:
    target = target_of(link)
    back = reverse(link, owner)
    for target_id in ids:
        ctx.update(target, target_id, {link.column: owner_id})
        ctx.log.updated(target, target_id, frozenset({back.name}))


def _add_rows(ctx: WriteContext, owner_id: int, link: Link, ids: Sequence[int]) -> None:
    table = link.table
    assert table is not None  # noqa: S101 - a TABLE link names its table
    present = set(
        ctx.session.scalars(
            select(table.c[link.far]).where(
                table.c[link.near] == owner_id, table.c[link.far].in_(ids)
            )
        )
    )
    rows = [{link.near: owner_id, link.far: i} for i in dict.fromkeys(ids) if i not in present]
    if rows:
        ctx.session.execute(insert(table), rows)

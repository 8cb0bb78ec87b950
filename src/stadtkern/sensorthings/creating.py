"""Creating an entity with the entities nested in it, at any depth (deep insert, 18-088 §10.2).

A nested object is either a reference to an existing entity of the tenant (`{"@iot.id": 5}`)
or an entity to create. To-one entities are created before the entity that points to them,
to-many ones after it, linked to it. The caller runs the whole creation inside a savepoint,
so a single invalid nested entity leaves nothing behind. An `@iot.id` at the top of a body
is ignored: the database assigns ids (§10.2: ids in inline content are ignored).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from stadtkern.errors import BadRequest
from stadtkern.sensorthings.associations import associate, order_properties
from stadtkern.sensorthings.bodies import BodyMode, parse_body
from stadtkern.sensorthings.catalogue import (
    HISTORICAL_LOCATION,
    MULTI_DATASTREAM_OBSERVED_PROPERTY,
)
from stadtkern.sensorthings.entities import EntityType, Link, LinkKind
from stadtkern.sensorthings.links import existing, reference_id, reverse, target_of
from stadtkern.sensorthings.rules import after_insert, before_insert
from stadtkern.sensorthings.thing_locations import apply_manual_history
from stadtkern.sensorthings.write_context import WriteContext


@dataclass(frozen=True)
class Bound:
    """A link of the new entity already decided by its parent (URL or enclosing entity)."""

    link: Link
    id: int


def create_entity(
    ctx: WriteContext, entity: EntityType, body: object, bound: Bound | None = None
) -> int:
    """Insert an entity and everything nested in it; return its id."""
    parsed = parse_body(entity, body, mode=BodyMode.CREATE)
    links = _with_bound(entity, parsed.links, bound)
    columns = dict(parsed.columns)
    for link in entity.links:
        if link.kind is LinkKind.OWN:
            _link_one(ctx, entity, link, links.get(link.name), bound, columns)
    before_insert(ctx, entity, columns, links)
    new_id = ctx.insert(entity, columns)
    for link in entity.links:
        if link.to_many:
            _link_many(ctx, entity, new_id, link, links.get(link.name))
    after_insert(ctx, entity, columns)
    if entity is HISTORICAL_LOCATION:
        apply_manual_history(ctx, new_id)
    return new_id


def _with_bound(
    entity: EntityType, links: dict[str, object], bound: Bound | None
) -> dict[str, object]:
    """The body's links, with a to-many link the parent decided added as a reference."""
    if bound is None:
        return links
    name = bound.link.name
    if not bound.link.to_many:
        if name in links:
            raise BadRequest(f"{entity.name}.{name} is given by the URL or enclosing entity")
        return links
    given = links.get(name, [])
    if not isinstance(given, list):
        raise BadRequest(f"{entity.name}.{name}: expected a JSON array")
    return {**links, name: [*given, {"@iot.id": bound.id}]}


def _link_one(
    ctx: WriteContext,
    entity: EntityType,
    link: Link,
    value: object,
    bound: Bound | None,
    columns: dict[str, Any],
) -> None:
    where = f"{entity.name}.{link.name}"
    if bound is not None and bound.link is link:
        columns[link.column] = bound.id  # the parent exists: just created or resolved
    elif value is not None:
        columns[link.column] = _entity_id(ctx, target_of(link), value, where)
    elif link.required:
        raise BadRequest(f"{entity.name} needs a {link.name} (an @iot.id or a nested entity)")


def _link_many(
    ctx: WriteContext,
    owner: EntityType,
    owner_id: int,
    link: Link,
    value: object,
) -> None:
    where = f"{owner.name}.{link.name}"
    ids: list[int] = []
    if value is not None and not isinstance(value, list):
        raise BadRequest(f"{where}: expected a JSON array")
    target = target_of(link)
    back = Bound(reverse(link, owner), owner_id)
    for index, item in enumerate(value or []):
        place = f"{where}[{index}]"
        known = reference_id(item, place)
        if known is not None:
            ids.append(existing(ctx, target, known, place))
        elif link.kind is LinkKind.TARGET:
            create_entity(ctx, target, item, back)  # created already linked to the owner
        else:
            ids.append(create_entity(ctx, target, item))
    if link.table is MULTI_DATASTREAM_OBSERVED_PROPERTY and link.ordered_by:
        order_properties(ctx, owner_id, ids)
    else:
        associate(ctx, owner, owner_id, link, ids, replace=True)


def _entity_id(ctx: WriteContext, target: EntityType, value: object, where: str) -> int:
    known = reference_id(value, where)
    if known is not None:
        return existing(ctx, target, known, where)
    return create_entity(ctx, target, value)

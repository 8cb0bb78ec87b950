"""References to existing entities in request bodies: `{"@iot.id": 5}` and `@iot.selfLink`.

A reference must name an entity of the same tenant. One that does not is answered with
400 Bad Request (not 404): the URL addresses an existing resource, it is the body that
is wrong, as with any other invalid member.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from sqlalchemy import select

from stadtkern.errors import BadRequest
from stadtkern.sensorthings.catalogue import ENTITY_TYPES
from stadtkern.sensorthings.entities import EntityType, Link, LinkKind
from stadtkern.sensorthings.paths import PathError, parse_id
from stadtkern.sensorthings.write_context import WriteContext

_SELF_LINK = re.compile(r"(?:^|/)([A-Za-z]+)\(([^()]*)\)/?$")
CONTROL = frozenset({"@iot.id", "@iot.selfLink"})


def reference_id(value: object, where: str) -> int | None:
    """The id of a reference `{"@iot.id": n}`; None for an inline entity to create."""
    if not isinstance(value, Mapping):
        raise BadRequest(f"{where}: expected a JSON object")
    if "@iot.id" not in value:
        return None
    extra = sorted(set(value) - CONTROL)
    if extra:
        raise BadRequest(f"{where}: a reference by @iot.id takes no other members: {extra}")
    return _id(value["@iot.id"], where)


def ref_body_id(body: object, target: EntityType, where: str) -> int:
    """The id a $ref body names, by `@iot.id` or by `@iot.selfLink` (of the target's set)."""
    if not isinstance(body, Mapping):
        raise BadRequest(f"{where}: expected a JSON object")
    if "@iot.id" in body:
        return _id(body["@iot.id"], where)
    link = body.get("@iot.selfLink")
    if not isinstance(link, str):
        raise BadRequest(f"{where}: expected @iot.id or @iot.selfLink")
    match = _SELF_LINK.search(link)
    if match is None or match[1] != target.set_name:
        raise BadRequest(f"{where}: {link!r} is not the selfLink of one of the {target.set_name}")
    return _id(match[2], where)


def existing(ctx: WriteContext, entity: EntityType, entity_id: int, where: str) -> int:
    """The id, after checking that the tenant has such an entity; BadRequest otherwise.

    The row is locked FOR KEY SHARE (PostgreSQL) until the transaction ends, as a foreign
    key's check would: a concurrent delete waits, so nothing links to an entity gone (the
    Observations have no foreign keys there, see migration sensorthings_0006).
    """
    table = entity.table
    found = ctx.session.scalar(
        select(table.c.id)
        .where(table.c.id == entity_id, table.c.tenant_id == ctx.tenant_id)
        .with_for_update(read=True, key_share=True)
    )
    if found is None:
        raise BadRequest(f"{where}: there is no {entity.name} with @iot.id {entity_id}")
    return entity_id


def target_of(link: Link) -> EntityType:
    """The entity type a link leads to."""
    return ENTITY_TYPES[link.target]


def reverse(link: Link, owner: EntityType) -> Link:
    """The link of the target type that leads back to `owner` along the same row."""
    for candidate in target_of(link).links:
        if candidate.target != owner.name or candidate.kind is LinkKind.TARGET:
            continue
        if link.kind is LinkKind.TARGET and candidate.column == link.column:
            return candidate
        if link.kind is LinkKind.TABLE and candidate.table is link.table:
            return candidate
    raise LookupError(f"{owner.name}.{link.name} has no reverse link")  # pragma: no cover


def _id(value: object, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise BadRequest(f"{where}: @iot.id must be an integer")
    try:
        return parse_id(str(value))
    except PathError as exc:
        raise BadRequest(f"{where}: {exc}") from exc

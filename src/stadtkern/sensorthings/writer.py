"""The writing side of the SensorThings API (OGC 18-088 §10, §14.4; OGC 17-079r1 Tasks).

The HTTP, MQTT and $batch adapters call these functions with an open write session; they
never commit (the adapter's `database.write()` does) and raise stadtkern.errors: BadRequest
for invalid bodies, NotFound for paths naming nothing of the tenant. Every function runs
inside a savepoint, so a failed call leaves the session as it found it (one invalid entity
nested anywhere in a deep insert and nothing is created), and $batch change sets can go on.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from stadtkern.core.refs import TenantRef
from stadtkern.db.base import utcnow
from stadtkern.errors import BadRequest
from stadtkern.sensorthings.associations import associate
from stadtkern.sensorthings.changes import Change, Written
from stadtkern.sensorthings.create_observations import create_observation_rows
from stadtkern.sensorthings.creating import Bound, create_entity
from stadtkern.sensorthings.deleting import delete_entity, unlink
from stadtkern.sensorthings.entities import EntityType, Link
from stadtkern.sensorthings.json_patch import apply_patch, json_equal
from stadtkern.sensorthings.links import existing, ref_body_id, reverse
from stadtkern.sensorthings.paths import ResourcePath
from stadtkern.sensorthings.resolve import Resolved, resolve
from stadtkern.sensorthings.snapshot import writable_document
from stadtkern.sensorthings.stream_times import widen_streams
from stadtkern.sensorthings.updating import update_entity
from stadtkern.sensorthings.write_context import WriteContext

__all__ = [
    "Change",
    "Written",
    "add_reference",
    "create",
    "create_observations",
    "delete",
    "delete_reference",
    "patch_json",
    "update",
]


def create(
    session: Session, tenant: TenantRef, path: ResourcePath, body: object, *, now: datetime
) -> Written:
    """POST to an entity set or a navigation collection (`Things(1)/Datastreams`)."""
    if not _plain(path) or not path.is_collection:
        raise BadRequest(
            "POST creates entities in a collection, e.g. Things or Things(1)/Locations"
        )
    resolved = resolve(session, tenant.id, path)
    ctx = WriteContext(session, tenant.id, now)
    bound = None
    if resolved.parent is not None:
        parent = resolved.parent
        # Locked as a foreign key's check would (the Observations have none on PostgreSQL).
        existing(ctx, parent.entity, parent.id, parent.entity.name)
        bound = Bound(reverse(parent.link, parent.entity), parent.id)
    with ctx.savepoint():
        new_id = create_entity(ctx, resolved.entity, body, bound)
        widen_streams(ctx)
    return Written(resolved.entity, new_id, ctx.log.changes())


def update(
    session: Session,
    tenant: TenantRef,
    path: ResourcePath,
    body: object,
    *,
    replace: bool,
    now: datetime,
) -> Written:
    """PATCH (replace=False: merge the members given) or PUT (replace=True: missing optional
    fields are reset, missing required ones are an error) one entity."""
    resolved, entity_id = _entity(session, tenant, path)
    ctx = WriteContext(session, tenant.id, now)
    with ctx.savepoint():
        update_entity(ctx, resolved.entity, entity_id, body, replace=replace)
    return Written(resolved.entity, entity_id, ctx.log.changes())


def patch_json(
    session: Session, tenant: TenantRef, path: ResourcePath, operations: object, *, now: datetime
) -> Written:
    """PATCH with a JSON Patch (RFC 6902) applied to the entity's writable fields.

    Paths may reach into JSON fields (`/properties/owner`); `add` of a navigation property
    (`/Thing` with `{"@iot.id": 2}`) rebinds it. Removing a field sets it to null. A failed
    `test` or an invalid path raises BadRequest (json_patch.PatchTestFailed for the former).
    """
    resolved, entity_id = _entity(session, tenant, path)
    ctx = WriteContext(session, tenant.id, now)
    document = writable_document(ctx, resolved.entity, entity_id)
    patched = apply_patch(document, operations)
    if not isinstance(patched, dict):
        raise BadRequest("JSON Patch: the entity must stay a JSON object")
    body: dict[str, Any] = {name: None for name in document if name not in patched}
    for name, value in patched.items():
        if name not in document or not json_equal(document[name], value):
            body[name] = value
    with ctx.savepoint():
        update_entity(ctx, resolved.entity, entity_id, body, replace=False)
    return Written(resolved.entity, entity_id, ctx.log.changes())


def delete(session: Session, tenant: TenantRef, path: ResourcePath) -> tuple[Change, ...]:
    """DELETE one entity; what depends on it goes too (18-088 table 25)."""
    resolved, entity_id = _entity(session, tenant, path)
    ctx = WriteContext(session, tenant.id, utcnow())
    with ctx.savepoint():
        delete_entity(ctx, resolved.entity, entity_id)
    return ctx.log.changes()


def add_reference(
    session: Session,
    tenant: TenantRef,
    path: ResourcePath,
    body: object,
    *,
    now: datetime | None = None,
) -> None:
    """POST `Things(1)/Locations/$ref` (adds a link) or PUT `Datastreams(1)/Thing/$ref`
    (replaces a to-one link) with `{"@iot.id": n}` or `{"@iot.selfLink": url}`."""
    owner, owner_id, link = _reference_owner(session, tenant, path)
    if path.last.id is not None:
        raise BadRequest("a $ref is added to the collection, e.g. Things(1)/Locations/$ref")
    ctx = WriteContext(session, tenant.id, now or utcnow())
    with ctx.savepoint():
        target_id = ref_body_id(body, path.target, "$ref")
        existing(ctx, path.target, target_id, "$ref")
        if link.to_many:
            associate(ctx, owner, owner_id, link, [target_id], replace=False)
        else:
            update_entity(ctx, owner, owner_id, {link.name: {"@iot.id": target_id}}, replace=False)
        widen_streams(ctx)


def delete_reference(session: Session, tenant: TenantRef, path: ResourcePath) -> None:
    """DELETE `Things(1)/Locations(2)/$ref`: unlink, where the link is optional."""
    owner, owner_id, link = _reference_owner(session, tenant, path)
    if link.to_many and path.last.id is None:
        raise BadRequest("name the linked entity, e.g. Things(1)/Locations(2)/$ref")
    target = resolve(session, tenant.id, ResourcePath(path.segments))
    assert target.id is not None  # noqa: S101 - an id or a to-one step names one entity
    ctx = WriteContext(session, tenant.id, utcnow())
    with ctx.savepoint():
        unlink(ctx, owner, owner_id, link, target.id)


def create_observations(
    session: Session, tenant: TenantRef, body: object, *, now: datetime
) -> tuple[list[str | int], tuple[Change, ...]]:
    """POST CreateObservations (dataArray): one id per row, or "error" for a row that failed."""
    ctx = WriteContext(session, tenant.id, now)
    with ctx.savepoint():
        created = create_observation_rows(ctx, body)
        widen_streams(ctx)
    return created, ctx.log.changes()


def _plain(path: ResourcePath) -> bool:
    return path.field is None and not (path.id_property or path.value or path.ref)


def _entity(session: Session, tenant: TenantRef, path: ResourcePath) -> tuple[Resolved, int]:
    if not _plain(path) or path.is_collection:
        raise BadRequest("the path must address one entity, e.g. Things(1)")
    resolved = resolve(session, tenant.id, path)
    assert resolved.id is not None  # noqa: S101 - not a collection, so one entity
    return resolved, resolved.id


def _reference_owner(
    session: Session, tenant: TenantRef, path: ResourcePath
) -> tuple[EntityType, int, Link]:
    link, parent = path.last.link, path.parent
    if not path.ref or link is None or parent is None:
        raise BadRequest("a $ref path names a navigation property, e.g. Things(1)/Locations/$ref")
    owner, owner_id = _entity(session, tenant, parent)
    return owner.entity, owner_id, link

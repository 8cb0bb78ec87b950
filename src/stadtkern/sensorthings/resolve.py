"""Resolving a resource path against the database: which entity or collection it names.

Every step checks the tenant, so an id of another town's entity is as unknown as an id that
does not exist (404), and a navigation step checks that the entities are really linked.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.selectable import FromClause

from stadtkern.errors import NotFound
from stadtkern.sensorthings.entities import EntityType, Link, LinkKind
from stadtkern.sensorthings.paths import ResourcePath


@dataclass(frozen=True)
class Parent:
    """The entity a navigation collection hangs off: `Things(1)/Datastreams` -> Thing 1."""

    entity: EntityType
    id: int
    link: Link  # from the parent to the collection's entities


@dataclass(frozen=True)
class Resolved:
    """What a path names: one entity (id set) or a collection (id None), with its parent."""

    entity: EntityType
    id: int | None
    parent: Parent | None = None

    def members(self, row: FromClause) -> ColumnElement[bool] | None:
        """For a navigation collection: the condition that `row` belongs to it."""
        if self.parent is None:
            return None
        return membership(self.parent.link, self.parent.id, row)


def membership(link: Link, parent_id: int, row: FromClause) -> ColumnElement[bool]:
    """The condition that `row` (of the link's target type) is linked to the parent entity."""
    if link.kind is LinkKind.TARGET:
        return row.c[link.column] == parent_id
    if link.kind is LinkKind.TABLE:
        assert link.table is not None  # noqa: S101 - a TABLE link names its table
        association = link.table
        return row.c.id.in_(
            select(association.c[link.far]).where(association.c[link.near] == parent_id)
        )
    raise ValueError(f"{link.name} is a to-one link and has no members")


def resolve(session: Session, tenant_id: int, path: ResourcePath) -> Resolved:
    """The entity or collection `path` names; NotFound when a step does not exist."""
    resolved: Resolved | None = None
    for segment in path.segments:
        entity, table = segment.entity, segment.entity.table
        if resolved is None:
            if segment.id is None:
                return Resolved(entity, None)
            _check(session, select(table.c.id).where(table.c.id == segment.id), tenant_id, entity)
            resolved = Resolved(entity, segment.id)
            continue
        parent_id = resolved.id
        assert parent_id is not None  # noqa: S101 - the parser allows no step after a set
        link = segment.link
        assert link is not None  # noqa: S101 - every later segment is a navigation
        if not link.to_many:
            parent_table = resolved.entity.table
            target_id = session.scalar(
                select(parent_table.c[link.column]).where(parent_table.c.id == parent_id)
            )
            if target_id is None:
                raise NotFound(f"{resolved.entity.name}({resolved.id}) has no {link.name}")
            resolved = Resolved(entity, int(target_id))
            continue
        parent = Parent(resolved.entity, parent_id, link)
        if segment.id is None:
            return Resolved(entity, None, parent)
        query = select(table.c.id).where(
            table.c.id == segment.id, membership(link, parent_id, table)
        )
        _check(session, query, tenant_id, entity, parent)
        resolved = Resolved(entity, segment.id)
    assert resolved is not None  # noqa: S101 - a path has at least one segment
    return resolved


def _check(
    session: Session,
    query: Select[tuple[Any]],
    tenant_id: int,
    entity: EntityType,
    parent: Parent | None = None,
) -> None:
    found = session.scalar(query.where(entity.table.c.tenant_id == tenant_id))
    if found is None:
        where = "" if parent is None else f" linked to {parent.entity.name}({parent.id})"
        raise NotFound(f"no {entity.name} with this id{where}")

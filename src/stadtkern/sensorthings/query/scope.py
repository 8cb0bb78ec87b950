"""Resolving property paths: plain columns, to-one navigation, to-many binding, JSON keys."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.sql.elements import ColumnElement

from stadtkern.sensorthings.query.errors import QueryError
from stadtkern.sensorthings.query.expressions import Binary as BinaryNode
from stadtkern.sensorthings.query.expressions import Call, Expression, Negate, Not, Path
from stadtkern.sensorthings.query.kinds import Kind
from stadtkern.sensorthings.query.operands import JsonValue, Operand
from stadtkern.sensorthings.query.properties import Property, PropertyMap

Prefix = tuple[str, ...]


@dataclass(frozen=True)
class Scope:
    """The root entity, plus to-many prefixes already bound to a related entity's alias."""

    root: PropertyMap
    bound: tuple[tuple[Prefix, PropertyMap], ...] = ()

    def bind(self, prefix: Prefix, entity: PropertyMap) -> Scope:
        """This scope with `prefix` standing for the related rows of `entity`."""
        return Scope(self.root, ((prefix, entity), *self.bound))

    def _start(self, segments: Prefix) -> tuple[PropertyMap, int]:
        best: tuple[PropertyMap, int] = (self.root, 0)
        for prefix, entity in self.bound:
            if segments[: len(prefix)] == prefix and len(prefix) > best[1]:
                best = (entity, len(prefix))
        return best

    def join(self, prefix: Prefix) -> tuple[PropertyMap, ColumnElement[bool]]:
        """The related entity at the end of `prefix` and its link to the entity before it."""
        entity, index = self._start(prefix[:-1])
        links: list[ColumnElement[bool]] = []
        for segment in prefix[index:-1]:
            entity, link = entity.navigations[segment].join()
            links.append(link)
        related, last = entity.navigations[prefix[-1]].join()
        return related, and_(last, *links)

    def unbound_to_many(self, path: Path) -> Prefix | None:
        """The shortest prefix of `path` that crosses a to-many navigation not yet bound."""
        entity, index = self._start(path.segments)
        for offset, segment in enumerate(path.segments[index:], start=index):
            navigation = entity.navigations.get(segment)
            if navigation is None:
                return None
            if navigation.to_many:
                return path.segments[: offset + 1]
            entity, _ = navigation.join()
        return None

    def resolve(self, path: Path) -> Operand:
        """The operand a path denotes; to-one hops become scalar subqueries."""
        entity, index = self._start(path.segments)
        links: list[ColumnElement[bool]] = []
        for offset in range(index, len(path.segments)):
            segment = path.segments[offset]
            if segment in entity.properties:
                prop = entity.properties[segment]
                keys = path.segments[offset + 1 :]
                return _operand(prop, keys, links, path, entity)
            navigation = entity.navigations.get(segment)
            if navigation is None:
                raise QueryError(f"{entity.entity} has no property {segment!r}", path.position)
            if navigation.to_many:
                raise QueryError(
                    f"{segment!r} is a to-many navigation; only a comparison or a boolean "
                    "function can reach through it",
                    path.position,
                )
            entity, link = navigation.join()
            links.append(link)
        raise QueryError(f"{'/'.join(path.segments)!r} is an entity, not a property", path.position)


def _operand(
    prop: Property,
    keys: Prefix,
    links: list[ColumnElement[bool]],
    path: Path,
    entity: PropertyMap,
) -> Operand:
    if keys and prop.kind is not Kind.JSON:
        raise QueryError(
            f"{entity.entity} property {path.segments[-len(keys) - 1]!r} is a {prop.kind} "
            f"and has no member {keys[0]!r}",
            path.position,
        )

    def reach(column: ColumnElement[Any]) -> ColumnElement[Any]:
        if not links:
            return column
        # Correlated explicitly: inside an EXISTS over a to-many hop, the path may start at
        # the root entity two levels up, which auto-correlation (the enclosing SELECT only)
        # would cross join instead (several rows from a scalar subquery on PostgreSQL).
        return select(column).where(and_(*links)).correlate_except(None).scalar_subquery()

    column = reach(prop.column)
    # An instant may be stored with end NULL; it is the interval [start, start].
    end = None if prop.end is None else func.coalesce(reach(prop.end), column)
    json = None
    if prop.kind is Kind.JSON:
        typed = {kind: reach(alternative) for kind, alternative in prop.alternatives.items()}
        json = JsonValue(column, keys, typed if not keys else {})
    return Operand(column, prop.kind, end=end, json=json)


def paths_in(expression: Expression) -> list[Path]:
    """Every property path in an expression, in order of appearance."""
    if isinstance(expression, Path):
        return [expression]
    if isinstance(expression, Call):
        return [path for argument in expression.arguments for path in paths_in(argument)]
    if isinstance(expression, Not | Negate):
        return paths_in(expression.operand)
    if isinstance(expression, BinaryNode):
        return paths_in(expression.left) + paths_in(expression.right)
    return []

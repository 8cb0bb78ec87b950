"""Expanding navigation properties of a whole page at once: one query per node of the plan.

The related rows of all parents on a level come in one query (an IN over the parents' ids,
in chunks for very large pages). A to-many navigation's `$top`/`$skip` apply per parent
through `row_number() over (partition by parent ...)`, and `$count` through a windowed
count over the same partition, so no query runs per parent entity.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, RowMapping, func, or_, select
from sqlalchemy.orm import Session

from stadtkern.sensorthings.entities import EntityType, LinkKind
from stadtkern.sensorthings.expand_plan import Expansion
from stadtkern.sensorthings.pages import Window, chunks, conditions, ordering, paged_url, window
from stadtkern.sensorthings.render import needed_columns, render_entity, select_fields, self_link
from stadtkern.sensorthings.settings import SensorThingsSettings

EXPAND = "$expand"
Node = tuple[RowMapping, dict[str, Any]]  # an entity row and the JSON rendered from it
_PARENT, _RANK, _TOTAL = "sta_parent", "sta_rank", "sta_total"


def link_columns(expansions: Sequence[Expansion]) -> list[str]:
    """Columns a parent row needs so that its to-one navigations can be expanded."""
    return [item.link.column for item in expansions if item.link.kind is LinkKind.OWN]


@dataclass(frozen=True)
class Expander:
    """Expands the navigation properties of rendered entities of one tenant, in place."""

    session: Session
    tenant_id: int
    base_url: str
    settings: SensorThingsSettings

    def expand(
        self, entity: EntityType, nodes: Sequence[Node], expansions: Sequence[Expansion]
    ) -> None:
        """Add every expanded navigation of `expansions` to the bodies of `nodes`."""
        if not nodes:
            return
        for expansion in expansions:
            if expansion.link.to_many:
                self._expand_many(entity, nodes, expansion)
            else:
                self._expand_one(nodes, expansion)

    def _render(self, expansion: Expansion, rows: Sequence[RowMapping]) -> list[Node]:
        """The entities of `rows` as JSON, with their own expansions."""
        target = expansion.target
        selection = select_fields(target, expansion.options.select, EXPAND)
        nodes = [(row, render_entity(target, row, selection, self.base_url)) for row in rows]
        self.expand(target, nodes, expansion.children)
        return nodes

    def _columns(self, expansion: Expansion) -> list[Any]:
        target = expansion.target
        selection = select_fields(target, expansion.options.select, EXPAND)
        return needed_columns(target, selection, link_columns(expansion.children))

    def _expand_one(self, nodes: Sequence[Node], expansion: Expansion) -> None:
        """A to-one navigation: the related entity as an object, left out when there is none."""
        link, target = expansion.link, expansion.target
        ids = sorted({int(row[link.column]) for row, _ in nodes if row[link.column] is not None})
        where = conditions(target, self.tenant_id, expansion.options.filter, within=EXPAND)
        query = select(*self._columns(expansion)).where(*where)
        rows = [
            row
            for chunk in chunks(ids)
            for row in self.session.execute(query.where(target.table.c.id.in_(chunk))).mappings()
        ]
        related = {int(row["id"]): body for row, body in self._render(expansion, rows)}
        for row, body in nodes:
            target_id = row[link.column]
            if target_id is not None and int(target_id) in related:
                body[link.name] = related[int(target_id)]

    def _expand_many(self, entity: EntityType, nodes: Sequence[Node], expansion: Expansion) -> None:
        """A to-many navigation: a page of related entities per parent, with count and link."""
        name, options = expansion.link.name, expansion.options
        frame = window(options, self.settings)
        parent_ids = sorted({int(row["id"]) for row, _ in nodes})
        rows = self._related_rows(expansion, parent_ids, frame)
        totals = {int(row[_PARENT]): int(row[_TOTAL]) for row in rows} if options.count else {}
        last = frame.skip + frame.top
        shown = [row for row in rows if frame.skip < row[_RANK] <= last]
        truncated = {int(row[_PARENT]) for row in rows if row[_RANK] > last}
        groups: dict[int, list[dict[str, Any]]] = {}
        for row, body in self._render(expansion, shown):
            groups.setdefault(int(row[_PARENT]), []).append(body)
        query = expansion.link_query()
        for row, body in nodes:
            parent = int(row["id"])
            if options.count:
                body[f"{name}@iot.count"] = totals.get(parent, 0)
            body[name] = groups.get(parent, [])
            if parent in truncated and frame.top > 0 and query is not None:
                url = f"{self_link(self.base_url, entity, parent)}/{name}"
                body[f"{name}@iot.nextLink"] = paged_url(url, query, frame.next)

    def _related_rows(
        self, expansion: Expansion, parent_ids: list[int], frame: Window
    ) -> list[RowMapping]:
        """Rows of the target linked to the parents, each with its parent and rank."""
        link, target, options = expansion.link, expansion.target, expansion.options
        table = target.table
        source: Any = table
        default_order: list[ColumnElement[Any]] = []
        if link.kind is LinkKind.TABLE:
            assert link.table is not None  # noqa: S101 - a TABLE link names its table
            # An alias: filters may reach through the same association table in subqueries.
            association = link.table.alias()
            source = table.join(association, association.c[link.far] == table.c.id)
            parent_key = association.c[link.near]
            if link.ordered_by:
                default_order = [association.c[link.ordered_by].asc()]
        else:
            parent_key = table.c[link.column]
        order = ordering(target, options.orderby, default_order, within=EXPAND)
        ranked = [
            *self._columns(expansion),
            parent_key.label(_PARENT),
            func.row_number().over(partition_by=parent_key, order_by=order).label(_RANK),
        ]
        if options.count:
            ranked.append(func.count().over(partition_by=parent_key).label(_TOTAL))
        where = conditions(target, self.tenant_id, options.filter, within=EXPAND)
        rows: list[RowMapping] = []
        for chunk in chunks(parent_ids):
            inner = (
                select(*ranked).select_from(source).where(*where, parent_key.in_(chunk)).subquery()
            )
            rank = inner.c[_RANK]
            # The first row of a parent carries its count even when $skip passes over it.
            keep = or_(rank > frame.skip, rank == 1) if options.count else rank > frame.skip
            query = (
                select(inner)
                .where(keep, rank <= frame.skip + frame.top + 1)
                .order_by(inner.c[_PARENT], rank)
            )
            rows.extend(self.session.execute(query).mappings())
        return rows

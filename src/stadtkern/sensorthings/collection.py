"""Loading entities for a read: one entity or one page of a collection, rendered and expanded.

A page costs one query, one more for `$count=true` (in the request's count mode), and one
per node of the `$expand` tree. Pages continue by `$skiptoken` (keyset.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Column, ColumnElement, func, select
from sqlalchemy.orm import Session

from stadtkern.errors import BadRequest, NotFound
from stadtkern.sensorthings.context import ReadContext
from stadtkern.sensorthings.counting import Count, count_mode, count_rows
from stadtkern.sensorthings.entities import EntityType, LinkKind
from stadtkern.sensorthings.expand import Expander, Node, link_columns
from stadtkern.sensorthings.expand_plan import Expansion, plan_expansions
from stadtkern.sensorthings.keyset import (
    SKIP_TOKEN,
    KeyOrder,
    decode_token,
    encode_token,
    order_keys,
    scope_of,
)
from stadtkern.sensorthings.pages import (
    Page,
    Window,
    conditions,
    fetch_page,
    ordering,
    paged_url,
    token_url,
    window,
)
from stadtkern.sensorthings.paths import ResourcePath
from stadtkern.sensorthings.query import QueryOptions
from stadtkern.sensorthings.render import Selection, needed_columns, render_entity, select_fields
from stadtkern.sensorthings.resolve import Resolved


@dataclass(frozen=True)
class Listing:
    """Rendered entities (one, or a page of a collection) and what produced them."""

    entity: EntityType
    selection: Selection
    expansions: tuple[Expansion, ...]
    nodes: list[Node]
    count: int | None = None
    next_link: str | None = None
    counted: Count | None = None  # the count with its mode; `count` is its number


@dataclass(frozen=True)
class CollectionQuery:
    """The WHERE and ORDER BY terms and the window of a collection's page.

    `where` selects the whole filtered collection (what `$count` counts); under keyset
    paging, `keys` takes the order apart and `after` holds the key of the row a
    `$skiptoken` continues after.
    """

    where: list[ColumnElement[bool]]
    order: list[ColumnElement[Any]]
    frame: Window
    keys: KeyOrder | None = None
    scope: str = ""
    after: list[Any] | None = None


def collection_query(
    context: ReadContext, resolved: Resolved, options: QueryOptions
) -> CollectionQuery:
    """The terms selecting a page of the collection `resolved` names, under `options`."""
    entity = resolved.entity
    members = resolved.members(entity.table)
    where = conditions(entity, context.tenant.id, options.filter, members)
    order = ordering(entity, options.orderby, _default_order(resolved))
    frame = window(options, context.settings)
    keys = order_keys(order)
    scope = scope_of(_collection_name(resolved), context.raw_option("$orderby"))
    after = None
    if options.skiptoken is not None:
        if keys is None:
            raise BadRequest(f"{SKIP_TOKEN}: this collection's order continues by $skip only")
        if options.skip:
            raise BadRequest(f"{SKIP_TOKEN} and $skip cannot be combined")
        after = decode_token(options.skiptoken, scope, len(keys.terms))
    if keys is not None:
        order = keys.order()
    return CollectionQuery(where, order, frame, keys, scope, after)


def fetch_collection(
    session: Session,
    context: ReadContext,
    columns: Sequence[Column[Any]],
    query: CollectionQuery,
    options: QueryOptions,
) -> Page:
    """One page of a collection: its rows, its count when asked, and the next page's token."""
    where, labels = list(query.where), []
    if query.keys is not None:
        labels = query.keys.labels()
        if query.after is not None:
            where.append(query.keys.after(query.after))
    page = fetch_page(session, columns, where, query.order, query.frame, count=False, keys=labels)
    counted = None
    if options.count:
        mode, annotate = count_mode(context)
        table = columns[0].table
        limit = context.settings.count_limit
        counted = count_rows(session, table, query.where, mode, limit=limit, annotate=annotate)
    token = None
    if page.more and query.keys is not None:
        token = encode_token(query.scope, query.keys.values(page.rows[-1]))
    count = None if counted is None else counted.value
    return Page(page.rows, count, page.more, counted, token)


def next_page_link(
    context: ReadContext, path: ResourcePath, page: Page, frame: Window
) -> str | None:
    """The `@iot.nextLink` of a page: the same request one page further, if there is more."""
    if not page.more:
        return None
    url = f"{context.base_url}/{path.text()}"
    if page.token is not None:
        return token_url(url, context.query_items, frame.top, page.token)
    return paged_url(url, context.query_items, frame.next)


def list_entities(
    session: Session,
    context: ReadContext,
    path: ResourcePath,
    resolved: Resolved,
    options: QueryOptions,
    extra: Sequence[str] = (),
) -> Listing:
    """One page of the collection `resolved` names, rendered and expanded.

    `extra` names further columns of the entity's table the rows should carry.
    """
    entity = resolved.entity
    selection, expansions = _shape(context, entity, options)
    columns = needed_columns(entity, selection, [*link_columns(expansions), *extra])
    query = collection_query(context, resolved, options)
    page = fetch_collection(session, context, columns, query, options)
    nodes = _render(session, context, entity, selection, expansions, page.rows)
    link = next_page_link(context, path, page, query.frame)
    return Listing(entity, selection, expansions, nodes, page.count, link, page.counted)


def load_entity(
    session: Session,
    context: ReadContext,
    entity: EntityType,
    entity_id: int,
    options: QueryOptions,
    extra: Sequence[str] = (),
) -> Listing:
    """One entity of the tenant, rendered and expanded; NotFound when there is none."""
    selection, expansions = _shape(context, entity, options)
    columns = needed_columns(entity, selection, [*link_columns(expansions), *extra])
    table = entity.table
    query = select(*columns).where(table.c.id == entity_id, table.c.tenant_id == context.tenant.id)
    row = session.execute(query).mappings().first()
    if row is None:
        raise NotFound(f"no {entity.name} with this id")
    nodes = _render(session, context, entity, selection, expansions, [row])
    return Listing(entity, selection, expansions, nodes)


def _shape(
    context: ReadContext, entity: EntityType, options: QueryOptions
) -> tuple[Selection, tuple[Expansion, ...]]:
    selection = select_fields(entity, options.select)
    raw_expand = context.raw_option("$expand")
    depth = context.settings.max_expand_depth
    return selection, plan_expansions(entity, options.expand, raw_expand, depth)


def _render(
    session: Session,
    context: ReadContext,
    entity: EntityType,
    selection: Selection,
    expansions: tuple[Expansion, ...],
    rows: Sequence[Any],
) -> list[Node]:
    nodes = [(row, render_entity(entity, row, selection, context.base_url)) for row in rows]
    expander = Expander(session, context.tenant.id, context.base_url, context.settings)
    expander.expand(entity, nodes, expansions)
    return nodes


def _collection_name(resolved: Resolved) -> str:
    """`Datastreams(5)/Observations` or `Things`: what a `$skiptoken` belongs to."""
    parent = resolved.parent
    if parent is None:
        return resolved.entity.set_name
    return f"{parent.entity.set_name}({parent.id})/{parent.link.name}"


def _default_order(resolved: Resolved) -> list[ColumnElement[Any]]:
    """A MultiDatastream's ObservedProperties come in the order of its result arrays."""
    parent = resolved.parent
    if parent is None or parent.link.kind is not LinkKind.TABLE or not parent.link.ordered_by:
        return []
    link, table = parent.link, resolved.entity.table
    assert link.table is not None  # noqa: S101 - a TABLE link names its table
    association = link.table.alias()
    position = (
        select(func.min(association.c[link.ordered_by]))
        .where(association.c[link.near] == parent.id, association.c[link.far] == table.c.id)
        .scalar_subquery()
    )
    return [position.asc()]

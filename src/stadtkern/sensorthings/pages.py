"""Pages of a collection: `$filter`, `$orderby`, `$top`, `$skip`, `$count` and `@iot.nextLink`.

One page is one query for `top + 1` rows (the extra row tells that more exist) plus, with
`$count=true`, one count of the filtered collection (counting.py). Top-level collections
continue by `$skiptoken` (keyset.py); `$skip` is what clients may send and what nested
(`$expand`) collections link with.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import quote

from sqlalchemy import Column, RowMapping, func, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from stadtkern.errors import BadRequest
from stadtkern.sensorthings.counting import Count
from stadtkern.sensorthings.entities import EntityType
from stadtkern.sensorthings.maps import property_map
from stadtkern.sensorthings.query import (
    Expression,
    OrderKey,
    QueryError,
    QueryOptions,
    compile_filter,
    compile_orderby,
)
from stadtkern.sensorthings.settings import SensorThingsSettings

T = TypeVar("T")
# Bound parameters per IN list: far below SQLite's limit of 32766 variables per statement.
CHUNK = 5000
# Characters left readable in links; everything else in names and values is percent-encoded.
_SAFE = "$/:'(),;@"
_PAGING = ("$top", "$skip", "$skiptoken")


@dataclass(frozen=True)
class Window:
    """`$skip` and `$top` of a collection, after the default and the cap are applied."""

    skip: int
    top: int

    @property
    def next(self) -> Window:
        """The window of the following page."""
        return Window(self.skip + self.top, self.top)


@dataclass(frozen=True)
class Page:
    """The rows of one page, the size of the whole filtered collection if asked, and more."""

    rows: list[RowMapping]
    count: int | None
    more: bool
    counted: Count | None = None  # the count with its mode (countMode=), when asked
    token: str | None = None  # the `$skiptoken` of the next page, under keyset paging


def window(options: QueryOptions, settings: SensorThingsSettings) -> Window:
    """`$top` (default `default_top`, capped at `max_top`) and `$skip` of a collection."""
    top = settings.default_top if options.top is None else options.top
    return Window(options.skip or 0, min(top, settings.max_top))


def compiled(build: Callable[[], T], option: str, within: str | None = None) -> T:
    """Compile a query option; a QueryError becomes a 400 Bad Request naming the option.

    Options nested in `$expand` name both, as positions count within the `$expand` value.
    """
    try:
        return build()
    except QueryError as error:
        if within is None:
            error = error.in_option(option)
        else:
            error = QueryError(f"{option}: {error.reason}", error.position, within)
        raise BadRequest(str(error)) from None


def conditions(
    entity: EntityType,
    tenant_id: int,
    expression: Expression | None,
    *extra: ColumnElement[bool] | None,
    within: str | None = None,
) -> list[ColumnElement[bool]]:
    """The WHERE terms of a collection: the tenant, `$filter` and any `extra` terms.

    `within` names the option the `$filter` is nested in (`$expand`), if any.
    """
    table = entity.table
    terms = [table.c.tenant_id == tenant_id, *(term for term in extra if term is not None)]
    if expression is not None:
        filter_map = property_map(entity, table)
        terms.append(compiled(lambda: compile_filter(expression, filter_map), "$filter", within))
    return terms


def ordering(
    entity: EntityType,
    keys: tuple[OrderKey, ...],
    default: Sequence[ColumnElement[Any]] = (),
    within: str | None = None,
) -> list[ColumnElement[Any]]:
    """ORDER BY terms: `$orderby` (else `default`), then the id so that pages never overlap."""
    table = entity.table
    if keys:
        order_map = property_map(entity, table)
        terms = compiled(lambda: compile_orderby(keys, order_map), "$orderby", within)
    else:
        terms = list(default)
    return [*terms, table.c.id.asc()]


def fetch_page(
    session: Session,
    columns: Sequence[Column[Any]],
    where: Sequence[ColumnElement[bool]],
    order: Sequence[ColumnElement[Any]],
    frame: Window,
    *,
    count: bool,
    keys: Sequence[ColumnElement[Any]] = (),
) -> Page:
    """One page of rows in order, and the count of all rows matching `where` when asked.

    `keys` are further (labelled) columns the rows carry: the values keyset paging needs.
    """
    query = select(*columns, *keys).where(*where).order_by(*order)
    query = query.limit(frame.top + 1)
    if frame.skip:
        query = query.offset(frame.skip)
    rows = list(session.execute(query).mappings())
    total = None
    if count:
        table = columns[0].table
        total = int(session.scalar(select(func.count()).select_from(table).where(*where)) or 0)
    return Page(rows[: frame.top], total, more=len(rows) > frame.top and frame.top > 0)


def query_string(items: Iterable[tuple[str, str]]) -> str:
    """Query parameters encoded for a URL, `$` and the punctuation of options left readable."""
    # A value may keep "=": query parsers split a parameter at its first "=".
    return "&".join(
        f"{quote(name, safe=_SAFE)}={quote(value, safe=_SAFE + '=')}" for name, value in items
    )


def paged_url(url: str, items: Iterable[tuple[str, str]], frame: Window) -> str:
    """`url` with the query `items`, their `$top` and `$skip` replaced by those of `frame`."""
    kept = [(name, value) for name, value in items if name not in _PAGING]
    paging = [("$top", str(frame.top)), ("$skip", str(frame.skip))]
    return f"{url}?{query_string([*kept, *paging])}"


def token_url(url: str, items: Iterable[tuple[str, str]], top: int, token: str) -> str:
    """`url` with the query `items`, continuing after a row by `$skiptoken` (no `$skip`)."""
    kept = [(name, value) for name, value in items if name not in _PAGING]
    paging = [("$top", str(top)), ("$skiptoken", token)]
    return f"{url}?{query_string([*kept, *paging])}"


def chunks(ids: Sequence[int]) -> Iterator[Sequence[int]]:
    """Ids in slices small enough for one IN list."""
    for start in range(0, len(ids), CHUNK):
        yield ids[start : start + CHUNK]

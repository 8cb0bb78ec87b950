"""The syntax trees of the query options besides $filter's expressions."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from stadtkern.sensorthings.query.expressions import Expression


class ResultFormat(StrEnum):
    """Values of $resultFormat."""

    DATA_ARRAY = "dataArray"
    GEOJSON = "GeoJSON"
    CSV = "CSV"


@dataclass(frozen=True)
class OrderKey:
    """One key of $orderby."""

    expression: Expression
    descending: bool = False


@dataclass(frozen=True)
class SelectItem:
    """One entry of $select: a property, a navigation property, or a path through them."""

    path: tuple[str, ...]
    position: int = field(default=0, compare=False)


@dataclass(frozen=True)
class ExpandItem:
    """One entry of $expand: a navigation path and the options for its last entity."""

    path: tuple[str, ...]
    options: QueryOptions
    position: int = field(default=0, compare=False)


@dataclass(frozen=True)
class QueryOptions:
    """All query options of a request, or of one expanded navigation property."""

    filter: Expression | None = None
    orderby: tuple[OrderKey, ...] = ()
    select: tuple[SelectItem, ...] | None = None
    expand: tuple[ExpandItem, ...] = ()
    top: int | None = None
    skip: int | None = None
    count: bool | None = None
    result_format: ResultFormat | None = None
    skiptoken: str | None = None  # `$skiptoken`: where keyset paging continues (opaque)

"""Spatial predicates and distances that mean the same on PostGIS and on SQLite.

Used as `select(Tenant).where(spatial.intersects(Tenant.boundary, area))`. The geometry
column must be a `Geometry` with a spatial index (see spatial_ddl), in WGS 84 lon/lat.

- PostgreSQL runs the PostGIS functions on the column itself, so the GiST index is used.
- SQLite narrows the rows with the column's R*Tree (`pk IN (SELECT id FROM rtree_… WHERE
  box overlaps)`) and then runs the exact predicate, a Python function from sqlite_functions
  under the PostGIS name. A column without its R*Tree fails with SQLite's "no such table:
  rtree_<table>_<column>" rather than silently scanning every row; there is no fallback.

Predicates follow GEOS/DE-9IM on the planar lon/lat geometry on both backends: a point on a
polygon's border intersects it but is neither within it nor contained by it; a polygon lies
within an equal polygon or one that shares its border from the inside.

Metres are measured on a sphere of the WGS 84 mean radius (PostGIS' ST_DistanceSphere and
geography with use_spheroid=false), not on the spheroid: SQLite reproduces the sphere without
PROJ, while the spheroid differs from it by up to 0.5 % (0.1-0.3 % in Germany, by direction).
As in PostGIS geography, distances follow great-circle edges (see
sqlite_functions.distance_sphere); the backends agree within 0.5 % or 1 m, and in practice to
the millimetre. The predicates above, like PostGIS geometry, see edges as straight in lon/lat
instead; the two views part by under a metre for edges of a few kilometres.

Rows whose geometry is NULL never match a predicate, and their distance is NULL. Order
"nearest first" with `distance_m(...).nulls_last()` or filter them out: PostgreSQL sorts
NULL last by default, SQLite first.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, TypeAlias

from shapely.geometry.base import BaseGeometry
from sqlalchemy import Boolean, Float, Integer, and_, bindparam, func, select, table
from sqlalchemy import column as sql_column
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import QueryableAttribute
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import BindParameter, ColumnClause, ColumnElement
from sqlalchemy.sql.selectable import Alias, TableClause
from sqlalchemy.sql.visitors import InternalTraversal
from sqlalchemy.types import UserDefinedType

from stadtkern.db.geometry import SRID, Geometry
from stadtkern.db.spatial_ddl import rtree_name
from stadtkern.db.sqlite_functions import EARTH_RADIUS_M

SpatialColumn: TypeAlias = QueryableAttribute[Any] | ColumnElement[Any]
Box: TypeAlias = tuple[float, float, float, float]
_BoxTest: TypeAlias = Callable[[TableClause], ColumnElement[bool]]

# Slack added to a distance before it becomes a search box: distances follow great circles,
# which bow poleward of the straight lon/lat edges that boxes are built from, by up to
# L² tan(lat) / 8R for an edge of length L (20 m for a 30 km edge at 50° N).
_BOX_SLACK_M = 25.0


class SpatialIndexError(TypeError):
    """A spatial expression was given something other than an indexable geometry column."""


class _Geography(UserDefinedType[Any]):
    cache_ok = True

    def get_col_spec(self, **_kw: Any) -> str:
        return "geography"


class _PerDialect(ColumnElement[Any]):
    """An expression spelled differently on PostgreSQL and on SQLite."""

    __visit_name__ = "stadtkern_per_dialect"
    inherit_cache = True
    # Spares SQLite the "= 1" that SQLAlchemy appends to a Boolean without native booleans.
    _is_implicitly_boolean = True
    _traverse_internals = [  # noqa: RUF012 - SQLAlchemy's class attribute
        ("postgresql", InternalTraversal.dp_clauseelement),
        ("sqlite", InternalTraversal.dp_clauseelement),
        ("sqlite_exact", InternalTraversal.dp_clauseelement),
    ]

    def __init__(
        self,
        postgresql: ColumnElement[Any],
        sqlite: ColumnElement[Any],
        sqlite_exact: ColumnElement[Any],
    ) -> None:
        self.postgresql = postgresql
        self.sqlite = sqlite
        self.sqlite_exact = sqlite_exact
        self.type = Boolean()

    def _negate(self) -> ColumnElement[Any]:
        # NOT over the R*Tree filter would turn NULL geometries into matches; the exact
        # function alone gives NULL for them, as PostGIS does.
        return _PerDialect(~self.postgresql, ~self.sqlite_exact, ~self.sqlite_exact)


@compiles(_PerDialect)
def _compile_per_dialect(element: _PerDialect, compiler: SQLCompiler, **kw: Any) -> str:
    name = compiler.dialect.name
    if name == "postgresql":
        return compiler.process(element.postgresql, **kw)
    if name == "sqlite":
        # The R*Tree only helps as a WHERE term; selected, the exact function alone keeps NULL
        # for a NULL geometry instead of the filter's FALSE.
        chosen = element.sqlite_exact if kw.get("within_columns_clause") else element.sqlite
        return compiler.process(chosen.self_group(), **kw)
    raise NotImplementedError(f"spatial expressions are not available on {name}")


def intersects(column: SpatialColumn, geometry: BaseGeometry) -> ColumnElement[bool]:
    """True where the column's geometry shares at least one point with `geometry`."""
    return _predicate("ST_Intersects", column, geometry, _overlaps(_bounds(geometry)))


def within(column: SpatialColumn, geometry: BaseGeometry) -> ColumnElement[bool]:
    """True where the column's geometry lies within `geometry` (borders may touch from inside)."""
    # Overlap, not containment, of the boxes: the R*Tree rounds its boxes outward to 32-bit
    # floats, so a row sharing the query's border would fail a strict containment test.
    return _predicate("ST_Within", column, geometry, _overlaps(_bounds(geometry)))


def contains(column: SpatialColumn, geometry: BaseGeometry) -> ColumnElement[bool]:
    """True where the column's geometry contains `geometry`."""
    return _predicate("ST_Contains", column, geometry, _covers(_bounds(geometry)))


def within_distance(
    column: SpatialColumn, geometry: BaseGeometry, metres: float
) -> ColumnElement[bool]:
    """True where the column's geometry comes within `metres` of `geometry` (on the sphere)."""
    if not math.isfinite(metres) or metres < 0:
        raise ValueError(f"a distance must be a finite number of metres >= 0, got {metres}")
    element, key, rtree = _indexed_column(column)
    value = _value(geometry)
    box = search_box(geometry, metres)
    envelope = func.ST_MakeEnvelope(*box, SRID, type_=Geometry())
    postgresql = and_(
        element.op("&&", return_type=Boolean)(envelope),
        func.ST_DWithin(
            element.cast(_Geography()),
            value.cast(_Geography()),
            float(metres),
            False,
            type_=Boolean,
        ),
    )
    sqlite = and_(
        key.in_(select(rtree.c.id).where(_overlaps(box)(rtree))),
        exact := func.ST_DWithinSphere(element, value, float(metres), type_=Integer),
    )
    return _PerDialect(postgresql, sqlite, exact)


def distance_m(column: SpatialColumn, geometry: BaseGeometry) -> ColumnElement[float]:
    """Shortest distance in metres (on the sphere) from the column's geometry; NULL for NULL."""
    element = _geometry_column(column)
    return func.ST_DistanceSphere(element, _value(geometry), type_=Float())


def search_box(geometry: BaseGeometry, metres: float) -> Box:
    """A lon/lat box (minx, miny, maxx, maxy) holding every point within `metres` of `geometry`.

    Latitude grows by the arc of the radius; longitude by asin(sin r / cos φ) at the
    geometry's latitude farthest from the equator, the widest a spherical cap gets there.
    When a pole comes within reach, or the box would cross the antimeridian, it spans every
    longitude: correct everywhere, and only slow where Stadtkern is not used.
    """
    minx, miny, maxx, maxy = _bounds(geometry)
    arc = (metres + _BOX_SLACK_M) / EARTH_RADIUS_M
    south, north = miny - math.degrees(arc), maxy + math.degrees(arc)
    if south <= -90 or north >= 90:
        return (-180.0, max(south, -90.0), 180.0, min(north, 90.0))
    farthest = math.radians(max(abs(miny), abs(maxy)))
    spread = math.degrees(math.asin(min(1.0, math.sin(arc) / math.cos(farthest))))
    west, east = minx - spread, maxx + spread
    if west < -180 or east > 180:
        west, east = -180.0, 180.0
    return (west, south, east, north)


def _bounds(geometry: BaseGeometry) -> Box:
    if not isinstance(geometry, BaseGeometry):
        raise TypeError(f"expected a shapely geometry, got {type(geometry).__name__}")
    if geometry.is_empty:
        raise ValueError("cannot search with an empty geometry")
    minx, miny, maxx, maxy = geometry.bounds
    return (float(minx), float(miny), float(maxx), float(maxy))


def _value(geometry: BaseGeometry) -> BindParameter[BaseGeometry]:
    _bounds(geometry)
    # A plain Geometry, not the column's type: a polygon may search a MULTIPOLYGON column.
    return bindparam(None, geometry, type_=Geometry(), unique=True)


def _predicate(
    name: str, column: SpatialColumn, geometry: BaseGeometry, prefilter: _BoxTest
) -> ColumnElement[bool]:
    element, key, rtree = _indexed_column(column)
    value = _value(geometry)
    postgresql = getattr(func, name)(element, value, type_=Boolean)
    # Integer, as the Python function returns 0/1: SQLite has no boolean to compare with.
    exact = getattr(func, name)(element, value, type_=Integer)
    sqlite = and_(key.in_(select(rtree.c.id).where(prefilter(rtree))), exact)
    return _PerDialect(postgresql, sqlite, exact)


def _overlaps(box: Box) -> _BoxTest:
    minx, miny, maxx, maxy = box

    def test(rtree: TableClause) -> ColumnElement[bool]:
        c = rtree.c
        return and_(c.minx <= maxx, c.maxx >= minx, c.miny <= maxy, c.maxy >= miny)

    return test


def _covers(box: Box) -> _BoxTest:
    minx, miny, maxx, maxy = box

    def test(rtree: TableClause) -> ColumnElement[bool]:
        c = rtree.c
        return and_(c.minx <= minx, c.maxx >= maxx, c.miny <= miny, c.maxy >= maxy)

    return test


def _geometry_column(column: SpatialColumn) -> ColumnElement[Any]:
    element = column.__clause_element__() if isinstance(column, QueryableAttribute) else column
    if not isinstance(element, ColumnElement) or not isinstance(element.type, Geometry):
        raise SpatialIndexError(f"expected a Geometry column, got {column!r}")
    return element


def _indexed_column(
    column: SpatialColumn,
) -> tuple[ColumnElement[Any], ColumnElement[Any], TableClause]:
    """The column, its table's primary key, and the R*Tree table that indexes it on SQLite."""
    element = _geometry_column(column)
    if not isinstance(element, ColumnClause) or element.table is None:
        raise SpatialIndexError(f"{column!r} is not a column of a table")
    source = element.table
    base = source
    while isinstance(base, Alias):
        base = base.element
    if not isinstance(base, TableClause):
        raise SpatialIndexError(f"{column!r} does not belong to a table")
    keys = list(source.primary_key)
    if len(keys) != 1:
        raise SpatialIndexError(f"table {base.name} needs a one-column primary key for its index")
    rtree = table(
        rtree_name(base.name, element.name),
        *(sql_column(name) for name in ("id", "minx", "maxx", "miny", "maxy")),
    )
    return element, keys[0], rtree

"""The Geometry column type: every geometry type survives a round trip on both backends."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest
from shapely import (
    GeometryCollection,
    LineString,
    MultiLineString,
    MultiPoint,
    MultiPolygon,
    Point,
    Polygon,
    box,
    equals_exact,
    from_wkt,
)
from shapely.geometry.base import BaseGeometry
from sqlalchemy import Column, Integer, MetaData, Table, insert, select
from sqlalchemy.exc import StatementError

from stadtkern.db import Database
from stadtkern.db.geometry import Geometry

SHAPES: dict[str, BaseGeometry] = {
    "point": Point(7.7725, 49.4475),
    "linestring": LineString([(7.750, 49.4455), (7.775, 49.446), (7.800, 49.4455)]),
    "polygon": box(7.760, 49.440, 7.780, 49.450),
    "polygon-with-hole": Polygon(
        box(7.790, 49.425, 7.810, 49.435).exterior.coords,
        [box(7.798, 49.428, 7.802, 49.432).exterior.coords],
    ),
    "multipoint": MultiPoint([(7.77, 49.44), (7.78, 49.45)]),
    "multilinestring": MultiLineString(
        [[(7.75, 49.44), (7.76, 49.45)], [(7.77, 49.44), (7.78, 49.45)]]
    ),
    "multipolygon": MultiPolygon([box(7.70, 49.40, 7.71, 49.41), box(7.72, 49.40, 7.73, 49.41)]),
    "geometrycollection": GeometryCollection(
        [Point(7.77, 49.44), LineString([(7.75, 49.44), (7.76, 49.45)])]
    ),
    "full-precision": Point(7.123456789012345, 49.987654321098765),
}


@pytest.fixture
def shapes(database: Database) -> Iterator[Table]:
    """A table with an untyped and a POINT-typed geometry column."""
    metadata = MetaData()
    table = Table(
        f"shape_{secrets.token_hex(4)}",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("geom", Geometry(), nullable=True),
        Column("spot", Geometry("point"), nullable=True),
    )
    with database.write_lock(), database.write_engine.begin() as connection:
        metadata.create_all(connection)
    yield table
    with database.write_lock(), database.write_engine.begin() as connection:
        table.drop(connection)


def _store(database: Database, table: Table, **values: BaseGeometry | None) -> None:
    with database.write() as session:
        session.execute(insert(table).values(**values))


def _load(database: Database, table: Table, column: str) -> BaseGeometry | None:
    with database.read() as session:
        value: BaseGeometry | None = session.scalar(select(table.c[column]))
        return value


@pytest.mark.parametrize("geometry", SHAPES.values(), ids=SHAPES.keys())
def test_round_trip(database: Database, shapes: Table, geometry: BaseGeometry) -> None:
    _store(database, shapes, geom=geometry)
    loaded = _load(database, shapes, "geom")
    assert loaded is not None
    assert loaded.geom_type == geometry.geom_type
    assert equals_exact(loaded, geometry, tolerance=0)


def test_null_round_trip(database: Database, shapes: Table) -> None:
    _store(database, shapes, geom=None)
    assert _load(database, shapes, "geom") is None


def test_empty_round_trip(database: Database, shapes: Table) -> None:
    _store(database, shapes, geom=from_wkt("POLYGON EMPTY"))
    loaded = _load(database, shapes, "geom")
    assert loaded is not None
    assert loaded.is_empty
    assert loaded.geom_type == "Polygon"


def test_third_dimension_is_dropped(database: Database, shapes: Table) -> None:
    _store(database, shapes, geom=Point(7.77, 49.44, 235.0))
    loaded = _load(database, shapes, "geom")
    assert loaded is not None
    assert not loaded.has_z
    assert equals_exact(loaded, Point(7.77, 49.44), tolerance=0)


def test_typed_column_refuses_other_types(database: Database, shapes: Table) -> None:
    _store(database, shapes, spot=Point(7.77, 49.44))
    assert _load(database, shapes, "spot") == Point(7.77, 49.44)
    with pytest.raises(StatementError, match="expected a POINT geometry, got Polygon"):
        _store(database, shapes, spot=box(7.76, 49.44, 7.78, 49.45))


def test_refuses_what_is_not_a_geometry(database: Database, shapes: Table) -> None:
    with pytest.raises(StatementError, match="expected a shapely geometry, got str"):
        _store(database, shapes, geom="POINT (7.77 49.44)")


def test_unknown_geometry_type() -> None:
    with pytest.raises(ValueError, match="unknown geometry type 'CIRCLE'"):
        Geometry("circle")

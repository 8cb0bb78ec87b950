"""A geometry column: PostGIS geometry(type, 4326) on PostgreSQL, WKB on SQLite.

Both backends run the same SQL: values are bound through ST_GeomFromWKB and read through
ST_AsBinary. PostGIS has these functions; on SQLite Stadtkern registers them on every
connection (see sqlite_functions), where they pass the WKB through after validating it.
"""

from __future__ import annotations

from typing import Any

import shapely
from shapely.geometry.base import BaseGeometry
from sqlalchemy import LargeBinary, func
from sqlalchemy.engine import Dialect
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.types import TypeDecorator, TypeEngine, UserDefinedType

SRID = 4326
GEOMETRY_TYPES = frozenset(
    {
        "GEOMETRY",
        "POINT",
        "LINESTRING",
        "POLYGON",
        "MULTIPOINT",
        "MULTILINESTRING",
        "MULTIPOLYGON",
        "GEOMETRYCOLLECTION",
    }
)


class _PostGISGeometry(UserDefinedType[Any]):
    cache_ok = True

    def __init__(self, geometry_type: str, srid: int) -> None:
        self.geometry_type = geometry_type
        self.srid = srid

    def get_col_spec(self, **_kw: Any) -> str:
        return f"geometry({self.geometry_type},{self.srid})"


class Geometry(TypeDecorator[BaseGeometry]):
    """A WGS 84 geometry (SRID 4326) read and written as a shapely object."""

    impl = LargeBinary
    cache_ok = True

    def __init__(self, geometry_type: str = "GEOMETRY", srid: int = SRID) -> None:
        super().__init__()
        geometry_type = geometry_type.upper()
        if geometry_type not in GEOMETRY_TYPES:
            raise ValueError(f"unknown geometry type {geometry_type!r}")
        self.geometry_type = geometry_type
        self.srid = srid

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(_PostGISGeometry(self.geometry_type, self.srid))
        return dialect.type_descriptor(LargeBinary())

    def bind_expression(self, bindvalue: Any) -> ColumnElement[Any]:
        return func.ST_GeomFromWKB(bindvalue, self.srid, type_=self)

    def column_expression(self, column: Any) -> ColumnElement[Any]:
        return func.ST_AsBinary(column, type_=self)

    def process_bind_param(self, value: BaseGeometry | None, dialect: Dialect) -> bytes | None:
        if value is None:
            return None
        if not isinstance(value, BaseGeometry):
            raise TypeError(f"expected a shapely geometry, got {type(value).__name__}")
        # PostGIS refuses a mismatched type in geometry(type, 4326); checking here gives
        # SQLite the same rule and both backends the same error.
        if self.geometry_type != "GEOMETRY" and value.geom_type.upper() != self.geometry_type:
            raise TypeError(f"expected a {self.geometry_type} geometry, got {value.geom_type}")
        return bytes(shapely.to_wkb(value, output_dimension=2))

    def process_result_value(self, value: Any, dialect: Dialect) -> BaseGeometry | None:
        if value is None:
            return None
        return shapely.from_wkb(bytes(value))

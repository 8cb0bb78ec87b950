"""SQL functions registered on every SQLite connection, named as in PostGIS.

Stock Python cannot load SpatiaLite, so the spatial functions that Stadtkern's SQL uses are
provided here in Python with shapely. The names match PostGIS, so one query runs on both.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any

import shapely
from shapely.geometry.base import BaseGeometry


@lru_cache(maxsize=4096)
def _parse(wkb: bytes) -> BaseGeometry:
    return shapely.from_wkb(wkb)


def _geometry(value: Any) -> BaseGeometry | None:
    if value is None:
        return None
    return _parse(bytes(value))


def _geom_from_wkb(value: Any, _srid: int | None = None) -> bytes | None:
    geometry = _geometry(value)
    return None if geometry is None else bytes(value)


def _as_binary(value: Any) -> bytes | None:
    return None if value is None else bytes(value)


def _bound(index: int) -> Callable[[Any], float | None]:
    def bound(value: Any) -> float | None:
        geometry = _geometry(value)
        if geometry is None or geometry.is_empty:
            return None
        return float(geometry.bounds[index])

    return bound


FUNCTIONS: dict[str, tuple[int, Callable[..., Any]]] = {
    "ST_GeomFromWKB": (-1, _geom_from_wkb),
    "ST_AsBinary": (1, _as_binary),
    "ST_XMin": (1, _bound(0)),
    "ST_YMin": (1, _bound(1)),
    "ST_XMax": (1, _bound(2)),
    "ST_YMax": (1, _bound(3)),
}


def register(dbapi_connection: Any) -> None:
    """Register Stadtkern's SQL functions on a new SQLite connection."""
    for name, (arity, function) in FUNCTIONS.items():
        dbapi_connection.create_function(name, arity, function, deterministic=True)

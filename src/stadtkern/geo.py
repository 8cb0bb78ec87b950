"""GeoJSON geometries in and out: strict validation on the way in, plain 2D JSON on the way out.

Input follows RFC 7946: WGS 84 longitude/latitude, an optional third coordinate (altitude)
that Stadtkern drops, and no "crs" member (other members such as "bbox" are ignored).
Rings are not checked for orientation, which RFC 7946 tells parsers not to enforce.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping, Sequence
from typing import Any

import shapely
from shapely.geometry import (
    GeometryCollection,
    LineString,
    MultiLineString,
    MultiPoint,
    MultiPolygon,
    Point,
    Polygon,
)
from shapely.geometry.base import BaseGeometry

MAX_POSITIONS = 100_000

GEOJSON_TYPES = frozenset(
    {
        "Point",
        "MultiPoint",
        "LineString",
        "MultiLineString",
        "Polygon",
        "MultiPolygon",
        "GeometryCollection",
    }
)
_MULTI_OF = {"Point": "MultiPoint", "LineString": "MultiLineString", "Polygon": "MultiPolygon"}

Position = tuple[float, float]


class GeometryError(ValueError):
    """A GeoJSON geometry that Stadtkern cannot accept; the message says why and where."""


def geometry_from_geojson(
    data: object, *, allowed: Collection[str], promote_to_multi: bool = False
) -> BaseGeometry:
    """Validate a GeoJSON geometry object and return it as a 2D shapely geometry.

    With `promote_to_multi`, a Point, LineString or Polygon becomes the matching Multi type
    when only that is allowed (a boundary given as one Polygon where MultiPolygon is stored).
    """
    unknown = set(allowed) - GEOJSON_TYPES
    if unknown:
        raise ValueError(f"unknown GeoJSON geometry types in allowed: {sorted(unknown)}")
    member, kind = _object(data, "geometry")
    promote = promote_to_multi and kind not in allowed and _MULTI_OF.get(kind) in allowed
    if kind not in allowed and not promote:
        raise GeometryError(f"geometry type {kind} is not allowed here (allowed: {_list(allowed)})")
    counter = _Counter()
    geometry = _parse(member, kind, "geometry", counter)
    if geometry.is_empty:
        raise GeometryError("geometry: the geometry is empty")
    if not geometry.is_valid:
        raise GeometryError(f"geometry: invalid {kind}: {shapely.is_valid_reason(geometry)}")
    if promote:
        return _promote(geometry)
    return geometry


def geometry_to_geojson(geometry: BaseGeometry) -> dict[str, Any]:
    """A GeoJSON geometry object (2D, plain Python floats) for a shapely geometry."""
    if isinstance(geometry, GeometryCollection) and not isinstance(
        geometry, MultiPoint | MultiLineString | MultiPolygon
    ):
        return {
            "type": "GeometryCollection",
            "geometries": [geometry_to_geojson(part) for part in geometry.geoms],
        }
    return {"type": geometry.geom_type, "coordinates": _coordinates(geometry)}


class _Counter:
    """Positions seen so far, so that an oversized geometry is refused before it is built."""

    def __init__(self) -> None:
        self.positions = 0

    def add(self, count: int, where: str) -> None:
        self.positions += count
        if self.positions > MAX_POSITIONS:
            raise GeometryError(f"{where}: more than {MAX_POSITIONS} positions")


def _object(data: object, where: str) -> tuple[Mapping[str, object], str]:
    if not isinstance(data, Mapping):
        raise GeometryError(f"{where}: expected a GeoJSON geometry object, got {_name(data)}")
    kind = data.get("type")
    if kind in ("Feature", "FeatureCollection"):  # a tuple: "type" may be an unhashable list
        raise GeometryError(f"{where}: expected a geometry object, got a {kind}")
    if not isinstance(kind, str) or kind not in GEOJSON_TYPES:
        raise GeometryError(f"{where}: unknown geometry type {kind!r}")
    if "crs" in data:
        raise GeometryError(f"{where}: a 'crs' member is not supported; GeoJSON is WGS 84")
    return data, kind


def _parse(data: Mapping[str, object], kind: str, where: str, counter: _Counter) -> BaseGeometry:
    if kind == "GeometryCollection":
        members = _array(data.get("geometries"), f"{where}.geometries")
        parts = []
        for index, item in enumerate(members):
            place = f"{where}.geometries[{index}]"
            member, member_kind = _object(item, place)
            if member_kind == "GeometryCollection":
                raise GeometryError(f"{place}: nested GeometryCollections are not supported")
            parts.append(_parse(member, member_kind, place, counter))
        return GeometryCollection(parts)
    place = f"{where}.coordinates"
    coordinates = data.get("coordinates")
    if kind == "Point":
        return Point(_position(coordinates, place, counter))
    if kind == "MultiPoint":
        return MultiPoint(_positions(coordinates, place, counter, minimum=0))
    if kind == "LineString":
        return LineString(_positions(coordinates, place, counter, minimum=2))
    if kind == "MultiLineString":
        lines = _array(coordinates, place)
        return MultiLineString(
            [_positions(line, f"{place}[{i}]", counter, minimum=2) for i, line in enumerate(lines)]
        )
    if kind == "Polygon":
        return _polygon(coordinates, place, counter)
    polygons = _array(coordinates, place)
    return MultiPolygon([_polygon(p, f"{place}[{i}]", counter) for i, p in enumerate(polygons)])


def _polygon(data: object, where: str, counter: _Counter) -> Polygon:
    rings = [_ring(ring, f"{where}[{i}]", counter) for i, ring in enumerate(_array(data, where))]
    if not rings:
        raise GeometryError(f"{where}: a polygon needs an exterior ring")
    return Polygon(rings[0], rings[1:])


def _ring(data: object, where: str, counter: _Counter) -> list[Position]:
    positions = _positions(data, where, counter, minimum=4)
    if positions[0] != positions[-1]:
        raise GeometryError(f"{where}: the ring is not closed (first and last position differ)")
    return positions


def _positions(data: object, where: str, counter: _Counter, *, minimum: int) -> list[Position]:
    items = _array(data, where)
    if len(items) < minimum:
        raise GeometryError(f"{where}: needs at least {minimum} positions, got {len(items)}")
    counter.add(len(items), where)
    return [_position(item, f"{where}[{index}]", None) for index, item in enumerate(items)]


def _position(data: object, where: str, counter: _Counter | None) -> Position:
    if counter is not None:
        counter.add(1, where)
    items = _array(data, where)
    if len(items) not in (2, 3):
        raise GeometryError(f"{where}: a position has 2 or 3 numbers, got {len(items)}")
    numbers = []
    for value in items:
        # bool is an int in Python but not a number in JSON.
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise GeometryError(f"{where}: coordinates must be numbers, got {_name(value)}")
        if not math.isfinite(value):
            raise GeometryError(f"{where}: coordinates must be finite numbers")
        numbers.append(float(value))
    lon, lat = numbers[0], numbers[1]
    if not -180 <= lon <= 180:
        raise GeometryError(f"{where}: longitude {lon} is outside [-180, 180]")
    if not -90 <= lat <= 90:
        raise GeometryError(f"{where}: latitude {lat} is outside [-90, 90]")
    return (lon, lat)


def _array(data: object, where: str) -> Sequence[object]:
    if not isinstance(data, list | tuple):
        raise GeometryError(f"{where}: expected an array, got {_name(data)}")
    return data


def _promote(geometry: BaseGeometry) -> BaseGeometry:
    if isinstance(geometry, Point):
        return MultiPoint([geometry])
    if isinstance(geometry, LineString):
        return MultiLineString([geometry])
    return MultiPolygon([geometry])


def _coordinates(geometry: BaseGeometry) -> Any:
    if geometry.is_empty:
        return []
    if isinstance(geometry, Point):
        return [float(geometry.x), float(geometry.y)]
    if isinstance(geometry, LineString):
        return _plain(geometry.coords)
    if isinstance(geometry, Polygon):
        return [_plain(geometry.exterior.coords), *(_plain(r.coords) for r in geometry.interiors)]
    return [_coordinates(part) for part in geometry.geoms]


def _plain(coords: Any) -> list[list[float]]:
    return [[float(position[0]), float(position[1])] for position in coords]


def _name(value: object) -> str:
    return "null" if value is None else type(value).__name__


def _list(names: Collection[str]) -> str:
    return ", ".join(sorted(names)) or "none"

"""SQL functions registered on every SQLite connection, named as in PostGIS.

Stock Python cannot load SpatiaLite, so the spatial functions that Stadtkern's SQL uses are
provided here in Python with shapely. The names match PostGIS, so one query runs on both;
the one exception is ST_DWithinSphere, which PostGIS spells as ST_DWithin on geography.
"""

from __future__ import annotations

import itertools
import math
import threading
from collections.abc import Callable
from functools import lru_cache
from typing import Any

import numpy as np
import shapely
from numpy.typing import NDArray
from shapely.geometry import GeometryCollection, LineString, MultiLineString, Point
from shapely.geometry.base import BaseGeometry

# The radius PostGIS uses for geography on a sphere (ST_DistanceSphere, use_spheroid=false):
# the mean radius (2a + b) / 3 of WGS 84. Using the same value keeps both backends identical
# for point-to-point distances.
EARTH_RADIUS_M = 6371008.771415

_prepare_lock = threading.Lock()


@lru_cache(maxsize=4096)
def _parse(wkb: bytes) -> BaseGeometry:
    return shapely.from_wkb(wkb)


def _geometry(value: Any) -> BaseGeometry | None:
    if value is None:
        return None
    return _parse(bytes(value))


def _prepared(value: Any) -> BaseGeometry | None:
    # The second argument is the query geometry in Stadtkern's SQL: the same for every row,
    # and cached by _parse, so preparing it once speeds up the predicate on every other row.
    geometry = _geometry(value)
    if geometry is not None and not shapely.is_prepared(geometry):
        # Cached geometries are shared by every read connection's thread.
        with _prepare_lock:
            if not shapely.is_prepared(geometry):
                shapely.prepare(geometry)
    return geometry


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


def _predicate(
    test: Callable[[BaseGeometry, BaseGeometry], bool],
) -> Callable[[Any, Any], int | None]:
    def predicate(column: Any, query: Any) -> int | None:
        row = _geometry(column)
        other = _prepared(query)
        if row is None or other is None:
            return None
        return int(bool(test(row, other)))

    return predicate


def great_circle_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Great-circle distance in metres between two lon/lat positions on the mean-radius sphere."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    haversine = (
        math.sin((phi2 - phi1) / 2) ** 2
        + math.cos(phi1) * math.cos(phi2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(haversine)))


def distance_sphere(a: BaseGeometry, b: BaseGeometry) -> float | None:
    """Shortest distance in metres between two lon/lat geometries on the sphere; 0 if they meet.

    Like PostGIS geography, edges are great-circle arcs. Both geometries are projected
    gnomonically about a point between them, where every great circle is a straight line, so
    shapely's planar nearest points lie on the true arcs; the distance between them is then
    taken on the sphere. The projection barely distorts within a few hundred kilometres of its
    centre, so the points found are the sphere's nearest to well below a millimetre there.
    """
    if a.is_empty or b.is_empty:
        return None
    if isinstance(a, Point) and isinstance(b, Point):
        # The common case of "nearest lantern" queries, and 50 times faster than projecting.
        return great_circle_m(float(a.x), float(a.y), float(b.x), float(b.y))
    lon0, lat0 = _midpoint(a, b)
    plane_a, plane_b = _gnomonic(a, lon0, lat0), _gnomonic(b, lon0, lat0)
    if plane_a is None or plane_b is None:
        # Beyond 80 degrees from the centre the projection explodes; such spans are far
        # outside Stadtkern's use, so lon/lat treated as a plane has to do.
        plane_a, plane_b, lon0 = a, b, math.nan
    if shapely.intersects(plane_a, plane_b):
        return 0.0
    (x1, y1), (x2, y2) = shapely.get_coordinates(shapely.shortest_line(plane_a, plane_b))
    if math.isnan(lon0):
        return great_circle_m(float(x1), float(y1), float(x2), float(y2))
    return great_circle_m(
        *_inverse_gnomonic(float(x1), float(y1), lon0, lat0),
        *_inverse_gnomonic(float(x2), float(y2), lon0, lat0),
    )


def _midpoint(a: BaseGeometry, b: BaseGeometry) -> tuple[float, float]:
    # The mean of unit vectors, unlike the mean of longitudes, is right across the antimeridian.
    vectors = []
    for geometry in (a, b):
        minx, miny, maxx, maxy = geometry.bounds
        lon, lat = math.radians((minx + maxx) / 2), math.radians((miny + maxy) / 2)
        vectors.append(
            (math.cos(lat) * math.cos(lon), math.cos(lat) * math.sin(lon), math.sin(lat))
        )
    x, y, z = (sum(axis) for axis in zip(*vectors, strict=True))
    return math.atan2(y, x), math.atan2(z, math.hypot(x, y))


_HORIZON = math.cos(math.radians(80))


def _gnomonic(geometry: BaseGeometry, lon0: float, lat0: float) -> BaseGeometry | None:
    coords = shapely.get_coordinates(geometry)
    lon, lat = np.radians(coords[:, 0]) - lon0, np.radians(coords[:, 1])
    cos_c = math.sin(lat0) * np.sin(lat) + math.cos(lat0) * np.cos(lat) * np.cos(lon)
    if bool(np.any(cos_c < _HORIZON)):
        return None
    x = np.cos(lat) * np.sin(lon) / cos_c
    y = (math.cos(lat0) * np.sin(lat) - math.sin(lat0) * np.cos(lat) * np.cos(lon)) / cos_c
    projected: NDArray[np.float64] = np.column_stack([x, y])
    return shapely.transform(geometry, lambda _coords: projected)


def _inverse_gnomonic(x: float, y: float, lon0: float, lat0: float) -> tuple[float, float]:
    rho = math.hypot(x, y)
    if rho == 0:
        return math.degrees(lon0), math.degrees(lat0)
    c = math.atan(rho)
    lat = math.asin(math.cos(c) * math.sin(lat0) + y * math.sin(c) * math.cos(lat0) / rho)
    lon = lon0 + math.atan2(
        x * math.sin(c), rho * math.cos(lat0) * math.cos(c) - y * math.sin(lat0) * math.sin(c)
    )
    return math.degrees(lon), math.degrees(lat)


def _distance_sphere(column: Any, query: Any) -> float | None:
    row, other = _geometry(column), _prepared(query)
    if row is None or other is None:
        return None
    return distance_sphere(row, other)


def _dwithin_sphere(column: Any, query: Any, metres: Any) -> int | None:
    row, other = _geometry(column), _prepared(query)
    if row is None or other is None or metres is None:
        return None
    distance = distance_sphere(row, other)
    return None if distance is None else int(distance <= float(metres))


def _relation(
    test: Callable[[BaseGeometry, BaseGeometry], Any],
) -> Callable[[Any, Any], int | None]:
    def relation(left: Any, right: Any) -> int | None:
        a, b = _geometry(left), _geometry(right)
        if a is None or b is None:
            return None
        return int(bool(test(a, b)))

    return relation


def _relate(left: Any, right: Any, pattern: Any) -> int | None:
    a, b = _geometry(left), _geometry(right)
    if a is None or b is None or pattern is None:
        return None
    return int(bool(shapely.relate_pattern(a, b, str(pattern))))


def length_sphere(geometry: BaseGeometry) -> float:
    """Length in metres of a geometry's lines along great circles; 0 for points and areas."""
    if isinstance(geometry, LineString):
        coordinates = list(geometry.coords)
        return sum(
            great_circle_m(x1, y1, x2, y2)
            for (x1, y1, *_), (x2, y2, *_) in itertools.pairwise(coordinates)
        )
    if isinstance(geometry, MultiLineString | GeometryCollection):
        return sum(length_sphere(part) for part in geometry.geoms)
    return 0.0


def _length_sphere(value: Any) -> float | None:
    geometry = _geometry(value)
    return None if geometry is None else length_sphere(geometry)


def _simple_case(change: Callable[[str], str]) -> Callable[[Any], str | None]:
    # PostgreSQL maps character by character; Python's full mapping turns ß into SS.
    def apply(value: Any) -> str | None:
        if value is None:
            return None
        text = str(value)
        return "".join(mapped if len(mapped := change(c)) == 1 else c for c in text)

    return apply


FUNCTIONS: dict[str, tuple[int, Callable[..., Any]]] = {
    "ST_GeomFromWKB": (-1, _geom_from_wkb),
    "ST_AsBinary": (1, _as_binary),
    "ST_XMin": (1, _bound(0)),
    "ST_YMin": (1, _bound(1)),
    "ST_XMax": (1, _bound(2)),
    "ST_YMax": (1, _bound(3)),
    # The query geometry comes second and is prepared, so each test puts it first.
    "ST_Intersects": (2, _predicate(lambda row, query: shapely.intersects(query, row))),
    "ST_Within": (2, _predicate(lambda row, query: shapely.contains(query, row))),
    "ST_Contains": (2, _predicate(lambda row, query: shapely.within(query, row))),
    "ST_DistanceSphere": (2, _distance_sphere),
    "ST_DWithinSphere": (3, _dwithin_sphere),
    # DE-9IM relations and lengths for the SensorThings $filter functions.
    "ST_Equals": (2, _relation(shapely.equals)),
    "ST_Disjoint": (2, _relation(shapely.disjoint)),
    "ST_Touches": (2, _relation(shapely.touches)),
    "ST_Overlaps": (2, _relation(shapely.overlaps)),
    "ST_Crosses": (2, _relation(shapely.crosses)),
    "ST_Relate": (3, _relate),
    "ST_LengthSphere": (1, _length_sphere),
    # Case mapping character by character, as PostgreSQL does (ß stays ß).
    "stadtkern_lower": (1, _simple_case(str.lower)),
    "stadtkern_upper": (1, _simple_case(str.upper)),
}


def register(dbapi_connection: Any) -> None:
    """Register Stadtkern's SQL functions on a new SQLite connection."""
    for name, (arity, function) in FUNCTIONS.items():
        dbapi_connection.create_function(name, arity, function, deterministic=True)

"""CAP 1.2 area geometry: polygons and circles as CAP writes them, and as shapely shapes.

CAP puts latitude first (`"lat,lon lat,lon ..."`, `"lat,lon radius_km"`, WGS 84), shapely and
GeoJSON put longitude first: these functions are the one place where the order turns around.
"""

from __future__ import annotations

import math
import re

from shapely.geometry import GeometryCollection, MultiPolygon, Point, Polygon
from shapely.geometry.base import BaseGeometry

from stadtkern.warning.cap_model import CapArea, CapInvalid

EARTH_RADIUS_KM = 6371.0088
CIRCLE_SEGMENTS = 64
_DECIMAL = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)")


def cap_polygon(text: str) -> Polygon:
    """Read a CAP polygon (`"lat,lon lat,lon ..."`, closed, >= 4 points) as a lon/lat Polygon."""
    words = text.split()
    errors: list[str] = []
    if len(words) < 4:
        errors.append(f"polygon has {len(words)} points, CAP needs at least 4")
    points = [_point(word, f"polygon point {index}", errors) for index, word in enumerate(words)]
    if not errors and points[0] != points[-1]:
        errors.append("polygon is not closed: the first and last points differ")
    if errors:
        raise CapInvalid(errors)
    return Polygon([(lon, lat) for lat, lon in points])


def cap_circle(text: str) -> tuple[float, float, float]:
    """Read a CAP circle (`"lat,lon radius_km"`) as `(lon, lat, radius_km)`."""
    words = text.split()
    if len(words) != 2:
        raise CapInvalid([f"circle {text.strip()!r} is not 'lat,lon radius_km'"])
    errors: list[str] = []
    lat, lon = _point(words[0], "circle centre", errors)
    radius = _number(words[1])
    if radius is None or radius < 0:
        errors.append(f"circle radius {words[1]!r} is not a number >= 0")
    if errors or lat is None or lon is None or radius is None:
        raise CapInvalid(errors)
    return lon, lat, radius


def polygon_to_cap(polygon: Polygon) -> str:
    """Write a lon/lat shapely Polygon (no holes) as a closed CAP polygon string."""
    if polygon.geom_type != "Polygon" or polygon.is_empty:
        raise CapInvalid([f"expected a non-empty Polygon, got {polygon.geom_type}"])
    if len(polygon.interiors):
        raise CapInvalid(["CAP polygons cannot have holes"])
    text = " ".join(f"{_degrees(c[1])},{_degrees(c[0])}" for c in polygon.exterior.coords)
    cap_polygon(text)  # refuses coordinates outside WGS 84
    return text


def circle_to_cap(lon: float, lat: float, radius_km: float) -> str:
    """Write a circle given as lon, lat and radius in km as a CAP circle string."""
    text = f"{_degrees(lat)},{_degrees(lon)} {_degrees(radius_km)}"
    cap_circle(text)
    return text


def circle_polygon(lon: float, lat: float, radius_km: float) -> BaseGeometry:
    """Approximate a circle on the sphere by a Polygon (a Point for radius 0), for GeoJSON."""
    if radius_km <= 0:
        return Point(lon, lat)
    phi, lam = math.radians(lat), math.radians(lon)
    delta = radius_km / EARTH_RADIUS_KM
    ring: list[tuple[float, float]] = []
    for step in range(CIRCLE_SEGMENTS):
        bearing = 2 * math.pi * step / CIRCLE_SEGMENTS
        phi2 = math.asin(
            math.sin(phi) * math.cos(delta) + math.cos(phi) * math.sin(delta) * math.cos(bearing)
        )
        lam2 = lam + math.atan2(
            math.sin(bearing) * math.sin(delta) * math.cos(phi),
            math.cos(delta) - math.sin(phi) * math.sin(phi2),
        )
        ring.append((round(math.degrees(lam2), 7), round(math.degrees(phi2), 7)))
    return Polygon(ring)


def area_geometry(area: CapArea) -> BaseGeometry | None:
    """The shapes of a CAP area (polygons and circles) as one lon/lat geometry, or None."""
    shapes: list[BaseGeometry] = [cap_polygon(text) for text in area.polygons]
    shapes += [circle_polygon(*cap_circle(text)) for text in area.circles]
    if not shapes:
        return None
    if len(shapes) == 1:
        return shapes[0]
    if all(shape.geom_type == "Polygon" for shape in shapes):
        return MultiPolygon(shapes)
    return GeometryCollection(shapes)


def _point(word: str, where: str, errors: list[str]) -> tuple[float | None, float | None]:
    parts = word.split(",")
    if len(parts) != 2:
        errors.append(f"{where} {word!r} is not 'lat,lon'")
        return None, None
    lat, lon = _number(parts[0]), _number(parts[1])
    if lat is None or not -90 <= lat <= 90:
        errors.append(f"{where}: latitude {parts[0]!r} is not a number from -90 to 90")
    if lon is None or not -180 <= lon <= 180:
        errors.append(f"{where}: longitude {parts[1]!r} is not a number from -180 to 180")
    return lat, lon


def _number(text: str) -> float | None:
    # float() alone would also take "1_0", "nan" and non-ASCII digits.
    return float(text) if _DECIMAL.fullmatch(text) else None


def _degrees(value: float) -> str:
    # Seven decimals are about a centimetre; no exponent notation, no "-0".
    text = f"{float(value):.7f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text

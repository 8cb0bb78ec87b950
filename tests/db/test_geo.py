"""GeoJSON in and out: every validation rule, promotion, and plain 2D output."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest
from shapely import GeometryCollection, LineString, MultiPolygon, Point, Polygon, box

from stadtkern.geo import MAX_POSITIONS, GeometryError, geometry_from_geojson, geometry_to_geojson

ALL = (
    "Point",
    "MultiPoint",
    "LineString",
    "MultiLineString",
    "Polygon",
    "MultiPolygon",
    "GeometryCollection",
)
ALTSTADT_RING = [[7.76, 49.44], [7.78, 49.44], [7.78, 49.45], [7.76, 49.45], [7.76, 49.44]]
HOLE_RING = [[7.765, 49.442], [7.77, 49.442], [7.77, 49.444], [7.765, 49.444], [7.765, 49.442]]
POLYGON = {"type": "Polygon", "coordinates": [ALTSTADT_RING]}


def _polygon(*rings: list[list[Any]]) -> dict[str, Any]:
    return {"type": "Polygon", "coordinates": list(rings)}


def _point(*coordinates: object) -> dict[str, Any]:
    return {"type": "Point", "coordinates": list(coordinates)}


SECOND_RING = [[7.70, 49.40], [7.71, 49.40], [7.71, 49.41], [7.70, 49.41], [7.70, 49.40]]
VALID: dict[str, dict[str, Any]] = {
    "point": {"type": "Point", "coordinates": [7.7725, 49.4475]},
    "point-with-altitude": {"type": "Point", "coordinates": [7.7725, 49.4475, 235]},
    "integer-coordinates": {"type": "Point", "coordinates": [7, 49]},
    "linestring": {"type": "LineString", "coordinates": [[7.75, 49.4455], [7.80, 49.4455]]},
    "polygon-with-hole": _polygon(ALTSTADT_RING, HOLE_RING),
    "clockwise-polygon": _polygon(ALTSTADT_RING[::-1]),
    "multipoint": {"type": "MultiPoint", "coordinates": [[7.77, 49.44], [7.78, 49.45]]},
    "multilinestring": {
        "type": "MultiLineString",
        "coordinates": [[[7.75, 49.44], [7.76, 49.45]], [[7.77, 49.44], [7.78, 49.45]]],
    },
    "multipolygon": {"type": "MultiPolygon", "coordinates": [[ALTSTADT_RING], [SECOND_RING]]},
    "collection": {"type": "GeometryCollection", "geometries": [POLYGON, _point(7.9, 49.5)]},
    "world-corners": {"type": "LineString", "coordinates": [[-180, -90], [180, 90]]},
    "with-bbox-member": {**POLYGON, "bbox": [7.76, 49.44, 7.78, 49.45]},
}


@pytest.mark.parametrize("data", VALID.values(), ids=VALID.keys())
def test_valid_geometries_round_trip(data: dict[str, Any]) -> None:
    geometry = geometry_from_geojson(data, allowed=ALL)
    assert geometry.is_valid
    assert not geometry.has_z
    again = geometry_to_geojson(geometry)
    assert again["type"] == data["type"]
    assert geometry_from_geojson(again, allowed=ALL).equals(geometry)


def _error(data: object, allowed: tuple[str, ...] = ALL, **kwargs: bool) -> str:
    with pytest.raises(GeometryError) as caught:
        geometry_from_geojson(data, allowed=allowed, **kwargs)
    return str(caught.value)


INVALID: dict[str, tuple[object, str]] = {
    "not-an-object": ("POINT (7 49)", "expected a GeoJSON geometry object, got str"),
    "null": (None, "expected a GeoJSON geometry object, got null"),
    "feature": (
        {"type": "Feature", "geometry": POLYGON},
        "expected a geometry object, got a Feature",
    ),
    "unknown-type": ({"type": "Circle", "coordinates": [7, 49]}, "unknown geometry type 'Circle'"),
    "missing-type": ({"coordinates": [7, 49]}, "unknown geometry type None"),
    "crs-member": ({**POLYGON, "crs": {"type": "name"}}, "'crs' member is not supported"),
    "missing-coordinates": ({"type": "Point"}, "geometry.coordinates: expected an array, got null"),
    "position-too-short": (_point(7.77), "a position has 2 or 3 numbers, got 1"),
    "position-too-long": (_point(7.77, 49.44, 1, 2), "a position has 2 or 3 numbers, got 4"),
    "string-coordinate": (_point("7.77", 49.44), "coordinates must be numbers, got str"),
    "boolean-coordinate": (_point(True, 49.44), "coordinates must be numbers, got bool"),
    "null-coordinate": (_point(7.77, None), "coordinates must be numbers, got null"),
    "nan-coordinate": (_point(float("nan"), 49.44), "coordinates must be finite numbers"),
    "infinite-coordinate": (_point(7.77, float("inf")), "coordinates must be finite numbers"),
    "longitude-out-of-range": (_point(180.5, 49.44), "longitude 180.5 is outside [-180, 180]"),
    "latitude-out-of-range": (_point(7.77, -90.1), "latitude -90.1 is outside [-90, 90]"),
    "swapped-lat-lon-far-north": (_point(49.44, 97.77), "latitude 97.77 is outside [-90, 90]"),
    "line-of-one-position": (
        {"type": "LineString", "coordinates": [[7.75, 49.44]]},
        "geometry.coordinates: needs at least 2 positions, got 1",
    ),
    "ring-not-closed": (
        _polygon([*ALTSTADT_RING[:-1], [7.76, 49.441]]),
        "geometry.coordinates[0]: the ring is not closed",
    ),
    "ring-too-short": (
        _polygon([[7.76, 49.44], [7.78, 49.44], [7.76, 49.44]]),
        "geometry.coordinates[0]: needs at least 4 positions, got 3",
    ),
    "hole-too-short": (
        _polygon(ALTSTADT_RING, [[7.765, 49.442], [7.77, 49.442], [7.765, 49.442]]),
        "geometry.coordinates[1]: needs at least 4 positions, got 3",
    ),
    "polygon-without-rings": (_polygon(), "a polygon needs an exterior ring"),
    "self-intersecting": (
        _polygon([[7.76, 49.44], [7.78, 49.45], [7.78, 49.44], [7.76, 49.45], [7.76, 49.44]]),
        "invalid Polygon: Self-intersection",
    ),
    "hole-outside-shell": (
        _polygon(
            ALTSTADT_RING, [[7.9, 49.5], [7.91, 49.5], [7.91, 49.51], [7.9, 49.51], [7.9, 49.5]]
        ),
        "invalid Polygon: Hole lies outside shell",
    ),
    "degenerate-line": (
        {"type": "LineString", "coordinates": [[7.75, 49.44], [7.75, 49.44]]},
        "invalid LineString: Too few points",
    ),
    "overlapping-multipolygon": (
        {"type": "MultiPolygon", "coordinates": [[ALTSTADT_RING], [ALTSTADT_RING]]},
        "invalid MultiPolygon: Self-intersection",
    ),
    "empty-multipoint": ({"type": "MultiPoint", "coordinates": []}, "the geometry is empty"),
    "empty-multipolygon": ({"type": "MultiPolygon", "coordinates": []}, "the geometry is empty"),
    "empty-collection": ({"type": "GeometryCollection", "geometries": []}, "the geometry is empty"),
    "nested-collection": (
        {
            "type": "GeometryCollection",
            "geometries": [{"type": "GeometryCollection", "geometries": []}],
        },
        "geometry.geometries[0]: nested GeometryCollections are not supported",
    ),
    "bad-collection-member": (
        {"type": "GeometryCollection", "geometries": [_point(7.77, 91)]},
        "geometry.geometries[0].coordinates: latitude 91.0 is outside [-90, 90]",
    ),
    "error-names-its-place": (
        {
            "type": "MultiPolygon",
            "coordinates": [
                [ALTSTADT_RING],
                [[*ALTSTADT_RING[:2], [7.78, "x"], *ALTSTADT_RING[3:]]],
            ],
        },
        "geometry.coordinates[1][0][2]: coordinates must be numbers, got str",
    ),
}


@pytest.mark.parametrize(("data", "message"), INVALID.values(), ids=INVALID.keys())
def test_invalid_geometries_are_refused(data: object, message: str) -> None:
    assert message in _error(data)


def test_type_must_be_allowed() -> None:
    message = _error(POLYGON, allowed=("MultiPolygon", "Point"))
    assert message == "geometry type Polygon is not allowed here (allowed: MultiPolygon, Point)"


def test_too_many_positions() -> None:
    ring = [[7.0 + i * 1e-6, 49.0] for i in range(MAX_POSITIONS)] + [[7.0, 49.0]]
    assert f"more than {MAX_POSITIONS} positions" in _error(_polygon(ring))
    many_points = {"type": "MultiPoint", "coordinates": [[7.0, 49.0]] * (MAX_POSITIONS + 1)}
    assert f"more than {MAX_POSITIONS} positions" in _error(many_points)


def test_unknown_allowed_type_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="unknown GeoJSON geometry types") as caught:
        geometry_from_geojson(POLYGON, allowed=("polygon",))
    assert not isinstance(caught.value, GeometryError)


def test_polygon_is_promoted_when_only_multipolygon_is_allowed() -> None:
    geometry = geometry_from_geojson(POLYGON, allowed=("MultiPolygon",), promote_to_multi=True)
    assert isinstance(geometry, MultiPolygon)
    assert geometry.equals(MultiPolygon([box(7.76, 49.44, 7.78, 49.45)]))
    assert "not allowed" in _error(POLYGON, allowed=("MultiPolygon",))
    assert "not allowed" in _error(POLYGON, allowed=("MultiPoint",), promote_to_multi=True)


def test_promotion_leaves_allowed_types_alone() -> None:
    allowed = ("Polygon", "MultiPolygon")
    geometry = geometry_from_geojson(POLYGON, allowed=allowed, promote_to_multi=True)
    assert isinstance(geometry, Polygon)


def test_point_and_line_are_promoted_too() -> None:
    point = geometry_from_geojson(
        _point(7.77, 49.44), allowed=("MultiPoint",), promote_to_multi=True
    )
    line = geometry_from_geojson(
        {"type": "LineString", "coordinates": [[7.75, 49.44], [7.76, 49.45]]},
        allowed=("MultiLineString",),
        promote_to_multi=True,
    )
    assert (point.geom_type, line.geom_type) == ("MultiPoint", "MultiLineString")


def test_output_is_plain_2d_json() -> None:
    geometry = GeometryCollection(
        [
            Point(np.float64(7.77), np.float64(49.44), 235.0),
            LineString([(7, 49), (8, 50)]),
            Polygon(box(7.76, 49.44, 7.78, 49.45).exterior.coords, [HOLE_RING]),
        ]
    )
    data = geometry_to_geojson(geometry)
    assert json.loads(json.dumps(data)) == data
    assert data["geometries"][0] == {"type": "Point", "coordinates": [7.77, 49.44]}
    assert data["geometries"][2]["coordinates"][1][0] == [7.765, 49.442]

    def numbers(value: object) -> list[object]:
        if isinstance(value, dict):
            return [n for item in value.values() for n in numbers(item)]
        if isinstance(value, list):
            return [n for item in value for n in numbers(item)]
        return [value] if not isinstance(value, str) else []

    assert {type(n) for n in numbers(data)} == {float}


def test_empty_geometry_output() -> None:
    assert geometry_to_geojson(Polygon()) == {"type": "Polygon", "coordinates": []}

"""Alert areas: zones, polygons, circles and regional keys resolved to lanterns and CAP areas."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from shapely.geometry import Point, Polygon, box
from shapely.ops import unary_union
from sqlalchemy import select

from stadtkern.core.models import Tenant
from stadtkern.core.refs import TenantRef
from stadtkern.core.tenants import to_ref
from stadtkern.db import Database
from stadtkern.db.sqlite_functions import EARTH_RADIUS_M
from stadtkern.warning.areas import AreaSpec, ResolvedArea, cap_polygons, resolve_area
from stadtkern.warning.cap_geo import cap_polygon
from tests.warning.conftest import Staff
from tests.warning.test_register import register_lantern
from tests.warning.test_zones_api import BOWTIE, add_zone, square

ARS = "073120000000"  # the test towns' own regional key
# The square 7.70-7.72 E, 49.40-49.42 N, as GeoJSON and as CAP writes it (latitude first).
SQUARE = square(7.70, 49.40, 0.02)
SQUARE_CAP = "49.4,7.7 49.4,7.72 49.42,7.72 49.42,7.7 49.4,7.7"


def preview(client: TestClient, town: Staff, area: dict[str, Any]) -> dict[str, Any]:
    """The preview of an area, asked by an issuer."""
    response = client.post(
        f"/{town.slug}/warning/areas/preview", json=area, headers=town.bearer(town.issuer)
    )
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def reached(client: TestClient, town: Staff, area: dict[str, Any]) -> list[str]:
    """Codes of the lanterns an area reaches."""
    return [lantern["code"] for lantern in preview(client, town, area)["lanterns"]]


def refused(client: TestClient, town: Staff, area: dict[str, Any]) -> str:
    """The detail of the 422 problem an area is refused with."""
    response = client.post(
        f"/{town.slug}/warning/areas/preview", json=area, headers=town.bearer(town.issuer)
    )
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    return str(response.json()["detail"]) + str(response.json().get("errors", ""))


def resolved(database: Database, town: Staff, area: dict[str, Any]) -> ResolvedArea:
    """The area resolved by the service layer."""
    with database.read() as session:
        return resolve_area(session, tenant_ref(database, town), AreaSpec.model_validate(area))


def tenant_ref(database: Database, town: Staff) -> TenantRef:
    """The town as the service layer sees it."""
    with database.read() as session:
        return to_ref(session.scalars(select(Tenant).where(Tenant.slug == town.slug)).one())


def destination(lon: float, lat: float, metres: float, bearing_deg: float) -> tuple[float, float]:
    """The point `metres` from (lon, lat) along a great circle with this bearing."""
    phi, lam, delta = math.radians(lat), math.radians(lon), metres / EARTH_RADIUS_M
    theta = math.radians(bearing_deg)
    phi2 = math.asin(
        math.sin(phi) * math.cos(delta) + math.cos(phi) * math.sin(delta) * math.cos(theta)
    )
    lam2 = lam + math.atan2(
        math.sin(theta) * math.sin(delta) * math.cos(phi),
        math.cos(delta) - math.sin(phi) * math.sin(phi2),
    )
    return math.degrees(lam2), math.degrees(phi2)


@pytest.fixture
def streets(client: TestClient, town: Staff) -> Staff:
    """Lanterns inside the square (A1, A2), on its east border (B1), and outside (C1)."""
    register_lantern(client, town, "A1", lon=7.705, lat=49.405)
    register_lantern(client, town, "A2", lon=7.715, lat=49.415)
    register_lantern(client, town, "B1", lon=7.72, lat=49.41)
    register_lantern(client, town, "C1", lon=7.75, lat=49.45)
    return town


def test_geojson_polygon_and_cap_polygon_agree(client: TestClient, streets: Staff) -> None:
    """CAP polygons are latitude first; the same square reaches the same lanterns."""
    assert reached(client, streets, {"polygons": [SQUARE]}) == ["A1", "A2", "B1"]
    assert reached(client, streets, {"polygons": [SQUARE_CAP]}) == ["A1", "A2", "B1"]
    lon_first = "7.4,49.4 7.72,49.4 7.72,49.42 7.4,49.42 7.4,49.4"
    assert reached(client, streets, {"polygons": [lon_first]}) == []


def test_point_on_the_border_is_warned(client: TestClient, streets: Staff) -> None:
    """A lantern on an area's or a zone's border is in it."""
    east_half = square(7.72, 49.40, 0.02)
    assert reached(client, streets, {"polygons": [east_half]}) == ["B1"]
    add_zone(client, streets, "ost", geometry=east_half)
    assert reached(client, streets, {"zones": ["ost"]}) == ["B1"]


def test_circle_uses_the_exact_distance(
    client: TestClient, town: Staff, database: Database
) -> None:
    """Inside the radius but outside the 64-gon is warned; beyond the radius is not."""
    centre = (7.75, 49.45)
    # Halfway between two corners of the 64-gon its edge lies 1.2 m inside the circle.
    register_lantern(client, town, "IN", *destination(*centre, 999.5, 360 / 128))
    register_lantern(client, town, "OUT", *destination(*centre, 1000.5, 0))
    register_lantern(client, town, "CENTRE", *centre)
    circle = {"lat": centre[1], "lon": centre[0], "radiusKm": 1}
    assert reached(client, town, {"circles": [circle]}) == ["CENTRE", "IN"]
    assert reached(client, town, {"circles": ["49.45,7.75 1"]}) == ["CENTRE", "IN"]
    area = resolved(database, town, {"circles": [circle]})
    assert not area.geometry.covers(Point(destination(*centre, 999.5, 360 / 128)))
    assert len(area.geometry.geoms[0].exterior.coords) == 65
    assert area.cap_areas[0]["circles"] == ["49.45,7.75 1"]


def test_zone_and_its_regional_key(client: TestClient, streets: Staff, database: Database) -> None:
    """A zone is reached by its key or by its ARS geocode, as one CAP area with both."""
    add_zone(client, streets, "west", geometry=SQUARE, ars="073120000001")
    assert reached(client, streets, {"zones": ["west"]}) == ["A1", "A2", "B1"]
    by_code = {"geocodes": [{"valueName": "ARS", "value": "073120000001"}]}
    assert reached(client, streets, by_code) == ["A1", "A2", "B1"]
    area = resolved(database, streets, {"zones": ["west"], **by_code})
    assert area.zone_keys == ["west"]
    assert area.cap_areas == [
        {
            "areaDesc": "Bezirk west",
            "polygons": [SQUARE_CAP],
            "circles": [],
            "geocodes": [("ARS", "073120000001")],
        }
    ]


def test_town_regional_key_without_boundary_is_every_lantern(
    client: TestClient, streets: Staff, database: Database
) -> None:
    """The town's own ARS reaches all its lanterns when the town has no boundary."""
    area = {"geocodes": [{"valueName": "ARS", "value": ARS}]}
    assert reached(client, streets, area) == ["A1", "A2", "B1", "C1"]
    result = resolved(database, streets, area)
    assert result.whole_tenant
    assert result.geometry.is_empty
    assert result.cap_areas[0]["geocodes"] == [("ARS", ARS)]
    assert result.cap_areas[0]["polygons"] == []


def test_town_regional_key_with_boundary_is_the_boundary(
    client: TestClient, streets: Staff, platform_admin: dict[str, str], database: Database
) -> None:
    """With a boundary, the town's ARS is its boundary, written as a CAP polygon."""
    response = client.patch(
        f"/admin/tenants/{streets.slug}", json={"boundary": SQUARE}, headers=platform_admin
    )
    assert response.status_code == 200, response.text
    area = {"geocodes": [{"valueName": "ARS", "value": ARS}]}
    assert reached(client, streets, area) == ["A1", "A2", "B1"]
    result = resolved(database, streets, area)
    assert not result.whole_tenant
    assert result.cap_areas[0]["polygons"] == [SQUARE_CAP]


def test_union_of_members(client: TestClient, streets: Staff, database: Database) -> None:
    """Zones, polygons and circles add up; each is its own CAP area, polygons closed."""
    add_zone(client, streets, "a1", geometry=square(7.704, 49.404, 0.002))
    area = {
        "zones": ["a1", "a1"],
        "polygons": [square(7.714, 49.414, 0.002)],
        "circles": [{"lat": 49.45, "lon": 7.75, "radiusKm": 0.1}],
    }
    assert reached(client, streets, area) == ["A1", "A2", "C1"]
    result = resolved(database, streets, area)
    assert [a["areaDesc"] for a in result.cap_areas][:2] == ["Bezirk a1", "Drawn area 1"]
    assert len(result.cap_areas) == 3
    assert len(result.geometry.geoms) == 3
    for cap_area in result.cap_areas[:2]:
        (text,) = cap_area["polygons"]
        pairs = text.split()
        assert pairs[0] == pairs[-1]
        lat, lon = map(float, pairs[0].split(","))
        assert 49 < lat < 50
        assert 7 < lon < 8


def test_preview_answers_counts_and_map(client: TestClient, streets: Staff) -> None:
    """Counts by status, the lanterns, and GeoJSON of the area and the lanterns."""
    result = preview(client, streets, {"polygons": [SQUARE]})
    assert (result["count"], result["ready"]) == (3, 0)
    assert result["statuses"]["never_seen"] == 3
    assert result["lanterns"][0] == {
        "code": "A1",
        "name": "Laterne A1",
        "district": None,
        "status": "never_seen",
    }
    features = result["map"]["features"]
    assert result["map"]["type"] == "FeatureCollection"
    assert features[0]["properties"]["kind"] == "area"
    assert features[0]["geometry"]["type"] == "MultiPolygon"
    assert [f["properties"]["code"] for f in features[1:]] == ["A1", "A2", "B1"]
    assert features[1]["geometry"] == {"type": "Point", "coordinates": [7.705, 49.405]}


def test_unknown_zones_are_named(client: TestClient, town: Staff) -> None:
    """Every unknown zone is named in the problem."""
    add_zone(client, town, "nord")
    detail = refused(client, town, {"zones": ["nord", "sued", "ost"]})
    assert "'sued'" in detail
    assert "'ost'" in detail
    assert "'nord'" not in detail


@pytest.mark.parametrize(
    ("area", "reason"),
    [
        ({}, "at least one"),
        ({"geocodes": [{"valueName": "ARS", "value": "079999999999"}]}, "unknown geocode"),
        ({"geocodes": [{"valueName": "AGS", "value": "07312000"}]}, "unknown geocode"),
        ({"geocodes": [{"valueName": "ARS", "value": "0731"}]}, "12 digits"),
        ({"polygons": [BOWTIE]}, "Self-intersection"),
        ({"polygons": ["49.4,7.7 49.41,7.71 49.4,7.71 49.41,7.7 49.4,7.7"]}, "Self-intersection"),
        ({"polygons": ["49.4,7.7 49.4,7.72 49.42,7.72 49.42,7.7"]}, "not closed"),
        ({"polygons": ["49.4,7.7 49.4,7.72 95,7.72 49.4,7.7"]}, "latitude"),
        ({"polygons": [{"type": "Point", "coordinates": [7.7, 49.4]}]}, "not allowed"),
        ({"circles": ["49.45,7.75"]}, "radius"),
        ({"circles": ["49.45,7.75 0"]}, "radius"),
        ({"circles": ["49.45,7.75 5000"]}, "radius"),
        ({"circles": [{"lat": 49.45, "lon": 7.75, "radiusKm": 0}]}, "radiusKm"),
        ({"circles": [{"lat": 91, "lon": 7.75, "radiusKm": 1}]}, "lat"),
        ({"circles": [{"lat": 49.45, "lon": 7.75, "radiusKm": 1e-9}]}, "too small"),
    ],
)
def test_invalid_areas_are_refused(
    client: TestClient, town: Staff, area: dict[str, Any], reason: str
) -> None:
    """Clear 422 problems, never a repaired shape."""
    assert reason in refused(client, town, area)


def test_preview_roles(client: TestClient, town: Staff) -> None:
    """Issuers and operators preview; viewers and approvers do not."""
    url = f"/{town.slug}/warning/areas/preview"
    area = {"polygons": [SQUARE]}
    for key, expected in (
        (town.issuer, 200),
        (town.operator, 200),
        (town.viewer, 403),
        (town.approver, 403),
    ):
        assert client.post(url, json=area, headers=town.bearer(key)).status_code == expected
    assert client.post(url, json=area).status_code == 401


def test_other_towns_zones_are_unknown(client: TestClient, make_town: Callable[[], Staff]) -> None:
    """A zone of another town is an unknown zone, its key an unknown geocode."""
    town, other = make_town(), make_town()
    add_zone(client, town, "nord", ars="073120000001")
    assert "unknown zone" in refused(client, other, {"zones": ["nord"]})
    area = {"geocodes": [{"valueName": "ARS", "value": "073120000001"}]}
    assert "unknown geocode" in refused(client, other, area)
    url = f"/{town.slug}/warning/areas/preview"
    response = client.post(url, json={"zones": ["nord"]}, headers=other.bearer(other.issuer))
    assert response.status_code == 404


def test_polygons_with_holes_become_cap_polygons_without() -> None:
    """CAP has no holes: a polygon with holes is cut into pieces that cover it exactly."""
    shell = box(7.0, 49.0, 8.0, 50.0).exterior.coords
    holes = [box(7.2, 49.2, 7.4, 49.4).exterior.coords, box(7.6, 49.5, 7.8, 49.8).exterior.coords]
    polygon = Polygon(shell, holes)
    texts = cap_polygons(polygon)
    pieces = [cap_polygon(text) for text in texts]
    assert all(not piece.interiors for piece in pieces)
    assert unary_union(pieces).symmetric_difference(polygon).area < 1e-12
    assert sum(piece.area for piece in pieces) == pytest.approx(polygon.area)


def test_zone_with_a_hole(client: TestClient, streets: Staff, database: Database) -> None:
    """A lantern in a zone's hole is not warned; the CAP polygons leave the hole out too."""
    shell = SQUARE["coordinates"][0]
    hole = [[7.712, 49.412], [7.718, 49.412], [7.718, 49.418], [7.712, 49.418], [7.712, 49.412]]
    add_zone(client, streets, "ring", geometry={"type": "Polygon", "coordinates": [shell, hole]})
    assert reached(client, streets, {"zones": ["ring"]}) == ["A1", "B1"]
    texts = resolved(database, streets, {"zones": ["ring"]}).cap_areas[0]["polygons"]
    assert len(texts) > 1
    covered = unary_union([cap_polygon(text) for text in texts])
    assert not covered.contains(Point(7.715, 49.415))
    assert covered.contains(Point(7.705, 49.405))

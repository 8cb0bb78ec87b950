"""Warning zones over HTTP: create, show, replace, delete; bad geometry refused, not repaired."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.warning.conftest import Staff


def square(west: float, south: float, size: float = 0.01) -> dict[str, Any]:
    """A GeoJSON Polygon: a square with its south-west corner at (west, south)."""
    east, north = west + size, south + size
    ring = [[west, south], [east, south], [east, north], [west, north], [west, south]]
    return {"type": "Polygon", "coordinates": [ring]}


def zone_body(key: str, geometry: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    """A valid ZoneInput."""
    return {
        "key": key,
        "name": f"Bezirk {key}",
        "kind": "district",
        "geometry": geometry or square(7.7, 49.4),
        **extra,
    }


def add_zone(client: TestClient, town: Staff, key: str, **extra: Any) -> dict[str, Any]:
    """Create a zone through the API and return it."""
    response = client.post(
        f"/{town.slug}/warning/zones",
        json=zone_body(key, **extra),
        headers=town.bearer(town.operator),
    )
    assert response.status_code == 201, response.text
    zone: dict[str, Any] = response.json()
    return zone


def zone_keys(client: TestClient, town: Staff) -> list[str]:
    """The keys the zone listing shows."""
    response = client.get(f"/{town.slug}/warning/zones", headers=town.bearer(town.viewer))
    assert response.status_code == 200, response.text
    return [zone["key"] for zone in response.json()]


def test_zone_lifecycle(client: TestClient, town: Staff) -> None:
    """A Polygon is stored as a MultiPolygon; PUT replaces; DELETE removes."""
    zone = add_zone(client, town, "altstadt", ars="073120000001")
    assert zone["geometry"]["type"] == "MultiPolygon"
    assert zone["geometry"]["coordinates"][0] == square(7.7, 49.4)["coordinates"]
    assert (zone["kind"], zone["ars"]) == ("district", "073120000001")
    url = f"/{town.slug}/warning/zones/altstadt"
    assert client.get(url, headers=town.bearer(town.viewer)).json() == zone
    replaced = {"name": "Innenstadt", "kind": "drawn", "geometry": square(7.8, 49.5)}
    response = client.put(url, json=replaced, headers=town.bearer(town.operator))
    assert response.status_code == 200, response.text
    assert (response.json()["name"], response.json()["ars"]) == ("Innenstadt", None)
    add_zone(client, town, "bahnhof")
    assert zone_keys(client, town) == ["altstadt", "bahnhof"]
    assert client.delete(url, headers=town.bearer(town.operator)).status_code == 204
    assert zone_keys(client, town) == ["bahnhof"]
    assert client.get(url, headers=town.headers).status_code == 404
    assert client.put(url, json=replaced, headers=town.bearer(town.operator)).status_code == 404
    response = client.get(f"/{town.slug}/admin/audit", headers=town.headers)
    actions = {entry["action"] for entry in response.json()}
    assert {"warning.zone.create", "warning.zone.update", "warning.zone.delete"} <= actions


def test_duplicate_key_or_regional_key_conflicts(client: TestClient, town: Staff) -> None:
    """A key and a regional key name one zone of a town."""
    add_zone(client, town, "nord", ars="073120000001")
    for body in (zone_body("nord"), zone_body("sued", ars="073120000001")):
        response = client.post(
            f"/{town.slug}/warning/zones", json=body, headers=town.bearer(town.operator)
        )
        assert response.status_code == 409, response.text
    assert zone_keys(client, town) == ["nord"]


BOWTIE = {
    "type": "Polygon",
    "coordinates": [[[7.7, 49.4], [7.71, 49.41], [7.71, 49.4], [7.7, 49.41], [7.7, 49.4]]],
}


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"geometry": BOWTIE}, "Self-intersection"),
        ({"geometry": square(7.7, 89.999, 0.01)}, "latitude"),
        ({"geometry": {"type": "Point", "coordinates": [7.7, 49.4]}}, "not allowed"),
        ({"geometry": {"type": "Polygon", "coordinates": []}}, "exterior ring"),
        ({"geometry": {"type": "Polygon", "coordinates": [[[7, 49], [8, 49], [8, 50]]]}}, "4"),
        ({"geometry": {"type": ["Polygon"], "coordinates": []}}, "geometry type"),
        ({"key": "Alt Stadt"}, "key"),
        ({"kind": "city"}, "kind"),
        ({"ars": "12345"}, "ars"),
        ({"name": ""}, "name"),
    ],
)
def test_invalid_zones_are_refused(
    client: TestClient, town: Staff, change: dict[str, Any], reason: str
) -> None:
    """A clear 422 problem, and no zone."""
    response = client.post(
        f"/{town.slug}/warning/zones",
        json={**zone_body("z"), **change},
        headers=town.bearer(town.operator),
    )
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert reason in response.text
    assert zone_keys(client, town) == []


def test_invalid_replacement_keeps_the_zone(client: TestClient, town: Staff) -> None:
    """A PUT with a self-intersecting polygon changes nothing."""
    zone = add_zone(client, town, "nord")
    url = f"/{town.slug}/warning/zones/nord"
    body = {"name": "x", "kind": "drawn", "geometry": BOWTIE}
    response = client.put(url, json=body, headers=town.bearer(town.operator))
    assert response.status_code == 422, response.text
    assert client.get(url, headers=town.headers).json() == zone


def test_roles(client: TestClient, town: Staff) -> None:
    """Viewers read zones, only operators change them."""
    add_zone(client, town, "nord")
    viewer = town.bearer(town.viewer)
    url = f"/{town.slug}/warning/zones"
    assert client.post(url, json=zone_body("sued"), headers=viewer).status_code == 403
    assert client.delete(f"{url}/nord", headers=viewer).status_code == 403
    assert client.get(url).status_code == 401


def test_other_town_sees_no_zone(client: TestClient, make_town: Callable[[], Staff]) -> None:
    """Another town's staff get 404 for this town's zones, under either path."""
    town, other = make_town(), make_town()
    add_zone(client, town, "nord")
    assert zone_keys(client, other) == []
    for slug in (town.slug, other.slug):
        url = f"/{slug}/warning/zones/nord"
        assert client.get(url, headers=other.headers).status_code == 404
        body = {"name": "x", "kind": "drawn", "geometry": square(7.7, 49.4)}
        assert client.put(url, json=body, headers=other.headers).status_code == 404
        assert client.delete(url, headers=other.headers).status_code == 404
    assert zone_keys(client, town) == ["nord"]

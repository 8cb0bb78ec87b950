"""The lantern register over HTTP: lanterns with their SensorThings Things, roles, isolation."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from stadtkern.core.models import Tenant
from stadtkern.db import Database
from stadtkern.devices.lantern.protocol import public_key_text
from stadtkern.warning.models import Alert, Delivery, Lantern
from tests.warning.conftest import Staff

# A few streets of a town near 49.44 N, 7.77 E.
LON, LAT = 7.77, 49.44


def device_key() -> str:
    """A fresh lantern public key as text."""
    return public_key_text(Ed25519PrivateKey.generate().public_key())


def lantern_body(code: str, lon: float = LON, lat: float = LAT, **extra: Any) -> dict[str, Any]:
    """A valid LanternInput."""
    return {
        "code": code,
        "name": f"Laterne {code}",
        "lon": lon,
        "lat": lat,
        "publicKey": device_key(),
        **extra,
    }


def register_lantern(
    client: TestClient, town: Staff, code: str, lon: float = LON, lat: float = LAT, **extra: Any
) -> dict[str, Any]:
    """Register a lantern through the API and return it."""
    response = client.post(
        f"/{town.slug}/warning/lanterns",
        json=lantern_body(code, lon, lat, **extra),
        headers=town.bearer(town.operator),
    )
    assert response.status_code == 201, response.text
    lantern: dict[str, Any] = response.json()
    return lantern


def codes(client: TestClient, town: Staff, query: str = "") -> list[str]:
    """The codes the lantern listing shows."""
    response = client.get(f"/{town.slug}/warning/lanterns{query}", headers=town.headers)
    assert response.status_code == 200, response.text
    return [lantern["code"] for lantern in response.json()]


def sta(client: TestClient, town: Staff, path: str) -> Any:
    """A SensorThings read of the town."""
    response = client.get(f"/{town.slug}/v1.1/{path}", headers=town.headers)
    assert response.status_code == 200, response.text
    return response.json()


def audit_actions(client: TestClient, town: Staff) -> list[str]:
    """The town's audit log, newest first, as actions."""
    response = client.get(f"/{town.slug}/admin/audit?limit=1000", headers=town.headers)
    assert response.status_code == 200, response.text
    return [entry["action"] for entry in response.json()]


def test_register_makes_the_thing(client: TestClient, town: Staff) -> None:
    """A lantern comes with a Thing, its Location, tasking and four status Datastreams."""
    body = lantern_body("L-1", district="Altstadt", sirenSoundLevelDb=112.5, firmware="2.1")
    response = client.post(
        f"/{town.slug}/warning/lanterns", json=body, headers=town.bearer(town.operator)
    )
    assert response.status_code == 201, response.text
    lantern = response.json()
    assert response.headers["location"] == f"/{town.slug}/warning/lanterns/L-1"
    assert lantern["status"] == "never_seen"
    assert (lantern["lon"], lantern["lat"], lantern["heartbeatSeconds"]) == (LON, LAT, 60)
    thing = sta(
        client,
        town,
        f"Things({lantern['thingId']})?$expand=Locations,Datastreams,TaskingCapabilities/Actuator",
    )
    assert thing["name"] == "Laterne L-1"
    assert thing["properties"] == {
        "kind": "lantern",
        "lantern": {
            "code": "L-1",
            "sirenSoundLevelDb": 112.5,
            "firmware": "2.1",
            "publicKey": body["publicKey"],
            "district": "Altstadt",
        },
    }
    assert thing["Locations"][0]["location"] == {"type": "Point", "coordinates": [LON, LAT]}
    streams = {stream["name"]: stream for stream in thing["Datastreams"]}
    assert set(streams) == {
        "Battery level",
        "Mains power",
        "Siren sound level",
        "Speaker self-test",
    }
    assert lantern["streams"] == {
        "battery": streams["Battery level"]["@iot.id"],
        "mains": streams["Mains power"]["@iot.id"],
        "sound_level": streams["Siren sound level"]["@iot.id"],
        "selftest": streams["Speaker self-test"]["@iot.id"],
    }
    assert streams["Mains power"]["observationType"].endswith("OM_TruthObservation")
    assert streams["Battery level"]["unitOfMeasurement"]["symbol"] == "%"
    capabilities = {c["name"]: c["Actuator"]["name"] for c in thing["TaskingCapabilities"]}
    assert set(capabilities) == {"Siren", "Loudspeaker", "Light"}
    assert "warning.lantern.create" in audit_actions(client, town)


def test_second_lantern_shares_sensor_and_actuators(client: TestClient, town: Staff) -> None:
    """The town-wide Sensor, ObservedProperties and Actuators are made once."""
    register_lantern(client, town, "A")
    register_lantern(client, town, "B")
    assert len(sta(client, town, "Things")["value"]) == 2
    assert len(sta(client, town, "Sensors")["value"]) == 1
    assert len(sta(client, town, "ObservedProperties")["value"]) == 4
    assert len(sta(client, town, "Actuators")["value"]) == 3
    assert len(sta(client, town, "Datastreams")["value"]) == 8


def test_duplicate_code_conflicts(client: TestClient, town: Staff) -> None:
    """A code is registered once per town."""
    register_lantern(client, town, "L-1")
    response = client.post(
        f"/{town.slug}/warning/lanterns",
        json=lantern_body("L-1"),
        headers=town.bearer(town.operator),
    )
    assert response.status_code == 409, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert len(sta(client, town, "Things")["value"]) == 1


@pytest.mark.parametrize(
    "change",
    [
        {"code": "L 1"},
        {"code": "x" * 65},
        {"publicKey": "AAAA"},
        {"publicKey": device_key() + "="},
        {"lon": 181.0},
        {"lat": -90.5},
        {"lat": True},
        {"location": {"type": "Point", "coordinates": [LON, LAT]}},
        {"sirenSoundLevelDb": -1},
        {"heartbeatSeconds": 5},
        {"colour": "green"},
        {"name": "nul\u0000"},
    ],
)
def test_invalid_lanterns_are_refused(
    client: TestClient, town: Staff, change: dict[str, Any]
) -> None:
    """Bad content is a 422 problem and registers nothing."""
    response = client.post(
        f"/{town.slug}/warning/lanterns",
        json={**lantern_body("L-1"), **change},
        headers=town.bearer(town.operator),
    )
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert codes(client, town) == []
    assert sta(client, town, "Things")["value"] == []


def test_geojson_location_instead_of_lon_lat(client: TestClient, town: Staff) -> None:
    """A GeoJSON Point may give the place; a bad one is a 422."""
    body = lantern_body("G")
    del body["lon"], body["lat"]
    point = {"type": "Point", "coordinates": [7.5, 49.5]}
    response = client.post(
        f"/{town.slug}/warning/lanterns",
        json={**body, "location": point},
        headers=town.bearer(town.operator),
    )
    assert response.status_code == 201, response.text
    assert (response.json()["lon"], response.json()["lat"]) == (7.5, 49.5)
    bad = {**body, "code": "H", "location": {"type": "Point", "coordinates": [7.5, 95]}}
    response = client.post(
        f"/{town.slug}/warning/lanterns", json=bad, headers=town.bearer(town.operator)
    )
    assert response.status_code == 422, response.text
    assert "latitude" in response.text


def test_change_moves_and_renames_the_thing(client: TestClient, town: Staff) -> None:
    """A PATCH changes the register and the Thing; a move is a new Location."""
    lantern = register_lantern(client, town, "L-1", firmware="1.0")
    response = client.patch(
        f"/{town.slug}/warning/lanterns/L-1",
        json={"name": "Marktplatz", "lon": 7.8, "lat": 49.45, "firmware": None},
        headers=town.bearer(town.operator),
    )
    assert response.status_code == 200, response.text
    changed = response.json()
    assert (changed["name"], changed["lon"], changed["firmware"]) == ("Marktplatz", 7.8, None)
    thing = sta(client, town, f"Things({lantern['thingId']})?$expand=Locations,HistoricalLocations")
    assert thing["name"] == "Marktplatz"
    assert thing["properties"]["lantern"]["firmware"] is None
    assert thing["Locations"][0]["location"]["coordinates"] == [7.8, 49.45]
    assert len(thing["HistoricalLocations"]) == 2
    assert "warning.lantern.update" in audit_actions(client, town)


@pytest.mark.parametrize(
    "change", [{"name": None}, {"lon": 7.0}, {"publicKey": "x"}, {"code": "other"}]
)
def test_invalid_changes_are_refused(
    client: TestClient, town: Staff, change: dict[str, Any]
) -> None:
    """Required fields cannot be cleared, lon needs lat, the code stays."""
    register_lantern(client, town, "L-1")
    response = client.patch(
        f"/{town.slug}/warning/lanterns/L-1", json=change, headers=town.bearer(town.operator)
    )
    assert response.status_code == 422, response.text
    assert client.get(f"/{town.slug}/warning/lanterns/L-1", headers=town.headers).json()[
        "lon"
    ] == pytest.approx(LON)


def test_delete_removes_thing_and_locations(client: TestClient, town: Staff) -> None:
    """Deleting a lantern deletes its Thing, Datastreams and Locations."""
    register_lantern(client, town, "L-1")
    client.patch(
        f"/{town.slug}/warning/lanterns/L-1",
        json={"lon": 7.8, "lat": 49.45},
        headers=town.bearer(town.operator),
    )
    register_lantern(client, town, "L-2")
    response = client.delete(
        f"/{town.slug}/warning/lanterns/L-1", headers=town.bearer(town.operator)
    )
    assert response.status_code == 204, response.text
    assert client.get(f"/{town.slug}/warning/lanterns/L-1", headers=town.headers).status_code == 404
    assert [t["name"] for t in sta(client, town, "Things")["value"]] == ["Laterne L-2"]
    assert len(sta(client, town, "Locations")["value"]) == 1
    assert len(sta(client, town, "Datastreams")["value"]) == 4
    assert "warning.lantern.delete" in audit_actions(client, town)
    again = client.delete(f"/{town.slug}/warning/lanterns/L-1", headers=town.bearer(town.operator))
    assert again.status_code == 404


def test_thing_deleted_elsewhere_is_made_again(client: TestClient, town: Staff) -> None:
    """A lantern whose Thing was deleted through SensorThings gets a new one on change."""
    lantern = register_lantern(client, town, "L-1")
    response = client.delete(
        f"/{town.slug}/v1.1/Things({lantern['thingId']})", headers=town.headers
    )
    assert response.status_code == 200, response.text
    assert (
        client.get(f"/{town.slug}/warning/lanterns/L-1", headers=town.headers).json()["thingId"]
        is None
    )
    response = client.patch(
        f"/{town.slug}/warning/lanterns/L-1", json={}, headers=town.bearer(town.operator)
    )
    assert response.status_code == 200, response.text
    assert response.json()["thingId"] is not None
    assert len(sta(client, town, "Things")["value"]) == 1


def test_listing_filters(client: TestClient, town: Staff) -> None:
    """Filters by district, box and status; pages by code."""
    register_lantern(client, town, "C", lon=7.70, lat=49.40, district="Nord")
    register_lantern(client, town, "A", lon=7.80, lat=49.45, district="Nord")
    register_lantern(client, town, "B", lon=7.90, lat=49.50, district="Süd")
    assert codes(client, town) == ["A", "B", "C"]
    assert codes(client, town, "?district=Nord") == ["A", "C"]
    assert codes(client, town, "?bbox=7.75,49.42,7.95,49.55") == ["A", "B"]
    assert codes(client, town, "?bbox=7.75,49.42,7.95,49.55&district=Nord") == ["A"]
    assert codes(client, town, "?status=never_seen&after=A&limit=1") == ["B"]
    assert codes(client, town, "?status=ready") == []
    for bad in (
        "?bbox=1,2,3",
        "?bbox=8,49,7,50",
        "?bbox=nan,1,2,3",
        "?status=sleeping",
        "?limit=0",
        "?district=a%00b",
        "?after=A%00",
    ):
        response = client.get(f"/{town.slug}/warning/lanterns{bad}", headers=town.headers)
        assert response.status_code == 422, (bad, response.text)


def test_roles(client: TestClient, town: Staff) -> None:
    """Viewers read, operators change, anonymous callers are asked to authenticate."""
    register_lantern(client, town, "L-1")
    viewer = town.bearer(town.viewer)
    assert client.get(f"/{town.slug}/warning/lanterns/L-1", headers=viewer).status_code == 200
    for method, path, body in (
        ("POST", "/lanterns", lantern_body("L-2")),
        ("PATCH", "/lanterns/L-1", {"name": "x"}),
        ("DELETE", "/lanterns/L-1", None),
    ):
        url = f"/{town.slug}/warning{path}"
        assert client.request(method, url, json=body, headers=viewer).status_code == 403
        assert client.request(method, url, json=body).status_code == 401
    assert client.get(f"/{town.slug}/warning/lanterns").status_code == 401


def test_other_town_sees_nothing(client: TestClient, make_town: Callable[[], Staff]) -> None:
    """Another town's staff get 404 for this town's lanterns and Things."""
    town, other = make_town(), make_town()
    lantern = register_lantern(client, town, "L-1")
    assert codes(client, other) == []
    theirs = other.headers
    assert client.get(f"/{other.slug}/warning/lanterns/L-1", headers=theirs).status_code == 404
    assert client.get(f"/{town.slug}/warning/lanterns/L-1", headers=theirs).status_code == 404
    assert client.get(f"/{town.slug}/warning/lanterns", headers=theirs).status_code == 404
    response = client.get(f"/{other.slug}/v1.1/Things({lantern['thingId']})", headers=theirs)
    assert response.status_code == 404
    patch = client.patch(f"/{other.slug}/warning/lanterns/L-1", json={}, headers=theirs)
    assert patch.status_code == 404
    assert client.delete(f"/{other.slug}/warning/lanterns/L-1", headers=theirs).status_code == 404
    assert codes(client, town) == ["L-1"]


def test_no_removal_during_an_active_alert(
    client: TestClient, town: Staff, database: Database
) -> None:
    """A lantern an active alert was sent to stays until the alert ends."""
    register_lantern(client, town, "L-1")
    now = datetime.now(UTC)
    with database.write() as session:
        lantern = session.scalars(
            select(Lantern)
            .join(Tenant, Tenant.id == Lantern.tenant_id)
            .where(Tenant.slug == town.slug, Lantern.code == "L-1")
        ).one()
        alert = Alert(
            tenant_id=lantern.tenant_id,
            identifier="test-alert-1",
            sender="test",
            status="Exercise",
            msg_type="Alert",
            channel="exercise",
            state="active",
            signal="test_tone",
            repeat=1,
            content={},
            area={},
            expires_at=now + timedelta(minutes=10),
            issued_by="test",
            issuer_person="test",
            dedup_key="x",
            source="api",
        )
        session.add(alert)
        session.flush()
        session.add(
            Delivery(
                tenant_id=lantern.tenant_id,
                alert_id=alert.id,
                lantern_id=lantern.id,
                command_id="0" * 32,
                counter=1,
                channel="exercise",
                action="sound",
                envelope=b"{}",
                state="targeted",
                expires_at=now + timedelta(minutes=10),
            )
        )
        alert_id = alert.id
    url = f"/{town.slug}/warning/lanterns/L-1"
    response = client.delete(url, headers=town.bearer(town.operator))
    assert response.status_code == 409, response.text
    assert "test-alert-1" in response.json()["detail"]
    with database.write() as session:
        session.execute(update(Alert).where(Alert.id == alert_id).values(state="expired"))
    assert client.delete(url, headers=town.bearer(town.operator)).status_code == 204

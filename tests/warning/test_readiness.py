"""Readiness: each lantern's status at a fixed time, and counts per zone and for the town."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from stadtkern.core.models import Tenant
from stadtkern.db import Database
from stadtkern.warning.models import Lantern
from stadtkern.warning.readiness import lantern_status, readiness_report, zone_readiness
from stadtkern.warning.settings import WarningSettings
from tests.warning.conftest import Staff
from tests.warning.test_areas import tenant_ref
from tests.warning.test_register import register_lantern
from tests.warning.test_zones_api import add_zone, square

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
SETTINGS = WarningSettings()  # offline after 3 missed heartbeats, ready above 20 % off mains
HEALTHY: dict[str, Any] = {
    "last_heartbeat": NOW - timedelta(seconds=30),
    "heartbeat_s": 60,
    "battery": 90.0,
    "mains": True,
    "tamper": False,
    "speaker_ok": True,
    "heard": True,
}


def lantern(**health: Any) -> Lantern:
    """A lantern (not stored) with a healthy report, changed by `health`."""
    return Lantern(code="L", name="L", **(HEALTHY | health))


@pytest.mark.parametrize(
    ("health", "expected"),
    [
        ({}, "ready"),
        ({"last_heartbeat": None}, "never_seen"),
        ({"last_heartbeat": NOW - timedelta(seconds=180)}, "ready"),
        ({"last_heartbeat": NOW - timedelta(seconds=181)}, "offline"),
        ({"heartbeat_s": 600, "last_heartbeat": NOW - timedelta(minutes=29)}, "ready"),
        ({"tamper": True}, "tamper"),
        ({"speaker_ok": False}, "fault"),
        ({"heard": False}, "fault"),
        ({"heard": None, "speaker_ok": None}, "ready"),
        ({"mains": False, "battery": 19.9}, "low_battery"),
        ({"mains": False, "battery": 20.0}, "ready"),
        ({"mains": True, "battery": 5.0}, "ready"),
        ({"mains": None, "battery": 5.0}, "ready"),
        ({"mains": False, "battery": None}, "ready"),
        # The first that applies wins: offline, tamper, fault, low battery.
        ({"last_heartbeat": NOW - timedelta(hours=1), "tamper": True}, "offline"),
        ({"tamper": True, "speaker_ok": False}, "tamper"),
        ({"speaker_ok": False, "mains": False, "battery": 1.0}, "fault"),
    ],
)
def test_lantern_status(health: dict[str, Any], expected: str) -> None:
    """Each status at a fixed clock, and which one wins when several apply."""
    assert lantern_status(lantern(**health), NOW, SETTINGS) == expected


def test_settings_move_the_thresholds() -> None:
    """offline_after_missed and min_battery_percent come from the settings."""
    strict = WarningSettings(offline_after_missed=1, min_battery_percent=50)
    assert lantern_status(lantern(last_heartbeat=NOW - timedelta(seconds=61)), NOW, strict) == (
        "offline"
    )
    assert lantern_status(lantern(mains=False, battery=40.0), NOW, strict) == "low_battery"


def test_a_naive_clock_is_refused() -> None:
    """Heartbeats are stored in UTC; a time without zone cannot be compared."""
    with pytest.raises(ValueError, match="timezone"):
        lantern_status(lantern(), NOW.replace(tzinfo=None), SETTINGS)


def report(database: Database, slug: str, code: str, **health: Any) -> None:
    """Store a health report for a lantern of a town."""
    town = select(Tenant.id).where(Tenant.slug == slug).scalar_subquery()
    with database.write() as session:
        session.execute(
            update(Lantern)
            .where(Lantern.code == code, Lantern.tenant_id == town)
            .values(**(HEALTHY | health))
        )


def test_zone_readiness(client: TestClient, town: Staff, database: Database) -> None:
    """Per zone and for the whole town; lanterns on a border count for the zone."""
    add_zone(client, town, "west", geometry=square(7.70, 49.40, 0.02))
    add_zone(client, town, "ost", geometry=square(7.72, 49.40, 0.02))
    add_zone(client, town, "leer", geometry=square(8.0, 49.0, 0.01))
    for code, lon in (("W1", 7.705), ("W2", 7.71), ("W3", 7.715), ("EDGE", 7.72), ("O1", 7.73)):
        register_lantern(client, town, code, lon=lon, lat=49.41)
    register_lantern(client, town, "FAR", lon=9.0, lat=50.0)
    report(database, town.slug, "W1")
    report(database, town.slug, "W2", speaker_ok=False)
    report(database, town.slug, "EDGE", last_heartbeat=NOW - timedelta(hours=2))
    report(database, town.slug, "O1", mains=False, battery=3.0)
    report(database, town.slug, "FAR")
    tenant = tenant_ref(database, town)
    with database.read() as session:
        zones = {z["zone"]: z for z in zone_readiness(session, tenant, NOW, SETTINGS)}
        whole = readiness_report(session, tenant, NOW, SETTINGS)
    assert list(zones) == ["leer", "ost", "west"]
    west = zones["west"]
    assert (west["lanterns"], west["ready"], west["offline"], west["faults"]) == (4, 1, 2, 1)
    assert west["statuses"] == {
        "ready": 1,
        "offline": 1,
        "fault": 1,
        "low_battery": 0,
        "tamper": 0,
        "never_seen": 1,
    }
    assert west["readiness"] == 0.25
    ost = zones["ost"]
    assert (ost["lanterns"], ost["ready"], ost["offline"], ost["faults"]) == (2, 0, 1, 1)
    assert zones["leer"]["lanterns"] == 0
    assert zones["leer"]["readiness"] is None
    total = whole["total"]
    assert (total["lanterns"], total["ready"], total["offline"], total["faults"]) == (6, 2, 2, 2)
    assert total["readiness"] == pytest.approx(2 / 6, abs=1e-4)
    assert whole["at"] == NOW
    assert [z["zone"] for z in whole["zones"]] == ["leer", "ost", "west"]


def test_readiness_route(client: TestClient, town: Staff) -> None:
    """Viewers see the town's readiness now; lanterns never heard from are not ready."""
    add_zone(client, town, "west", geometry=square(7.70, 49.40, 0.02))
    register_lantern(client, town, "W1", lon=7.705, lat=49.41)
    response = client.get(f"/{town.slug}/warning/readiness", headers=town.bearer(town.viewer))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["total"]["statuses"]["never_seen"] == 1
    assert body["zones"][0]["zone"] == "west"
    assert body["zones"][0]["readiness"] == 0.0
    assert client.get(f"/{town.slug}/warning/readiness").status_code == 401

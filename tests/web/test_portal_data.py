"""The portal's data on both backends: environment readings, downloads, what stays private."""

from __future__ import annotations

import csv
import io
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from fastapi.testclient import TestClient

from stadtkern.db import Database
from stadtkern.web.settings import DEMO
from tests.conftest import TenantFixture
from tests.sensorthings.conformance.conftest import Sta

ROOT = Path(__file__).resolve().parents[2]


def _town(
    client: TestClient,
    database: Database,
    make_tenant: Callable[..., TenantFixture],
    *,
    open_data: bool = True,
) -> Sta:
    tenant = make_tenant(modules=["sensorthings", "web"])
    sta = Sta(client, database, tenant, tenant.headers)
    if open_data:
        answer = client.patch(
            f"/{tenant.slug}/sensorthings/settings",
            json={"anonymousRead": True},
            headers=tenant.headers,
        )
        assert answer.status_code == 200, answer.text
    return sta


def _station(sta: Sta, name: str, definition: str, value: float) -> None:
    body = {
        "name": name,
        "description": "Messstation",
        "properties": {"kind": "lantern"},
        "Locations": [
            {
                "name": name,
                "description": "Standort",
                "encodingType": "application/geo+json",
                "location": {"type": "Point", "coordinates": [7.77, 49.44]},
            }
        ],
        "Datastreams": [
            {
                "name": "Feinstaub",
                "description": "PM2.5",
                "observationType": "http://www.opengis.net/def/observationType/OGC-OM/2.0/OM_Measurement",
                "unitOfMeasurement": {"name": "µg/m³", "symbol": "µg/m³", "definition": "-"},
                "Sensor": {"name": "S", "description": "d", "encodingType": "text/html",
                           "metadata": "-"},
                "ObservedProperty": {"name": name, "definition": definition, "description": "d"},
                "Observations": [{"phenomenonTime": "2026-11-30T10:00:00Z", "result": value}],
            }
        ],
    }  # fmt: skip
    sta.create("Things", body)


def test_environment_lists_the_published_properties_only(
    client: TestClient, database: Database, make_tenant: Callable[..., TenantFixture]
) -> None:
    sta = _town(client, database, make_tenant)
    _station(sta, "=HYPERLINK(1)", DEMO + "pm25", 12.5)
    _station(sta, "Innenraum", "https://example.org/def/secret", 99.0)
    slug = sta.tenant.slug
    places = client.get(f"/{slug}/portal/environment.geojson").json()["features"]
    assert [p["properties"]["name"] for p in places] == ["=HYPERLINK(1)"]
    assert places[0]["properties"]["readings"][0]["value"] == 12.5
    assert places[0]["geometry"] == {"type": "Point", "coordinates": [7.77, 49.44]}
    answer = client.get(f"/{slug}/portal/environment.csv")
    assert answer.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(answer.text)))
    assert rows[1][0] == "'=HYPERLINK(1)"  # a spreadsheet shows it, never runs it
    assert rows[1][5] == "12.5"
    page = client.get(f"/{slug}/portal/environment?lang=en")
    assert page.status_code == 200
    assert "99" not in page.text.split("<tbody>")[1]


def test_a_town_without_open_data_shows_no_readings(
    client: TestClient, database: Database, make_tenant: Callable[..., TenantFixture]
) -> None:
    sta = _town(client, database, make_tenant, open_data=False)
    _station(sta, "Station", DEMO + "pm25", 12.5)
    slug = sta.tenant.slug
    assert client.get(f"/{slug}/portal/environment.geojson").json()["features"] == []
    page = client.get(f"/{slug}/portal/environment?lang=en")
    assert "does not publish its sensor data" in page.text


def test_the_portal_is_part_of_the_module_web(
    client: TestClient, make_tenant: Callable[..., TenantFixture]
) -> None:
    tenant = make_tenant(modules=["sensorthings"])
    assert client.get(f"/{tenant.slug}/portal").status_code == 404
    assert client.get("/nowhere/portal").status_code == 404


def test_pages_carry_a_strict_content_security_policy(
    client: TestClient, database: Database, make_tenant: Callable[..., TenantFixture]
) -> None:
    sta = _town(client, database, make_tenant)
    answer = client.get(f"/{sta.tenant.slug}/portal/privacy")
    assert answer.status_code == 200
    policy = answer.headers["content-security-policy"]
    assert "script-src 'self'" in policy
    assert "unsafe" not in policy
    assert answer.headers["x-content-type-options"] == "nosniff"


def test_static_files_are_served_from_the_package_only(client: TestClient) -> None:
    assert client.get("/static/web/css/stadtkern.css").status_code == 200
    module = client.get("/static/web/vendor/maplibre-gl.mjs")
    assert module.status_code == 200
    assert module.headers["content-type"].startswith("text/javascript")
    for path in ("../__init__.py", "..%2F__init__.py", "vendor/MANIFEST.json", "nope.js"):
        assert client.get(f"/static/web/{path}").status_code == 404, path


def test_the_message_catalogues_are_complete_and_compiled() -> None:
    check = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "i18n.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert check.returncode == 0, check.stderr

"""Importing lanterns from CSV and GeoJSON: every row checked, all or nothing, dry runs."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.warning.conftest import Staff
from tests.warning.test_register import audit_actions, codes, device_key, register_lantern, sta
from tests.warning.test_zones_api import square

HEADER = "code,name,lon,lat,district,siren_db,firmware,public_key,heartbeat_s"
CSV = "text/csv"
GEOJSON = "application/geo+json"


def send(
    client: TestClient, town: Staff, content: str | bytes, media_type: str, query: str = ""
) -> Any:
    """POST a file to the import and return the response."""
    return client.post(
        f"/{town.slug}/warning/lanterns/import{query}",
        content=content.encode() if isinstance(content, str) else content,
        headers={**town.bearer(town.operator), "Content-Type": media_type},
    )


def csv_rows(*rows: str, delimiter: str = ",") -> str:
    """A CSV file with the standard header."""
    return "\n".join([HEADER.replace(",", delimiter), *rows]) + "\n"


def row(
    code: str, lon: str = "7.77", lat: str = "49.44", key: str | None = None, **cells: str
) -> str:
    """A comma-separated row; cells not given are empty."""
    values = {"code": code, "name": f"Laterne {code}", "lon": lon, "lat": lat}
    values |= {"public_key": key if key is not None else device_key(), **cells}
    return ",".join(values.get(name, "") for name in HEADER.split(","))


def feature(code: str, lon: float = 7.77, lat: float = 49.44, **properties: Any) -> dict[str, Any]:
    """A GeoJSON Feature of a lantern."""
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [lon, lat]},
        "properties": {"code": code, "name": f"Laterne {code}", "publicKey": device_key()}
        | properties,
    }


def collection(*features: dict[str, Any]) -> str:
    """A GeoJSON FeatureCollection as text."""
    return json.dumps({"type": "FeatureCollection", "features": list(features)})


def test_dry_run_reports_and_changes_nothing(client: TestClient, town: Staff) -> None:
    """A dry run counts what would happen; no lantern, Thing or audit entry appears."""
    before = audit_actions(client, town)
    response = send(client, town, csv_rows(row("A"), row("B")), CSV, "?dryRun=true")
    assert response.status_code == 200, response.text
    assert response.json() == {
        "dryRun": True,
        "total": 2,
        "valid": 2,
        "created": 2,
        "updated": 0,
        "unchanged": 0,
        "errors": [],
        "warnings": [],
    }
    assert codes(client, town) == []
    assert sta(client, town, "Things")["value"] == []
    assert audit_actions(client, town) == before


def test_import_registers_with_things(client: TestClient, town: Staff) -> None:
    """A real run registers every row, each with its Thing, under one audit entry."""
    rows = csv_rows(row("A", district="Nord", siren_db="110", heartbeat_s="30"), row("B"))
    response = send(client, town, rows, CSV)
    assert response.status_code == 200, response.text
    assert (response.json()["created"], response.json()["dryRun"]) == (2, False)
    assert codes(client, town) == ["A", "B"]
    lantern = client.get(f"/{town.slug}/warning/lanterns/A", headers=town.headers).json()
    assert (lantern["district"], lantern["sirenSoundLevelDb"]) == ("Nord", 110.0)
    assert lantern["heartbeatSeconds"] == 30
    assert len(sta(client, town, "Things")["value"]) == 2
    assert audit_actions(client, town).count("warning.lantern.import") == 1


def test_semicolons_bom_and_decimal_commas(client: TestClient, town: Staff) -> None:
    """Spreadsheet CSV: ';' as delimiter, a BOM, decimal commas; name defaults to the code."""
    key = device_key()
    lines = [HEADER.replace(",", ";"), f"S1;;7,5;49,25;Süd;;;{key};", ""]
    response = send(client, town, "\ufeff" + "\r\n".join(lines), CSV + "; charset=utf-8")
    assert response.status_code == 200, response.text
    lantern = client.get(f"/{town.slug}/warning/lanterns/S1", headers=town.headers).json()
    assert (lantern["name"], lantern["lon"], lantern["lat"]) == ("S1", 7.5, 49.25)
    assert (lantern["district"], lantern["publicKey"]) == ("Süd", key)


def test_errors_change_nothing_and_name_each_row(client: TestClient, town: Staff) -> None:
    """One bad row refuses the whole file with 422; the report lists every bad row."""
    register_lantern(client, town, "OLD")
    rows = csv_rows(
        row("GOOD"),
        row("BADKEY", key="not-a-key"),
        row("FAR", lat="91"),
        row("BAD CODE"),
        row("NOLON", lon=""),
        row("TWICE"),
        row("TWICE"),
        row("OLD"),
        row("NUM", siren_db="laut"),
        "SHORT,row",
    )
    before = audit_actions(client, town)
    response = send(client, town, rows, CSV)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    report = response.json()["report"]
    assert (report["total"], report["valid"], report["created"]) == (10, 2, 0)
    found = {(error["row"], error["code"], error["field"]) for error in report["errors"]}
    assert found == {
        (3, "BADKEY", "public_key"),
        (4, "FAR", "lat"),
        (5, "BAD CODE", "code"),
        (6, "NOLON", None),
        (8, "TWICE", "code"),
        (9, "OLD", "code"),
        (10, "NUM", "siren_db"),
        (11, "SHORT", None),
    }
    assert all(error["message"] for error in report["errors"])
    assert codes(client, town) == ["OLD"]
    assert len(sta(client, town, "Things")["value"]) == 1
    assert audit_actions(client, town) == before
    dry = send(client, town, rows, CSV, "?dryRun=true")
    assert dry.status_code == 200, dry.text
    assert (dry.json()["valid"], dry.json()["created"], len(dry.json()["errors"])) == (2, 2, 8)


def test_upsert_updates_and_counts_unchanged(client: TestClient, town: Staff) -> None:
    """Mode upsert updates registered lanterns; identical rows are unchanged."""
    key = device_key()
    first = csv_rows(row("A", key=key), row("B", key=key))
    assert send(client, town, first, CSV).status_code == 200
    again = csv_rows(row("A", key=key), row("B", key=key, lon="7.8"), row("C"))
    response = send(client, town, again, CSV, "?mode=upsert")
    assert response.status_code == 200, response.text
    counts = {name: response.json()[name] for name in ("created", "updated", "unchanged")}
    assert counts == {"created": 1, "updated": 1, "unchanged": 1}
    assert client.get(f"/{town.slug}/warning/lanterns/B", headers=town.headers).json()["lon"] == 7.8
    assert len(sta(client, town, "Things")["value"]) == 3
    create_only = send(client, town, again, CSV, "?mode=createOnly")
    assert create_only.status_code == 422
    assert {e["code"] for e in create_only.json()["report"]["errors"]} == {"A", "B", "C"}


def test_geojson_import(client: TestClient, town: Staff) -> None:
    """Point features with camelCase properties; other properties are ignored with a warning."""
    text = collection(
        feature("G1", district="Mitte", sirenSoundLevelDb=105, fid=7),
        feature("G2", lon=7.8, lat=49.5, heartbeatSeconds=120),
    )
    response = send(client, town, text, GEOJSON)
    assert response.status_code == 200, response.text
    assert response.json()["warnings"] == [
        {"feature": 0, "code": "G1", "field": None, "message": "property 'fid' ignored"}
    ]
    assert codes(client, town) == ["G1", "G2"]
    lantern = client.get(f"/{town.slug}/warning/lanterns/G2", headers=town.headers).json()
    assert (lantern["lon"], lantern["lat"], lantern["heartbeatSeconds"]) == (7.8, 49.5, 120)


def test_geojson_errors_name_features(client: TestClient, town: Staff) -> None:
    """Features are numbered from 0; a wrong geometry or type is an error of its feature."""
    line = feature("L")
    line["geometry"] = {"type": "LineString", "coordinates": [[7, 49], [8, 50]]}
    text = collection(feature("OK"), line, {"type": "Point"}, feature("K", heartbeatSeconds=1))
    response = send(client, town, text, "application/json")
    assert response.status_code == 422, response.text
    errors = response.json()["report"]["errors"]
    assert [(e["feature"], e["field"]) for e in errors] == [
        (1, "geometry"),
        (2, None),
        (3, "heartbeatSeconds"),
    ]
    assert codes(client, town) == []


def test_outside_the_boundary_is_a_warning(
    client: TestClient, town: Staff, platform_admin: dict[str, str]
) -> None:
    """A lantern outside the town's boundary is imported with a warning."""
    boundary = square(7.7, 49.4, 0.1)
    response = client.patch(
        f"/admin/tenants/{town.slug}", json={"boundary": boundary}, headers=platform_admin
    )
    assert response.status_code == 200, response.text
    response = send(
        client, town, csv_rows(row("IN", "7.75", "49.45"), row("OUT", "9", "49.45")), CSV
    )
    assert response.status_code == 200, response.text
    warnings = response.json()["warnings"]
    assert [(w["row"], w["code"]) for w in warnings] == [(3, "OUT")]
    assert codes(client, town) == ["IN", "OUT"]


@pytest.mark.parametrize(
    ("content", "media_type", "status", "reason"),
    [
        ("code,lon\nA,7", CSV, 422, "missing: lat, public_key"),
        ("code,code,lon,lat,public_key\n", CSV, 422, "each once"),
        (b"code,lon,lat,public_key\n\xff,1,2,3\n", CSV, 422, "not UTF-8"),
        ("", CSV, 422, "empty"),
        ('"unclosed', CSV, 422, "CSV"),
        ("{", GEOJSON, 400, "JSON"),
        ("[" * 100_000, GEOJSON, 400, "JSON"),
        ('{"type": "FeatureCollection", "features": [], "x": NaN}', GEOJSON, 400, "NaN"),
        ('{"type": "Feature"}', GEOJSON, 422, "FeatureCollection"),
        ('{"type": "FeatureCollection"}', GEOJSON, 422, "features"),
        ("code", "text/plain", 415, "text/csv"),
    ],
)
def test_unreadable_files_are_refused(
    client: TestClient,
    town: Staff,
    content: str | bytes,
    media_type: str,
    status: int,
    reason: str,
) -> None:
    """Files that cannot be read at all are a 4xx problem."""
    response = send(client, town, content, media_type)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert reason in response.json()["detail"]


def test_row_limit(client: TestClient, town: Staff, monkeypatch: pytest.MonkeyPatch) -> None:
    """More rows than the limit are refused before any is checked."""
    monkeypatch.setattr("stadtkern.warning.register_import.MAX_IMPORT_ROWS", 2)
    response = send(client, town, csv_rows(row("A"), row("B"), row("C")), CSV)
    assert response.status_code == 422, response.text
    assert "at most 2" in response.json()["detail"]


def test_only_operators_import(client: TestClient, town: Staff) -> None:
    """Viewers cannot import, not even a dry run."""
    response = client.post(
        f"/{town.slug}/warning/lanterns/import?dryRun=true",
        content=csv_rows(row("A")).encode(),
        headers={**town.bearer(town.viewer), "Content-Type": CSV},
    )
    assert response.status_code == 403

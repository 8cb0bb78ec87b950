"""Parquet downloads on both backends: read back with pyarrow, the same values as CSV and DB."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from fastapi.testclient import TestClient

from stadtkern.db import Database
from stadtkern.web.settings import DEMO
from tests.conftest import TenantFixture
from tests.sensorthings.conformance.conftest import Sta, make_graph

ORIGIN = {"Origin": "http://testserver"}


def _observe(sta: Sta, datastream: int, rows: list[list[Any]]) -> None:
    body = [{"Datastream": {"@iot.id": datastream},
             "components": ["phenomenonTime", "result"], "dataArray": rows}]  # fmt: skip
    assert sta.post("CreateObservations", body).status_code == 201


def _log_in(client: TestClient, tenant: TenantFixture) -> None:
    client.cookies.clear()
    answer = client.post(
        f"/{tenant.slug}/console/login",
        data={"token": tenant.admin_token},
        headers=ORIGIN,
        follow_redirects=False,
    )
    assert answer.status_code == 303


def _table(body: bytes) -> Any:
    return pq.read_table(pa.BufferReader(body))


def test_a_numeric_datastream_as_parquet_matches_csv(
    client: TestClient, database: Database, make_tenant: Callable[..., TenantFixture]
) -> None:
    tenant = make_tenant(modules=["sensorthings", "web"])
    sta = Sta(client, database, tenant, tenant.headers)
    stream = make_graph(sta).datastream
    now = datetime.now(UTC).replace(microsecond=0)
    moments = [now - timedelta(minutes=7 * n, milliseconds=250) for n in range(20)]
    _observe(sta, stream, [[at.isoformat(), 10.5 + n] for n, at in enumerate(moments)])
    _log_in(client, tenant)
    base = f"/{tenant.slug}/console/datastreams/{stream}"
    answer = client.get(f"{base}/observations.parquet?range=day")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/vnd.apache.parquet"
    assert answer.headers["content-disposition"].endswith('.parquet"')
    table = _table(answer.content)
    assert table.schema.field("phenomenonTime").type == pa.timestamp("us", tz="UTC")
    assert table.schema.field("result").type == pa.float64()
    meta = table.schema.field("result").metadata
    assert meta[b"unit"] == "°C".encode()
    assert meta[b"property"].startswith(b"Temperatur")
    assert meta[b"definition"] == b"http://dbpedia.org/page/Temperature"
    csv_rows = list(csv.reader(io.StringIO(client.get(f"{base}/observations.csv").text)))[1:]
    times = table.column("phenomenonTime").to_pylist()
    results = table.column("result").to_pylist()
    assert [at.isoformat() for at in times] == [row[0] for row in csv_rows]
    assert results == [float(row[1]) for row in csv_rows]
    assert sorted(zip(times, results, strict=True)) == sorted(
        (at, 10.5 + n) for n, at in enumerate(moments)
    )
    client.cookies.clear()


def test_text_and_mixed_results_become_a_string_column(
    client: TestClient, database: Database, make_tenant: Callable[..., TenantFixture]
) -> None:
    tenant = make_tenant(modules=["sensorthings", "web"])
    sta = Sta(client, database, tenant, tenant.headers)
    stream = make_graph(sta).datastream
    now = datetime.now(UTC).replace(microsecond=0)
    results: list[Any] = ["=SUM(A1)", True, {"a": 1}, 3]
    _observe(
        sta,
        stream,
        [[(now - timedelta(minutes=4 - n)).isoformat(), value] for n, value in enumerate(results)],
    )
    _log_in(client, tenant)
    answer = client.get(f"/{tenant.slug}/console/datastreams/{stream}/observations.parquet")
    table = _table(answer.content)
    assert table.schema.field("result").type == pa.string()
    # Written as they are: Parquet is no spreadsheet, so no formula guard.
    assert table.column("result").to_pylist() == ["=SUM(A1)", "true", '{"a": 1}', "3"]
    client.cookies.clear()
    assert (
        client.get(f"/{tenant.slug}/console/datastreams/{stream}/observations.parquet").status_code
        == 401
    )


def test_the_portal_environment_as_parquet(
    client: TestClient, database: Database, make_tenant: Callable[..., TenantFixture]
) -> None:
    tenant = make_tenant(modules=["sensorthings", "web"])
    sta = Sta(client, database, tenant, tenant.headers)
    answer = client.patch(
        f"/{tenant.slug}/sensorthings/settings",
        json={"anonymousRead": True},
        headers=tenant.headers,
    )
    assert answer.status_code == 200
    make_graph(sta)  # a Datastream of a property the portal does not publish
    body = {
        "name": "Station Mitte",
        "description": "Messstation",
        "properties": {"kind": "air"},
        "Locations": [{"name": "Mitte", "description": "Standort",
                       "encodingType": "application/geo+json",
                       "location": {"type": "Point", "coordinates": [7.77, 49.44]}}],
        "Datastreams": [{
            "name": "Feinstaub", "description": "PM2.5",
            "observationType": "http://www.opengis.net/def/observationType/OGC-OM/2.0/OM_Measurement",
            "unitOfMeasurement": {"name": "µg/m³", "symbol": "µg/m³", "definition": "-"},
            "Sensor": {"name": "S", "description": "d", "encodingType": "text/html",
                       "metadata": "-"},
            "ObservedProperty": {"name": "PM2.5", "definition": DEMO + "pm25", "description": "d"},
            "Observations": [{"phenomenonTime": "2026-11-30T10:00:00Z", "result": 12.5}],
        }],
    }  # fmt: skip
    sta.create("Things", body)
    client.cookies.clear()
    answer = client.get(f"/{tenant.slug}/portal/environment.parquet")
    assert answer.status_code == 200
    table = _table(answer.content)
    assert table.num_rows == 1  # the Temperatur graph is not an environment property
    row = table.to_pylist()[0]
    assert row["place"] == "Station Mitte"
    assert row["quantity"] == "PM2.5"
    assert row["definition"] == DEMO + "pm25"
    assert row["value"] == 12.5
    assert row["unit"] == "µg/m³"
    assert (row["lon"], row["lat"]) == (7.77, 49.44)
    assert row["time"] == datetime(2026, 11, 30, 10, tzinfo=UTC)
    assert table.schema.field("time").type == pa.timestamp("us", tz="UTC")
    csv_rows = list(
        csv.DictReader(io.StringIO(client.get(f"/{tenant.slug}/portal/environment.csv").text))
    )
    assert float(csv_rows[0]["value"]) == row["value"]
    assert csv_rows[0]["time"] == row["time"].isoformat()

"""A published environment Datastream in the portal on both backends: page, series, downloads,
and 404 for everything the portal does not publish."""

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


def _station(sta: Sta, definition: str, results: list[float]) -> int:
    now = datetime.now(UTC).replace(microsecond=0)
    body = {
        "name": "Station Mitte",
        "description": "Messstation",
        "Locations": [{"name": "Mitte", "description": "Standort",
                       "encodingType": "application/geo+json",
                       "location": {"type": "Point", "coordinates": [7.77, 49.44]}}],
        "Datastreams": [{
            "name": "Feinstaub Mitte", "description": "PM2.5",
            "observationType": "http://www.opengis.net/def/observationType/OGC-OM/2.0/OM_Measurement",
            "unitOfMeasurement": {"name": "µg/m³", "symbol": "µg/m³", "definition": "-"},
            "Sensor": {"name": "S", "description": "d", "encodingType": "text/html",
                       "metadata": "-"},
            "ObservedProperty": {"name": "PM2.5", "definition": definition, "description": "d"},
            "Observations": [
                {"phenomenonTime": (now - timedelta(minutes=20 * n)).isoformat(), "result": value}
                for n, value in enumerate(results)
            ],
        }],
    }  # fmt: skip
    thing = sta.create_id("Things", body)
    answer = sta.get(f"Things({thing})/Datastreams")
    return int(answer.json()["value"][0]["@iot.id"])


def _open_town(client: TestClient, database: Database, make: Callable[..., Any]) -> Sta:
    tenant = make(modules=["sensorthings", "web"])
    answer = client.patch(
        f"/{tenant.slug}/sensorthings/settings",
        json={"anonymousRead": True},
        headers=tenant.headers,
    )
    assert answer.status_code == 200
    return Sta(client, database, tenant, tenant.headers)


def test_a_published_stream_has_chart_table_and_downloads(
    client: TestClient, database: Database, make_tenant: Callable[..., TenantFixture]
) -> None:
    sta = _open_town(client, database, make_tenant)
    stream = _station(sta, DEMO + "pm25", [10.0, 12.0, 14.0, 16.0])
    client.cookies.clear()
    slug = sta.tenant.slug
    environment = client.get(f"/{slug}/portal/environment?lang=en").text
    assert f'href="/{slug}/portal/environment/{stream}"' in environment
    base = f"/{slug}/portal/environment/{stream}"
    page = client.get(f"{base}?lang=en&range=week")
    assert page.status_code == 200
    assert "Values per interval" in page.text
    assert f'data-series="{base}/series.json?range=week"' in page.text
    assert f"{base}/observations.parquet?range=week" in page.text
    assert f"{base}/observations.csv?range=week" in page.text
    series = client.get(f"{base}/series.json?range=day").json()
    assert series["unit"] == "µg/m³"
    assert sum(bucket["count"] for bucket in series["value"]) == 4
    assert max(bucket["max"] for bucket in series["value"]) == 16.0
    rows = list(csv.reader(io.StringIO(client.get(f"{base}/observations.csv").text)))
    assert sorted(float(row[1]) for row in rows[1:]) == [10.0, 12.0, 14.0, 16.0]
    table = pq.read_table(pa.BufferReader(client.get(f"{base}/observations.parquet").content))
    assert sorted(table.column("result").to_pylist()) == [10.0, 12.0, 14.0, 16.0]
    assert table.schema.field("result").metadata[b"definition"] == (DEMO + "pm25").encode()


def test_what_the_portal_does_not_publish_is_not_found(
    client: TestClient, database: Database, make_tenant: Callable[..., TenantFixture]
) -> None:
    sta = _open_town(client, database, make_tenant)
    slug = sta.tenant.slug
    private = make_graph(sta).datastream  # a property outside environment_properties
    published = _station(sta, DEMO + "noise-level", [50.0])
    client.cookies.clear()
    for suffix in ("", "/series.json", "/observations.csv", "/observations.parquet"):
        assert client.get(f"/{slug}/portal/environment/{private}{suffix}").status_code == 404
        assert client.get(f"/{slug}/portal/environment/999999999{suffix}").status_code == 404
    assert client.get(f"/{slug}/portal/environment/{published}?range=year").status_code == 422
    assert (
        client.get(f"/{slug}/portal/environment/{published}/observations.xlsx").status_code == 422
    )
    # Another town's published stream is not found under this town's name.
    other = _open_town(client, database, make_tenant)
    assert client.get(f"/{other.tenant.slug}/portal/environment/{published}").status_code == 404
    # A town that does not publish its data as open data shows none of it.
    closed = make_tenant(modules=["sensorthings", "web"])
    hidden = _station(Sta(client, database, closed, closed.headers), DEMO + "pm25", [1.0])
    client.cookies.clear()
    assert client.get(f"/{closed.slug}/portal/environment/{hidden}").status_code == 404

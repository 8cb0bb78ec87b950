"""A Datastream's console page over HTTP, on both backends: buckets, downloads, refusals."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient

from stadtkern.db import Database
from tests.conftest import TenantFixture
from tests.sensorthings.conformance.conftest import Sta, make_graph

ORIGIN = {"Origin": "http://testserver"}


def _stream(client: TestClient, database: Database, tenant: TenantFixture) -> tuple[Sta, int]:
    sta = Sta(client, database, tenant, tenant.headers)
    graph = make_graph(sta)
    now = datetime.now(UTC).replace(microsecond=0)
    rows = [[(now - timedelta(minutes=10 * n)).isoformat(), 20.0 + n] for n in range(12)]
    body = [{"Datastream": {"@iot.id": graph.datastream},
             "components": ["phenomenonTime", "result"], "dataArray": rows}]  # fmt: skip
    assert sta.post("CreateObservations", body).status_code == 201
    return sta, graph.datastream


def _log_in(client: TestClient, tenant: TenantFixture) -> None:
    client.cookies.clear()
    answer = client.post(
        f"/{tenant.slug}/console/login",
        data={"token": tenant.admin_token},
        headers=ORIGIN,
        follow_redirects=False,
    )
    assert answer.status_code == 303


def test_page_series_and_downloads(
    client: TestClient, database: Database, make_tenant: Callable[..., TenantFixture]
) -> None:
    tenant = make_tenant(modules=["sensorthings", "web"])
    _sta, stream = _stream(client, database, tenant)
    _log_in(client, tenant)
    base = f"/{tenant.slug}/console/datastreams/{stream}"
    page = client.get(f"{base}?lang=en")
    assert page.status_code == 200
    assert "Values per interval" in page.text
    series = client.get(f"{base}/series.json?range=day").json()
    buckets = series["value"]
    assert sum(bucket["count"] for bucket in buckets) == 12
    assert min(bucket["min"] for bucket in buckets) == 20.0
    assert max(bucket["max"] for bucket in buckets) == 31.0
    assert all(bucket["start"] < bucket["end"] for bucket in buckets)
    rows = list(csv.reader(io.StringIO(client.get(f"{base}/observations.csv?range=day").text)))
    assert rows[0] == ["phenomenonTime", "result"]
    assert sorted(float(row[1]) for row in rows[1:]) == [20.0 + n for n in range(12)]
    geojson = client.get(f"{base}/observations.geojson?range=week").json()
    assert len(geojson["features"]) == 12
    client.cookies.clear()


def test_refusals(
    client: TestClient, database: Database, make_tenant: Callable[..., TenantFixture]
) -> None:
    tenant, other = make_tenant(modules=["sensorthings", "web"]), make_tenant(modules=["web"])
    _sta, stream = _stream(client, database, tenant)
    client.cookies.clear()
    base = f"/{tenant.slug}/console/datastreams/{stream}"
    assert client.get(base, follow_redirects=False).status_code == 303  # to the login
    assert client.get(f"{base}/series.json").status_code == 401
    _log_in(client, tenant)
    assert client.get(f"{base}?range=year").status_code == 422
    assert client.get(f"{base}/observations.xlsx").status_code == 422
    assert client.get(f"/{tenant.slug}/console/datastreams/999999999").status_code == 404
    _log_in(client, other)
    assert client.get(f"/{other.slug}/console/datastreams/{stream}").status_code == 404
    client.cookies.clear()

"""The direct route of creating Observations answers as the ordinary route does: the same
bodies, errors, headers, request ids and metrics; other requests take the ordinary route."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from stadtkern.core.roles import VIEWER
from stadtkern.db import Database
from stadtkern.sensorthings import api_direct
from stadtkern.sensorthings.api import Access
from tests.conftest import TenantFixture
from tests.sensorthings.conformance.conftest import Sta, make_graph

PROBLEM = "application/problem+json"
TEMPLATE = 'route="/{tenant}/v1.1/{path:path}"'


@pytest.fixture
def sta(client: TestClient, database: Database, make_tenant: Callable[..., TenantFixture]) -> Sta:
    """A client of a fresh tenant's SensorThings service."""
    tenant = make_tenant(modules=["sensorthings"])
    return Sta(client, database, tenant, tenant.headers)


@pytest.fixture
def direct_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The paths the direct route answered (it still answers them)."""
    calls: list[str] = []
    original = api_direct.write_sta

    async def spy(dispatcher: Any, path: str, request: Any, tenant: Any, access: Access) -> Any:
        calls.append(path)
        return await original(dispatcher, path, request, tenant, access)

    monkeypatch.setattr(api_direct, "write_sta", spy)
    return calls


def test_single_observations_take_the_direct_route(sta: Sta, direct_calls: list[str]) -> None:
    graph = make_graph(sta)
    body = {"phenomenonTime": "2025-03-01T10:00:00Z", "result": 21.5}
    response = sta.post(f"Datastreams({graph.datastream})/Observations", body)
    assert response.status_code == 201, response.text
    assert direct_calls == [f"Datastreams({graph.datastream})/Observations"]
    created = response.json()
    assert response.headers["Location"] == created["@iot.selfLink"]
    assert created == sta.read(f"Observations({created['@iot.id']})")
    assert len(response.headers["x-request-id"]) == 32
    linked = sta.post("Observations", {"result": 3, "Datastream": {"@iot.id": graph.datastream}})
    assert linked.status_code == 201
    rows = {"Datastream": {"@iot.id": graph.datastream}, "components": ["result"]}
    many = sta.post("CreateObservations", [rows | {"dataArray": [[1], [2]]}])
    assert many.status_code == 201
    assert len(many.json()) == 2
    assert direct_calls[1:] == ["Observations", "CreateObservations"]


def test_the_direct_route_is_counted_under_the_route_template(
    sta: Sta, direct_calls: list[str]
) -> None:
    graph = make_graph(sta)
    sta.post(f"Datastreams({graph.datastream})/Observations", {"result": 1})
    assert direct_calls
    text = sta.client.get("/metrics").text
    counted = [line for line in text.splitlines() if TEMPLATE in line and 'method="POST"' in line]
    assert any('status="201"' in line for line in counted)
    assert sta.slug not in text


def test_other_writes_take_the_ordinary_route(sta: Sta, direct_calls: list[str]) -> None:
    graph = make_graph(sta)
    nested = sta.post(f"Things({graph.thing})/Datastreams({graph.datastream})/Observations", {})
    assert nested.status_code in (400, 404)
    renamed = sta.client.patch(
        sta.url(f"Things({graph.thing})"), json={"name": "Laterne 2"}, headers=sta.headers
    )
    assert renamed.status_code == 200
    assert direct_calls == []


def test_errors_are_answered_as_by_the_ordinary_route(
    sta: Sta, client: TestClient, make_tenant: Callable[..., TenantFixture]
) -> None:
    graph = make_graph(sta)
    path = f"Datastreams({graph.datastream})/Observations"
    body = {"result": 1}
    unknown_tenant = client.post(f"/no-such-town/v1.1/{path}", json=body, headers=sta.headers)
    assert unknown_tenant.status_code == 404
    assert unknown_tenant.json()["detail"] == "no tenant 'no-such-town'"
    anonymous = client.post(sta.url(path), json=body)
    assert anonymous.status_code == 401
    assert anonymous.headers["WWW-Authenticate"].startswith("Basic")
    viewer = sta.as_role(VIEWER).post(path, body)
    assert viewer.status_code == 403
    assert viewer.json()["detail"] == "changing SensorThings data needs the role 'operator'"
    broken = client.post(
        sta.url(path),
        content=b"{not json",
        headers={**sta.headers, "Content-Type": "application/json"},
    )
    assert broken.status_code == 400
    missing = sta.post("Datastreams(987654)/Observations", body)
    assert missing.status_code == 404
    no_module = make_tenant(modules=[])
    switched_off = client.post(f"/{no_module.slug}/v1.1/{path}", json=body, headers=sta.headers)
    assert switched_off.status_code == 404
    assert "sensorthings" in switched_off.json()["detail"]
    for answer in (unknown_tenant, anonymous, viewer, broken, missing, switched_off):
        assert answer.headers["content-type"].startswith(PROBLEM)
        assert answer.json()["instance"] == answer.request.url.path
        assert len(answer.headers["x-request-id"]) == 32


def test_bodies_over_the_limit_are_refused_before_the_direct_route(
    sta: Sta, direct_calls: list[str]
) -> None:
    graph = make_graph(sta)
    limit = sta.client.app.state.platform.settings.max_body_bytes  # type: ignore[attr-defined]
    padding = "x" * (limit + 1)
    response = sta.post(
        f"Datastreams({graph.datastream})/Observations", {"result": 1, "parameters": {"p": padding}}
    )
    assert response.status_code == 413
    assert response.headers["content-type"].startswith(PROBLEM)
    assert direct_calls == []


def test_a_tenant_slug_longer_than_the_route_allows_takes_the_ordinary_route(
    sta: Sta, direct_calls: list[str]
) -> None:
    response = sta.client.post(
        f"/{'x' * 41}/v1.1/Observations", json={"result": 1}, headers=sta.headers
    )
    assert response.status_code == 422
    assert direct_calls == []

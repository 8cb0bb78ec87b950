"""The HTTP adapter: who may read and write, open data, Basic auth, OpenAPI, odd inputs."""

from __future__ import annotations

import base64
from collections.abc import Callable

from fastapi.testclient import TestClient

from stadtkern.db import Database
from tests.conftest import TenantFixture, issue_token

THING = {"name": "Lantern 5", "description": "Smart street lantern"}


def _basic(key: str, user: str = "anyone") -> dict[str, str]:
    token = base64.b64encode(f"{user}:{key}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def test_basic_auth_with_the_key_as_password_reads_and_writes(
    client: TestClient, make_tenant: Callable[..., TenantFixture], database: Database
) -> None:
    tenant = make_tenant(modules=["sensorthings"])
    key = issue_token(database, tenant=tenant.slug, roles=["operator"])
    created = client.post(f"/{tenant.slug}/v1.1/Things", json=THING, headers=_basic(key))
    assert created.status_code == 201, created.text
    assert created.headers["location"] == created.json()["@iot.selfLink"]
    listed = client.get(f"/{tenant.slug}/v1.1/Things", headers=_basic(key, "lantern-team"))
    assert [thing["name"] for thing in listed.json()["value"]] == ["Lantern 5"]
    wrong = client.get(f"/{tenant.slug}/v1.1/Things", headers=_basic("sk_000000000000_nope"))
    assert wrong.status_code == 401
    assert "Basic" in wrong.headers["www-authenticate"]
    garbled = client.get(f"/{tenant.slug}/v1.1/Things", headers={"Authorization": "Basic %%%"})
    assert garbled.status_code == 401
    assert garbled.headers["content-type"] == "application/problem+json"


def test_roles_viewer_reads_operator_writes_other_tenant_sees_nothing(
    client: TestClient, make_tenant: Callable[..., TenantFixture], database: Database
) -> None:
    town, other = make_tenant(modules=["sensorthings"]), make_tenant(modules=["sensorthings"])
    viewer = {
        "Authorization": f"Bearer {issue_token(database, tenant=town.slug, roles=['viewer'])}"
    }
    base = f"/{town.slug}/v1.1"
    assert client.post(f"{base}/Things", json=THING, headers=viewer).status_code == 403
    assert client.get(f"{base}/Things", headers=viewer).json() == {"value": []}
    created = client.post(f"{base}/Things", json=THING, headers=town.headers)
    identifier = created.json()["@iot.id"]
    assert client.get(f"{base}/Things({identifier})", headers=other.headers).status_code == 404
    assert (
        client.get(f"/{other.slug}/v1.1/Things({identifier})", headers=other.headers).status_code
        == 404
    )
    assert client.delete(f"{base}/Things({identifier})", headers=viewer).status_code == 403
    assert client.get(f"{base}/Things", headers={}).status_code == 401


def test_the_module_must_be_switched_on(
    client: TestClient, make_tenant: Callable[..., TenantFixture]
) -> None:
    tenant = make_tenant()
    answer = client.get(f"/{tenant.slug}/v1.1/Things", headers=tenant.headers)
    assert answer.status_code == 404
    assert "sensorthings" in answer.json()["detail"]


def test_anonymous_read_is_the_tenants_choice(
    client: TestClient, make_tenant: Callable[..., TenantFixture], database: Database
) -> None:
    tenant = make_tenant(modules=["sensorthings"])
    base = f"/{tenant.slug}/v1.1"
    client.post(f"{base}/Things", json=THING, headers=tenant.headers)
    settings = f"/{tenant.slug}/sensorthings/settings"
    assert client.get(settings, headers=tenant.headers).json() == {"anonymousRead": False}
    assert client.get(f"{base}/Things").status_code == 401
    operator = {
        "Authorization": f"Bearer {issue_token(database, tenant=tenant.slug, roles=['operator'])}"
    }
    assert client.patch(settings, json={"anonymousRead": True}, headers=operator).status_code == 403
    opened = client.patch(settings, json={"anonymousRead": True}, headers=tenant.headers)
    assert opened.status_code == 200
    assert opened.json() == {"anonymousRead": True}
    assert client.app.state.platform.open_data_tenants >= {tenant.slug}  # type: ignore[attr-defined]
    anonymous = client.get(f"{base}/Things")
    assert anonymous.status_code == 200
    assert [thing["name"] for thing in anonymous.json()["value"]] == ["Lantern 5"]
    refused = client.post(f"{base}/Things", json=THING)
    assert refused.status_code == 401
    assert (
        client.patch(settings, json={"anonymousRead": "yes"}, headers=tenant.headers).status_code
        == 422
    )
    client.patch(settings, json={"anonymousRead": False}, headers=tenant.headers)
    assert client.get(f"{base}/Things").status_code == 401
    assert tenant.slug not in client.app.state.platform.open_data_tenants  # type: ignore[attr-defined]


def test_values_beyond_the_database_are_a_bad_request(
    client: TestClient, make_tenant: Callable[..., TenantFixture]
) -> None:
    tenant = make_tenant(modules=["sensorthings"])
    base = f"/{tenant.slug}/v1.1"
    client.post(f"{base}/Things", json=THING, headers=tenant.headers)
    for query, status in (
        ("Things?$filter=id eq 99999999999999999999", 400),
        ("Things?$top=99999999999999999999999", 400),
        ("Things(99999999999999999999)", 404),
    ):
        answer = client.get(f"{base}/{query}", headers=tenant.headers)
        assert answer.status_code == status, (query, answer.text)
        assert answer.headers["content-type"] == "application/problem+json"
    # 64-bit overflow in arithmetic: PostgreSQL refuses it (400), SQLite turns the sum into
    # a double and answers; neither is a server error.
    overflow = client.get(
        f"{base}/Things?$filter=id add 9223372036854775807 gt 0", headers=tenant.headers
    )
    assert overflow.status_code in (200, 400), overflow.text


def test_bodies_that_are_not_json_are_refused_and_change_nothing(
    client: TestClient, make_tenant: Callable[..., TenantFixture]
) -> None:
    tenant = make_tenant(modules=["sensorthings"])
    base = f"/{tenant.slug}/v1.1"
    for body, content_type in (
        (b"{", "application/json"),
        (b'{"name": NaN, "description": "x"}', "application/json"),
        (b"\xff\xfe", "application/json"),
        (b"name=x", "application/x-www-form-urlencoded"),
        (b"", "application/json"),
    ):
        headers = {**tenant.headers, "Content-Type": content_type}
        answer = client.post(f"{base}/Things", content=body, headers=headers)
        assert answer.status_code == 400, (body, answer.text)
    assert client.get(f"{base}/Things", headers=tenant.headers).json() == {"value": []}


def test_openapi_describes_every_entity_set_of_the_tenant(
    client: TestClient, make_tenant: Callable[..., TenantFixture]
) -> None:
    tenant = make_tenant(modules=["sensorthings"])
    document = client.get(f"/{tenant.slug}/v1.1/openapi.json").json()
    assert document["openapi"] == "3.1.0"
    assert document["servers"] == [{"url": f"http://testserver/{tenant.slug}/v1.1"}]
    root = client.get(f"/{tenant.slug}/v1.1", headers=tenant.headers).json()
    for entity_set in root["value"]:
        assert f"/{entity_set['name']}" in document["paths"]
        assert f"/{entity_set['name']}({{id}})" in document["paths"]
    assert "/Things({id})/Datastreams" in document["paths"]
    assert document["components"]["schemas"]["Thing"]["required"] == ["name", "description"]

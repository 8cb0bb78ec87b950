"""Authentication and authorisation over HTTP: keys, roles, sessions with CSRF, rate limits."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from stadtkern.app import create_app
from stadtkern.core.models import ApiKey
from stadtkern.db import Database
from tests.conftest import TenantFixture, make_settings, unique_slug


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _principal_with_key(
    client: TestClient, tenant: TenantFixture, roles: list[str]
) -> tuple[int, dict[str, object]]:
    principal = client.post(
        f"/{tenant.slug}/admin/principals",
        json={"name": f"p-{unique_slug()}", "roles": roles},
        headers=tenant.headers,
    )
    assert principal.status_code == 201, principal.text
    key = client.post(
        f"/{tenant.slug}/admin/keys",
        json={"principal_id": principal.json()["id"], "label": "sensor gateway"},
        headers=tenant.headers,
    )
    assert key.status_code == 201, key.text
    assert key.headers["cache-control"] == "no-store"
    return int(principal.json()["id"]), key.json()


def test_key_shown_once_and_listed_without_secret(
    client: TestClient, make_tenant: Callable[..., TenantFixture]
) -> None:
    tenant = make_tenant()
    _, key = _principal_with_key(client, tenant, ["viewer"])
    token = str(key["token"])
    assert token.startswith(f"sk_{key['key_id']}_")
    listed = client.get(f"/{tenant.slug}/admin/keys", headers=tenant.headers).json()
    assert all("token" not in entry for entry in listed)
    assert token not in str(listed)
    whoami = client.get(f"/{tenant.slug}/auth/whoami", headers=_bearer(token)).json()
    assert whoami["roles"] == ["viewer"]
    assert whoami["via"] == "api_key"


def test_roles_are_enforced_with_403(
    client: TestClient, make_tenant: Callable[..., TenantFixture]
) -> None:
    tenant = make_tenant()
    _, key = _principal_with_key(client, tenant, ["operator"])
    response = client.get(f"/{tenant.slug}/admin/keys", headers=_bearer(str(key["token"])))
    assert response.status_code == 403
    assert "admin" in response.json()["detail"]
    whoami = client.get(f"/{tenant.slug}/auth/whoami", headers=_bearer(str(key["token"])))
    assert sorted(whoami.json()["roles"]) == ["operator", "viewer"]


def test_unknown_role_is_refused(
    client: TestClient, make_tenant: Callable[..., TenantFixture]
) -> None:
    tenant = make_tenant()
    response = client.post(
        f"/{tenant.slug}/admin/principals",
        json={"name": "x", "roles": ["greeter"]},  # the example module is not switched on
        headers=tenant.headers,
    )
    assert response.status_code == 422
    assert "greeter" in response.json()["detail"]


def test_revoked_and_expired_keys_stop_working(
    client: TestClient, database: Database, make_tenant: Callable[..., TenantFixture]
) -> None:
    tenant = make_tenant()
    _, revoked = _principal_with_key(client, tenant, ["viewer"])
    _, expiring = _principal_with_key(client, tenant, ["viewer"])
    whoami = f"/{tenant.slug}/auth/whoami"
    assert client.get(whoami, headers=_bearer(str(revoked["token"]))).status_code == 200
    gone = client.delete(f"/{tenant.slug}/admin/keys/{revoked['key_id']}", headers=tenant.headers)
    assert gone.json()["revoked_at"] is not None
    assert client.get(whoami, headers=_bearer(str(revoked["token"]))).status_code == 401
    with database.write() as session:
        session.execute(
            update(ApiKey)
            .where(ApiKey.key_id == expiring["key_id"])
            .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
    assert client.get(whoami, headers=_bearer(str(expiring["token"]))).status_code == 401


def test_key_with_past_expiry_is_refused(
    client: TestClient, make_tenant: Callable[..., TenantFixture]
) -> None:
    tenant = make_tenant()
    principal_id, _ = _principal_with_key(client, tenant, ["viewer"])
    response = client.post(
        f"/{tenant.slug}/admin/keys",
        json={"principal_id": principal_id, "expires_at": "2020-01-01T00:00:00Z"},
        headers=tenant.headers,
    )
    assert response.status_code == 422
    naive = client.post(
        f"/{tenant.slug}/admin/keys",
        json={"principal_id": principal_id, "expires_at": "2030-01-01T00:00:00"},
        headers=tenant.headers,
    )
    assert naive.status_code == 422


@pytest.mark.parametrize(
    "authorization",
    ["Basic dXNlcjpwYXNz", "Bearer sk_000000000000_wrong", "Bearer not-a-token", "Bearer"],
)
def test_bad_credentials_are_401(
    client: TestClient, make_tenant: Callable[..., TenantFixture], authorization: str
) -> None:
    tenant = make_tenant()
    response = client.get(f"/{tenant.slug}/auth/whoami", headers={"Authorization": authorization})
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"


def test_disabled_principal_loses_access(
    client: TestClient, make_tenant: Callable[..., TenantFixture]
) -> None:
    tenant = make_tenant()
    principal_id, key = _principal_with_key(client, tenant, ["viewer"])
    client.patch(
        f"/{tenant.slug}/admin/principals/{principal_id}",
        json={"disabled": True},
        headers=tenant.headers,
    )
    response = client.get(f"/{tenant.slug}/auth/whoami", headers=_bearer(str(key["token"])))
    assert response.status_code == 401


@pytest.fixture
def browser(client: TestClient) -> Iterator[TestClient]:
    """The shared client with its cookie jar emptied before and after the test."""
    client.cookies.clear()
    yield client
    client.cookies.clear()


def _login(browser: TestClient, tenant: TenantFixture) -> str:
    """Log in with the tenant admin's key; returns the CSRF token, the jar holds the cookie."""
    login = browser.post(f"/{tenant.slug}/auth/session", json={"token": tenant.admin_token})
    assert login.status_code == 201, login.text
    cookie = login.headers["set-cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    assert f"Path=/{tenant.slug}" in cookie
    return str(login.json()["csrf_token"])


def test_browser_session_needs_csrf_for_writes(
    browser: TestClient, make_tenant: Callable[..., TenantFixture]
) -> None:
    tenant = make_tenant()
    csrf = _login(browser, tenant)
    whoami = browser.get(f"/{tenant.slug}/auth/whoami")
    assert whoami.status_code == 200
    assert whoami.json()["via"] == "session"
    body = {"name": f"p-{unique_slug()}", "roles": ["viewer"]}
    refused = browser.post(f"/{tenant.slug}/admin/principals", json=body)
    assert refused.status_code == 403
    assert "CSRF" in refused.json()["detail"]
    wrong = browser.post(
        f"/{tenant.slug}/admin/principals", json=body, headers={"X-CSRF-Token": "guess"}
    )
    assert wrong.status_code == 403
    accepted = browser.post(
        f"/{tenant.slug}/admin/principals", json=body, headers={"X-CSRF-Token": csrf}
    )
    assert accepted.status_code == 201
    stolen = browser.cookies.get("stadtkern_session")
    out = browser.delete(f"/{tenant.slug}/auth/session", headers={"X-CSRF-Token": csrf})
    assert out.status_code == 204
    browser.cookies.set("stadtkern_session", stolen or "")
    after = browser.get(f"/{tenant.slug}/auth/whoami")
    assert after.status_code == 401


def test_session_cookie_is_bound_to_its_tenant(
    browser: TestClient, make_tenant: Callable[..., TenantFixture]
) -> None:
    home, other = make_tenant(), make_tenant()
    _login(browser, home)
    value = browser.cookies.get("stadtkern_session") or ""
    browser.cookies.clear()
    browser.cookies.set("stadtkern_session", value)  # sent to every path now
    assert browser.get(f"/{home.slug}/auth/whoami").status_code == 200
    assert browser.get(f"/{other.slug}/auth/whoami").status_code == 401


def test_login_with_foreign_key_fails_and_is_audited(
    client: TestClient, make_tenant: Callable[..., TenantFixture]
) -> None:
    home, other = make_tenant(), make_tenant()
    response = client.post(f"/{other.slug}/auth/session", json={"token": home.admin_token})
    assert response.status_code == 401
    entries = client.get(f"/{other.slug}/admin/audit", headers=other.headers).json()
    assert entries[0]["action"] == "login.failure"


@pytest.fixture
def strict_client(database: Database, mosquitto_url: str) -> Iterator[TestClient]:
    """A platform allowing only three failed authentications per five minutes."""
    settings = make_settings(
        database.url.render_as_string(hide_password=False),
        mosquitto_url,
        auth_failure_limit=3,
    )
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def test_failed_authentications_are_rate_limited(
    strict_client: TestClient, make_tenant: Callable[..., TenantFixture]
) -> None:
    tenant = make_tenant()
    whoami = f"/{tenant.slug}/auth/whoami"
    for _ in range(3):
        assert strict_client.get(whoami, headers=_bearer("sk_000000000000_x")).status_code == 401
    throttled = strict_client.get(whoami, headers=tenant.headers)
    assert throttled.status_code == 429
    assert int(throttled.headers["retry-after"]) > 0

"""The console's login and forms over HTTP, on both backends: sessions, CSRF, redirects."""

from __future__ import annotations

import re
from collections.abc import Callable

from fastapi.testclient import TestClient

from stadtkern.db import Database
from tests.conftest import TenantFixture, issue_token

ORIGIN = {"Origin": "http://testserver"}


def _town(make_tenant: Callable[..., TenantFixture]) -> TenantFixture:
    return make_tenant(modules=["sensorthings", "web"])


def _login(client: TestClient, slug: str, token: str, **query: str) -> object:
    return client.post(
        f"/{slug}/console/login",
        params=query,
        data={"token": token},
        headers=ORIGIN,
        follow_redirects=False,
    )


def test_pages_need_a_session(
    client: TestClient, make_tenant: Callable[..., TenantFixture]
) -> None:
    slug = _town(make_tenant).slug
    client.cookies.clear()
    answer = client.get(f"/{slug}/console/health", follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == f"/{slug}/console/login?next=%2F{slug}%2Fconsole%2Fhealth"
    assert client.get(f"/{slug}/console/devices.geojson").status_code == 401


def test_login_sets_a_tight_cookie_and_follows_next(
    client: TestClient, make_tenant: Callable[..., TenantFixture]
) -> None:
    town = _town(make_tenant)
    client.cookies.clear()
    answer = _login(client, town.slug, town.admin_token, next=f"/{town.slug}/console/health")
    assert answer.status_code == 303  # type: ignore[attr-defined]
    assert answer.headers["location"] == f"/{town.slug}/console/health"  # type: ignore[attr-defined]
    cookie = answer.headers["set-cookie"]  # type: ignore[attr-defined]
    assert "HttpOnly" in cookie
    assert f"Path=/{town.slug}" in cookie
    assert "SameSite=lax" in cookie
    page = client.get(f"/{town.slug}/console/health?lang=en")
    assert page.status_code == 200
    assert "<h1>Device health</h1>" in page.text
    client.cookies.clear()


def test_next_never_leaves_the_towns_console(
    client: TestClient, make_tenant: Callable[..., TenantFixture]
) -> None:
    town = _town(make_tenant)
    for wanted in ("https://evil.example/", "//evil.example/x", "/other/console", "/admin"):
        client.cookies.clear()
        answer = _login(client, town.slug, town.admin_token, next=wanted)
        assert answer.headers["location"] == f"/{town.slug}/console", wanted  # type: ignore[attr-defined]
    client.cookies.clear()


def test_a_form_from_another_site_is_refused(
    client: TestClient, make_tenant: Callable[..., TenantFixture]
) -> None:
    town = _town(make_tenant)
    for headers in ({}, {"Origin": "https://evil.example"}):
        answer = client.post(
            f"/{town.slug}/console/login", data={"token": town.admin_token}, headers=headers
        )
        assert answer.status_code == 403
        assert answer.headers["content-type"].startswith("application/problem+json")
        assert "set-cookie" not in answer.headers


def test_wrong_and_foreign_keys_are_refused(
    client: TestClient, database: Database, make_tenant: Callable[..., TenantFixture]
) -> None:
    town, other = _town(make_tenant), _town(make_tenant)
    foreign = issue_token(database, tenant=other.slug, roles=["admin"])
    for token in ("sk_000000000000_nothing", foreign, ""):
        client.cookies.clear()
        answer = _login(client, town.slug, token, lang="en")
        assert answer.status_code == 401, token  # type: ignore[attr-defined]
        assert "Login failed" in answer.text  # type: ignore[attr-defined]
        cookies = answer.headers.get("set-cookie", "")  # type: ignore[attr-defined]
        assert "stadtkern_session" not in cookies


def test_logout_needs_the_sessions_csrf_token(
    client: TestClient, make_tenant: Callable[..., TenantFixture]
) -> None:
    town = _town(make_tenant)
    client.cookies.clear()
    _login(client, town.slug, town.admin_token)
    page = client.get(f"/{town.slug}/console/health").text
    csrf = re.search(r'name="csrf" value="([^"]+)"', page)
    assert csrf is not None
    refused = client.post(f"/{town.slug}/console/logout", data={"csrf": "x"}, headers=ORIGIN)
    assert refused.status_code == 403
    assert client.get(f"/{town.slug}/console/health", follow_redirects=False).status_code == 200
    done = client.post(
        f"/{town.slug}/console/logout",
        data={"csrf": csrf.group(1)},
        headers=ORIGIN,
        follow_redirects=False,
    )
    assert done.status_code == 303
    client.cookies.clear()

"""The console's administration over HTTP, on both backends: people, keys, roles, modules and
the audit log; only for administrators, every form CSRF- and origin-checked, every refusal a
page with the reason and no change."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from httpx2 import Response

from stadtkern.db import Database
from tests.conftest import TenantFixture, issue_token

ORIGIN = {"Origin": "http://testserver"}
PAGES = ["", "/keys", "/roles", "/modules", "/audit"]


def _town(make_tenant: Callable[..., TenantFixture]) -> TenantFixture:
    return make_tenant(modules=["sensorthings", "web"])


def _log_in(client: TestClient, slug: str, token: str) -> str:
    """A console session for the key; returns its CSRF token."""
    client.cookies.clear()
    answer = client.post(
        f"/{slug}/console/login", data={"token": token}, headers=ORIGIN, follow_redirects=False
    )
    assert answer.status_code == 303
    found = re.search(r'name="csrf" value="([^"]+)"', client.get(f"/{slug}/console/health").text)
    assert found is not None
    return found.group(1)


def _post(client: TestClient, path: str, data: dict[str, object]) -> Response:
    return client.post(path, data=data, headers=ORIGIN, follow_redirects=False)


def _people(client: TestClient, town: TenantFixture) -> dict[str, dict[str, object]]:
    answer = client.get(f"/{town.slug}/admin/principals", headers=town.headers)
    return {p["name"]: p for p in answer.json()}


def _whoami(client: TestClient, slug: str, token: str) -> int:
    headers = {"Authorization": f"Bearer {token}"}
    return client.get(f"/{slug}/auth/whoami", headers=headers).status_code


def test_only_administrators_get_in(
    client: TestClient, database: Database, make_tenant: Callable[..., TenantFixture]
) -> None:
    town = _town(make_tenant)
    client.cookies.clear()
    answer = client.get(f"/{town.slug}/console/admin", follow_redirects=False)
    assert answer.status_code == 303
    assert "/console/login" in answer.headers["location"]
    csrf = _log_in(client, town.slug, issue_token(database, tenant=town.slug, roles=["operator"]))
    assert f'href="/{town.slug}/console/admin"' not in client.get(f"/{town.slug}/console").text
    for page in PAGES:
        refused = client.get(f"/{town.slug}/console/admin{page}?lang=en")
        assert refused.status_code == 403, page
        assert "Not allowed" in refused.text
    before = _people(client, town)
    refused = _post(client, f"/{town.slug}/console/admin/people", {"csrf": csrf, "name": "mallory"})
    assert refused.status_code == 403
    assert _people(client, town) == before
    client.cookies.clear()
    _log_in(client, town.slug, town.admin_token)
    assert f'href="/{town.slug}/console/admin"' in client.get(f"/{town.slug}/console").text
    for page in PAGES:
        assert client.get(f"/{town.slug}/console/admin{page}").status_code == 200, page
    client.cookies.clear()


def test_platform_administrators_get_in(
    client: TestClient, database: Database, make_tenant: Callable[..., TenantFixture]
) -> None:
    town = _town(make_tenant)
    _log_in(client, town.slug, issue_token(database, tenant=None, roles=["platform_admin"]))
    assert client.get(f"/{town.slug}/console/admin/roles").status_code == 200
    client.cookies.clear()


def test_forms_need_the_csrf_token_and_the_consoles_origin(
    client: TestClient, make_tenant: Callable[..., TenantFixture]
) -> None:
    town = _town(make_tenant)
    csrf = _log_in(client, town.slug, town.admin_token)
    path = f"/{town.slug}/console/admin/people"
    assert _post(client, path, {"csrf": "forged", "name": "eve"}).status_code == 403
    foreign = client.post(
        path, data={"csrf": csrf, "name": "eve"}, headers={"Origin": "https://evil.example"}
    )
    assert foreign.status_code == 403
    assert "eve" not in _people(client, town)
    client.cookies.clear()


def test_people_are_added_changed_and_disabled(
    client: TestClient, database: Database, make_tenant: Callable[..., TenantFixture]
) -> None:
    town = _town(make_tenant)
    csrf = _log_in(client, town.slug, town.admin_token)
    base = f"/{town.slug}/console/admin"
    made = _post(
        client, f"{base}/people", {"csrf": csrf, "name": "anna", "kind": "user", "role": "viewer"}
    )
    assert made.status_code == 303
    anna = _people(client, town)["anna"]
    assert made.headers["location"] == f"{base}/people/{anna['id']}"
    assert anna["roles"] == ["viewer"]
    page = client.get(f"{base}/people/{anna['id']}?lang=en")
    assert "<h1>anna</h1>" in page.text

    before = _people(client, town)
    for data, status, reason in (
        ({"name": "anna"}, 409, "exists already"),
        ({"name": "bert", "role": "mayor"}, 422, "unknown roles: mayor"),
        ({"name": "   "}, 422, "name"),
        ({"name": "x" * 300}, 422, "name"),
        ({"name": "bert", "kind": "robot"}, 422, "kind"),
    ):
        refused = _post(client, f"{base}/people?lang=en", {"csrf": csrf, **data})
        assert refused.status_code == status, data
        assert "Nothing was changed" in refused.text
        assert reason in refused.text, refused.text
    assert _people(client, town) == before

    changed = _post(
        client,
        f"{base}/people/{anna['id']}/roles",
        {"csrf": csrf, "role": ["operator", "warning_issuer"]},
    )
    assert changed.status_code == 422  # the town has no warning module: no such role
    assert _people(client, town)["anna"]["roles"] == ["viewer"]
    changed = _post(client, f"{base}/people/{anna['id']}/roles", {"csrf": csrf, "role": "operator"})
    assert changed.status_code == 303
    assert _people(client, town)["anna"]["roles"] == ["operator"]

    key = issue_token(database, tenant=town.slug, roles=["viewer"])
    holder = next(p for n, p in _people(client, town).items() if p["roles"] == ["viewer"])
    assert _whoami(client, town.slug, key) == 200
    done = _post(client, f"{base}/people/{holder['id']}/state", {"csrf": csrf, "disabled": "1"})
    assert done.status_code == 303
    assert _whoami(client, town.slug, key) == 401  # at once: the cache is forgotten
    enabled = _post(client, f"{base}/people/{holder['id']}/state", {"csrf": csrf, "disabled": "0"})
    assert enabled.status_code == 303
    assert _whoami(client, town.slug, key) == 200
    missing = client.get(f"{base}/people/999999999")
    assert missing.status_code == 404
    client.cookies.clear()


def test_an_administrator_cannot_lock_themself_out(
    client: TestClient, make_tenant: Callable[..., TenantFixture]
) -> None:
    town = _town(make_tenant)
    csrf = _log_in(client, town.slug, town.admin_token)
    me = next(p for p in _people(client, town).values() if p["roles"] == ["admin"])
    base = f"/{town.slug}/console/admin/people/{me['id']}"
    refused = _post(client, f"{base}/state", {"csrf": csrf, "disabled": "1"})
    assert refused.status_code == 422
    assert "your own account" in refused.text
    refused = _post(client, f"{base}/roles", {"csrf": csrf, "role": "viewer"})
    assert refused.status_code == 422
    assert _people(client, town)[str(me["name"])]["roles"] == ["admin"]
    assert not _people(client, town)[str(me["name"])]["disabled"]
    client.cookies.clear()


def test_a_key_is_shown_once_and_revoked_after_confirmation(
    client: TestClient, make_tenant: Callable[..., TenantFixture]
) -> None:
    town, other = _town(make_tenant), _town(make_tenant)
    csrf = _log_in(client, town.slug, town.admin_token)
    base = f"/{town.slug}/console/admin"
    _post(client, f"{base}/people", {"csrf": csrf, "name": "sensor-gw", "kind": "service"})
    gateway = _people(client, town)["sensor-gw"]
    _post(client, f"{base}/people/{gateway['id']}/roles", {"csrf": csrf, "role": "viewer"})
    until = (datetime.now(UTC).date() + timedelta(days=30)).isoformat()
    issued = _post(
        client,
        f"{base}/keys",
        {"csrf": csrf, "principal": gateway["id"], "label": "gateway 7", "expires": until},
    )
    assert issued.status_code == 200
    assert issued.headers["cache-control"] == "no-store"
    token = re.search(r'value="(sk_[0-9a-f]{12}_[^"]+)"', issued.text)
    assert token is not None
    key_id = token.group(1).split("_")[1]
    assert _whoami(client, town.slug, token.group(1)) == 200
    listing = client.get(f"{base}/keys")
    assert key_id in listing.text
    assert token.group(1) not in listing.text
    assert token.group(1).split("_")[2] not in client.get(f"{base}/people/{gateway['id']}").text

    foreign = _people(client, other)
    for data, status in (
        ({"principal": next(iter(foreign.values()))["id"]}, 404),  # another town's principal
        ({"principal": "abc"}, 422),
        ({"principal": gateway["id"], "expires": "2001-01-01"}, 422),
        ({"principal": gateway["id"], "expires": "soon"}, 422),
    ):
        refused = _post(client, f"{base}/keys", {"csrf": csrf, **data})
        assert refused.status_code == status, data
        assert "sk_" not in refused.text
    keys = client.get(f"/{town.slug}/admin/keys", headers=town.headers).json()
    assert sum(1 for key in keys if key["principal_id"] == gateway["id"]) == 1

    confirm = client.get(f"{base}/keys/{key_id}/revoke?lang=en")
    assert confirm.status_code == 200
    assert "Revoke the key" in confirm.text
    assert _whoami(client, town.slug, token.group(1)) == 200  # asking changes nothing
    done = _post(client, f"{base}/keys/{key_id}/revoke", {"csrf": csrf})
    assert done.status_code == 303
    assert _whoami(client, town.slug, token.group(1)) == 401
    assert client.get(f"{base}/keys/000000000000/revoke").status_code == 404
    client.cookies.clear()


def test_modules_are_switched_with_their_dependencies(
    client: TestClient, make_tenant: Callable[..., TenantFixture]
) -> None:
    town = _town(make_tenant)
    csrf = _log_in(client, town.slug, town.admin_token)
    base = f"/{town.slug}/console/admin/modules"

    def modules() -> list[str]:
        return list(client.get(f"/{town.slug}").json()["modules"])

    assert _post(client, f"{base}/warning", {"csrf": csrf, "on": "1"}).status_code == 303
    assert "warning" in modules()
    assert "warning_issuer" in client.get(f"/{town.slug}/console/admin/roles").text
    for name, on, reason in (
        ("sensorthings", "0", "warning needs sensorthings"),
        ("web", "0", "not switched from the console"),
        ("core", "0", "not switched from the console"),
        ("teleporter", "1", "unknown modules: teleporter"),
    ):
        refused = _post(client, f"{base}/{name}", {"csrf": csrf, "on": on})
        assert refused.status_code == 422, name
        assert reason in refused.text
    assert modules() == ["core", "sensorthings", "warning", "web"]
    assert _post(client, f"{base}/warning", {"csrf": csrf, "on": "0"}).status_code == 303
    assert _post(client, f"{base}/sensorthings", {"csrf": csrf, "on": "0"}).status_code == 303
    assert modules() == ["core", "web"]
    log = client.get(f"/{town.slug}/console/admin/audit").text
    assert log.count("tenant.update") == 3
    client.cookies.clear()


def test_the_platform_api_keeps_module_dependencies_too(
    client: TestClient, platform_admin: dict[str, str], make_tenant: Callable[..., TenantFixture]
) -> None:
    town = _town(make_tenant)
    refused = client.patch(
        f"/admin/tenants/{town.slug}", json={"modules": ["warning"]}, headers=platform_admin
    )
    assert refused.status_code == 422
    assert "needs sensorthings" in refused.json()["detail"]


def test_roles_and_audit_pages_show_the_town(
    client: TestClient, make_tenant: Callable[..., TenantFixture]
) -> None:
    town = _town(make_tenant)
    csrf = _log_in(client, town.slug, town.admin_token)
    _post(
        client,
        f"/{town.slug}/console/admin/people",
        {"csrf": csrf, "name": "clara", "role": "operator"},
    )
    roles = client.get(f"/{town.slug}/console/admin/roles?lang=en").text
    row = re.search(r"<th scope=\"row\">operator</th>.*?</tr>", roles, re.S)
    assert row is not None
    assert "clara" in row.group(0)
    log = client.get(f"/{town.slug}/console/admin/audit?lang=en").text
    assert "principal.create" in log
    assert "login.success" in log
    client.cookies.clear()

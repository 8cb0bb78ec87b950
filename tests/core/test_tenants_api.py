"""Tenant administration over HTTP: create, copy, change, disable; bad input writes nothing."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from stadtkern.db import Database
from tests.conftest import TenantFixture, issue_token, unique_slug

KL_CENTRE = {
    "type": "Polygon",
    "coordinates": [[[7.70, 49.40], [7.85, 49.40], [7.85, 49.48], [7.70, 49.48], [7.70, 49.40]]],
}


def _create(client: TestClient, headers: dict[str, str], **fields: object) -> dict[str, object]:
    body = {"slug": unique_slug(), "name": "Kaiserslautern", "ars": "073120000000", **fields}
    response = client.post("/admin/tenants", json=body, headers=headers)
    assert response.status_code == 201, response.text
    data: dict[str, object] = response.json()
    return data


def test_create_tenant_returns_location_and_stores_fields(
    client: TestClient, platform_admin: dict[str, str]
) -> None:
    slug = unique_slug()
    response = client.post(
        "/admin/tenants",
        json={
            "slug": slug,
            "name": "Kaiserslautern",
            "ars": "073120000000",
            "boundary": KL_CENTRE,
            "timezone": "Europe/Berlin",
            "locale": "de",
            "modules": ["example"],
        },
        headers=platform_admin,
    )
    assert response.status_code == 201, response.text
    assert response.headers["location"] == f"/admin/tenants/{slug}"
    shown = client.get(f"/admin/tenants/{slug}", headers=platform_admin).json()
    assert shown["ars"] == "073120000000"
    assert shown["modules"] == ["example"]
    assert shown["boundary"]["type"] == "MultiPolygon"
    assert shown["boundary"]["coordinates"][0][0][0] == [7.70, 49.40]
    assert client.get(f"/{slug}").json()["name"] == "Kaiserslautern"


@pytest.mark.parametrize(
    ("field", "value", "status"),
    [
        ("slug", "Kaiserslautern", 422),
        ("slug", "ab", 422),
        ("slug", "admin", 422),
        ("slug", "a--b", 422),
        ("ars", "07312000000", 422),
        ("ars", "993120000000", 422),
        ("ars", "07312000000x", 422),
        ("timezone", "Mars/Olympus", 422),
        ("locale", "fr", 422),
        ("modules", ["no-such-module"], 422),
        ("boundary", {"type": "Point", "coordinates": [7.7, 49.4]}, 422),
        (
            "boundary",
            {"type": "Polygon", "coordinates": [[[7, 49], [8, 50], [8, 49], [7, 50], [7, 49]]]},
            422,
        ),
        ("unknown_field", 1, 422),
    ],
)
def test_bad_tenant_input_is_refused_and_writes_nothing(
    client: TestClient, platform_admin: dict[str, str], field: str, value: object, status: int
) -> None:
    slug = unique_slug()
    body: dict[str, object] = {"slug": slug, "name": "X", "ars": "073120000000", field: value}
    response = client.post("/admin/tenants", json=body, headers=platform_admin)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["status"] == status
    assert problem["detail"]
    target = value if field == "slug" and isinstance(value, str) else slug
    assert client.get(f"/admin/tenants/{target}", headers=platform_admin).status_code == 404


def test_malformed_json_is_400(client: TestClient, platform_admin: dict[str, str]) -> None:
    response = client.post(
        "/admin/tenants",
        content=b'{"slug": "x",',
        headers={**platform_admin, "Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert response.json()["title"] == "Bad request"


def test_oversized_body_is_413(client: TestClient, platform_admin: dict[str, str]) -> None:
    slug = unique_slug()
    huge = {"slug": slug, "name": "x" * 2_000_000, "ars": "073120000000"}
    response = client.post("/admin/tenants", json=huge, headers=platform_admin)
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"
    assert client.get(f"/admin/tenants/{slug}", headers=platform_admin).status_code == 404


def test_duplicate_slug_is_409(client: TestClient, platform_admin: dict[str, str]) -> None:
    created = _create(client, platform_admin)
    again = client.post(
        "/admin/tenants",
        json={"slug": created["slug"], "name": "Other", "ars": "073120000000"},
        headers=platform_admin,
    )
    assert again.status_code == 409
    shown = client.get(f"/admin/tenants/{created['slug']}", headers=platform_admin).json()
    assert shown["name"] == "Kaiserslautern"


def test_admin_routes_need_platform_admin(client: TestClient) -> None:
    response = client.get("/admin/tenants")
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert response.json()["title"] == "Authentication required"


def test_unknown_tenant_is_404_problem(client: TestClient) -> None:
    response = client.get(f"/{unique_slug()}/auth/whoami")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


def test_copy_takes_configuration_but_no_people_or_keys(
    client: TestClient,
    database: Database,
    platform_admin: dict[str, str],
    make_tenant: Callable[..., TenantFixture],
) -> None:
    source = make_tenant(modules=["example"])
    patched = client.patch(
        f"/admin/tenants/{source.slug}",
        json={"module_settings": {"example": {"salutation": "Moin"}}, "locale": "en"},
        headers=platform_admin,
    )
    assert patched.status_code == 200, patched.text
    greeter = client.post(
        f"/{source.slug}/admin/principals",
        json={"name": "greeter", "roles": ["greeter"]},
        headers=source.headers,
    ).json()
    key = client.post(
        f"/{source.slug}/admin/keys", json={"principal_id": greeter["id"]}, headers=source.headers
    ).json()
    posted = client.post(
        f"/{source.slug}/example/greetings",
        json={"text": "Willkommen"},
        headers={"Authorization": f"Bearer {key['token']}"},
    )
    assert posted.status_code == 201, posted.text

    new_slug = unique_slug()
    response = client.post(
        f"/admin/tenants/{source.slug}/copy",
        json={"slug": new_slug, "name": "Kusel", "ars": "073360000000"},
        headers=platform_admin,
    )
    assert response.status_code == 201, response.text
    copy = response.json()
    assert copy["modules"] == ["example"]
    assert copy["module_settings"] == {"example": {"salutation": "Moin"}}
    assert copy["locale"] == "en"
    assert copy["ars"] == "073360000000"
    # Configuration travelled, people and keys did not: the source key is foreign here.
    foreign = client.get(
        f"/{new_slug}/example/greetings", headers={"Authorization": f"Bearer {key['token']}"}
    )
    assert foreign.status_code == 404
    admin = {"Authorization": f"Bearer {issue_token(database, tenant=new_slug, roles=['admin'])}"}
    greetings = client.get(f"/{new_slug}/example/greetings", headers=admin).json()
    assert [g["text"] for g in greetings] == ["Willkommen"]
    people = client.get(f"/{new_slug}/admin/principals", headers=admin).json()
    assert [p["roles"] for p in people] == [["admin"]]


def test_copy_from_unknown_tenant_is_404(
    client: TestClient, platform_admin: dict[str, str]
) -> None:
    new_slug = unique_slug()
    response = client.post(
        f"/admin/tenants/{unique_slug()}/copy",
        json={"slug": new_slug, "name": "Kusel", "ars": "073360000000"},
        headers=platform_admin,
    )
    assert response.status_code == 404
    assert client.get(f"/admin/tenants/{new_slug}", headers=platform_admin).status_code == 404


def test_disabled_tenant_answers_as_if_missing(
    client: TestClient, platform_admin: dict[str, str], make_tenant: Callable[..., TenantFixture]
) -> None:
    tenant = make_tenant()
    assert client.get(f"/{tenant.slug}/auth/whoami", headers=tenant.headers).status_code == 200
    assert client.post(f"/admin/tenants/{tenant.slug}/disable", headers=platform_admin).json()[
        "disabled"
    ]
    assert client.get(f"/{tenant.slug}/auth/whoami", headers=tenant.headers).status_code == 404
    assert client.get(f"/{tenant.slug}").status_code == 404
    client.post(f"/admin/tenants/{tenant.slug}/enable", headers=platform_admin)
    assert client.get(f"/{tenant.slug}/auth/whoami", headers=tenant.headers).status_code == 200


def test_module_routes_hidden_until_switched_on(
    client: TestClient, platform_admin: dict[str, str], make_tenant: Callable[..., TenantFixture]
) -> None:
    tenant = make_tenant()
    assert (
        client.get(f"/{tenant.slug}/example/greetings", headers=tenant.headers).status_code == 404
    )
    client.patch(
        f"/admin/tenants/{tenant.slug}", json={"modules": ["example"]}, headers=platform_admin
    )
    response = client.get(f"/{tenant.slug}/example/greetings", headers=tenant.headers)
    assert response.status_code == 200
    assert response.json() == []


def test_tenant_changes_are_audited(
    client: TestClient, platform_admin: dict[str, str], make_tenant: Callable[..., TenantFixture]
) -> None:
    tenant = make_tenant()
    client.patch(f"/admin/tenants/{tenant.slug}", json={"name": "Neu"}, headers=platform_admin)
    entries = client.get(f"/{tenant.slug}/admin/audit", headers=tenant.headers).json()
    actions = [entry["action"] for entry in entries]
    assert actions[0] == "tenant.update"
    assert "tenant.create" in actions
    assert all(entry["tenant"] == tenant.slug for entry in entries)

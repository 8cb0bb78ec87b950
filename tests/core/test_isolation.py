"""Tenant isolation, checked by walking the application's route table.

Every route under /{tenant} is called by an administrator of tenant A (1) on tenant B's
path and (2) on tenant A's path with the ids of tenant B's objects. Both must answer 404.
A route added later is covered without touching this test, unless it has a path parameter
that no factory below knows or needs a request body to reach its lookup: then this test
fails and asks for the factory or sample body, so no route can slip past.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from stadtkern.modules import discover_modules
from tests.conftest import TenantFixture

PARAM = re.compile(r"{([^}:]+)(?::[^}]+)?}")
PUBLIC = "x-stadtkern-public"


def _make_principal(client: TestClient, owner: TenantFixture) -> str:
    response = client.post(
        f"/{owner.slug}/admin/principals",
        json={"name": f"probe-{secrets.token_hex(4)}", "roles": ["viewer"]},
        headers=owner.headers,
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def _make_key(client: TestClient, owner: TenantFixture) -> str:
    principal_id = int(_make_principal(client, owner))
    response = client.post(
        f"/{owner.slug}/admin/keys", json={"principal_id": principal_id}, headers=owner.headers
    )
    assert response.status_code == 201, response.text
    return str(response.json()["key_id"])


def _make_greeting(client: TestClient, owner: TenantFixture) -> str:
    principal = client.post(
        f"/{owner.slug}/admin/principals",
        json={"name": f"greeter-{secrets.token_hex(4)}", "roles": ["greeter"]},
        headers=owner.headers,
    ).json()
    key = client.post(
        f"/{owner.slug}/admin/keys", json={"principal_id": principal["id"]}, headers=owner.headers
    ).json()
    response = client.post(
        f"/{owner.slug}/example/greetings",
        json={"text": "Guten Tag"},
        headers={"Authorization": f"Bearer {key['token']}"},
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def _token(client: TestClient, owner: TenantFixture, roles: list[str]) -> dict[str, str]:
    principal = client.post(
        f"/{owner.slug}/admin/principals",
        json={"name": f"staff-{secrets.token_hex(4)}", "roles": roles},
        headers=owner.headers,
    ).json()
    key = client.post(
        f"/{owner.slug}/admin/keys", json={"principal_id": principal["id"]}, headers=owner.headers
    ).json()
    return {"Authorization": f"Bearer {key['token']}"}


def _make_alert(client: TestClient, owner: TenantFixture) -> str:
    issuer = _token(client, owner, ["viewer", "warning_issuer"])
    response = client.post(
        f"/{owner.slug}/warning/alerts",
        json={
            "status": "Draft",
            "event": f"Probe {secrets.token_hex(3)}",
            "headline": {"de": "Probe"},
            "area": {"circles": [{"lat": 49.44, "lon": 7.77, "radiusKm": 1}]},
        },
        headers=issuer,
    )
    assert response.status_code == 201, response.text
    return str(response.json()["identifier"])


def _make_lantern(client: TestClient, owner: TenantFixture) -> str:
    code = f"P{secrets.token_hex(3)}"
    response = client.post(
        f"/{owner.slug}/warning/lanterns",
        json={
            "code": code,
            "name": "Probe",
            "lon": 7.77,
            "lat": 49.44,
            "publicKey": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo",
        },
        headers=owner.headers,
    )
    assert response.status_code == 201, response.text
    return code


def _make_zone(client: TestClient, owner: TenantFixture) -> str:
    key = f"zone-{secrets.token_hex(3)}"
    response = client.post(
        f"/{owner.slug}/warning/zones",
        json={"key": key, "name": "Probe", "kind": "drawn", "geometry": SQUARE},
        headers=owner.headers,
    )
    assert response.status_code == 201, response.text
    return key


def _make_warning_day(client: TestClient, owner: TenantFixture) -> str:
    issuer = _token(client, owner, ["viewer", "warning_issuer"])
    response = client.post(
        f"/{owner.slug}/warning/warning-days",
        json={"scheduledFor": "2099-09-10T11:00:00+02:00"},
        headers=issuer,
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def _make_category(client: TestClient, owner: TenantFixture) -> str:
    code = f"probe-{secrets.token_hex(3)}"
    response = client.post(
        f"/{owner.slug}/maengelmelder/categories",
        json={"code": code, "name": "Probe"},
        headers=_token(client, owner, ["defect_admin"]),
    )
    assert response.status_code == 201, response.text
    return code


def _post_report(client: TestClient, owner: TenantFixture) -> dict[str, str]:
    """A Mängelmelder report with a photo in the victim town: its id, token and photo key."""
    import io

    from PIL import Image

    photo = io.BytesIO()
    Image.new("RGB", (8, 8)).save(photo, format="PNG")
    app_key = _token(client, owner, ["open311_client"])["Authorization"].removeprefix("Bearer ")
    response = client.post(
        f"/{owner.slug}/open311/v2/requests.json",
        data={"api_key": app_key, "service_code": _make_category(client, owner),
              "address_string": "Probe 1"},
        files={"media": ("p.png", photo.getvalue(), "image/png")},
    )  # fmt: skip
    assert response.status_code == 200, response.text
    created = response.json()[0]
    report_id = created["service_request_id"]
    media_url = client.get(f"/{owner.slug}/open311/v2/requests/{report_id}.json").json()[0][
        "media_url"
    ]
    return {
        "id": report_id,
        "token": created["token"],
        "media": media_url.rsplit("/", 1)[1].removesuffix(".jpg"),
    }


# Path parameter -> how to create an object of that kind in the victim tenant.
FACTORIES: dict[str, Callable[[TestClient, TenantFixture], str]] = {
    "principal_id": _make_principal,
    "key_id": _make_key,
    "greeting_id": _make_greeting,  # the example module, installed by the test command
    "identifier": _make_alert,  # the warning module's alerts
    "code": _make_lantern,
    "key": _make_zone,
    "day_id": _make_warning_day,
    # the Mängelmelder: Open311 and staff routes
    "service_code": _make_category,
    "category_code": _make_category,
    "service_request_id": lambda client, owner: _post_report(client, owner)["id"],
    "report_id": lambda client, owner: _post_report(client, owner)["id"],
    "token": lambda client, owner: _post_report(client, owner)["token"],
    "media_key": lambda client, owner: _post_report(client, owner)["media"],
}
# Request bodies that pass validation, so that the object lookup is what answers.
SQUARE = {
    "type": "Polygon",
    "coordinates": [[[7.7, 49.4], [7.8, 49.4], [7.8, 49.5], [7.7, 49.5], [7.7, 49.4]]],
}
SAMPLE_BODIES: dict[tuple[str, str], object] = {
    ("PATCH", "/{tenant}/admin/principals/{principal_id}"): {"disabled": False},
    ("PUT", "/{tenant}/warning/zones/{key}"): {"name": "x", "kind": "drawn", "geometry": SQUARE},
    ("PUT", "/{tenant}/maengelmelder/categories/{category_code}"): {"name": "x"},
    ("POST", "/{tenant}/maengelmelder/reports/{report_id}/updates"): {"note": "x"},
    ("POST", "/{tenant}/maengelmelder/reports/{report_id}/assignment"): {"assignee": "x"},
    ("POST", "/{tenant}/maengelmelder/reports/{report_id}/merge"): {"into": 1},
}


def tenant_routes(client: TestClient) -> list[tuple[str, str, dict[str, Any]]]:
    """Every (method, path template, operation) under /{tenant} the application publishes.

    The OpenAPI document is FastAPI's public view of its whole route table, nested routers
    included, so it is walked instead of the framework's internal route objects.
    """
    schema = client.app.openapi()  # type: ignore[attr-defined]
    found = []
    for path, operations in schema["paths"].items():
        if path.startswith("/{tenant}"):
            for method, operation in operations.items():
                found.append((method.upper(), path, operation))
    return found


def _fill(template: str, tenant: str, ids: dict[str, str]) -> str:
    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        return tenant if name == "tenant" else ids[name]

    return PARAM.sub(value, template)


def test_route_table_is_walked(client: TestClient) -> None:
    """The walk sees the core's tenant routes (guards against an empty walk passing)."""
    paths = {path for _, path, _ in tenant_routes(client)}
    assert {"/{tenant}/admin/principals/{principal_id}", "/{tenant}/admin/keys/{key_id}"} <= paths
    assert len(paths) >= 8


def test_every_tenant_route_hides_other_tenants(
    client: TestClient, make_tenant: Callable[..., TenantFixture]
) -> None:
    """An admin of A gets 404 for B's paths and for B's objects under A's path."""
    installed = discover_modules(None)
    every_module = [m.name for m in installed if m.name != "core"]
    attacker, victim = make_tenant(modules=every_module), make_tenant(modules=every_module)
    # The attacker holds every role, module roles included, so that no role check answers
    # before the lookup that must hide B's objects.
    every_role = ["admin", *(role.name for m in installed for role in m.roles)]
    attacker = TenantFixture(
        attacker.slug, _token(client, attacker, every_role)["Authorization"].removeprefix("Bearer ")
    )
    checked = 0
    for method, template, operation in tenant_routes(client):
        names = [n for n in PARAM.findall(template) if n != "tenant"]
        missing = [n for n in names if n not in FACTORIES]
        assert not missing, f"{method} {template}: add an isolation factory for {missing}"
        victim_ids = {name: FACTORIES[name](client, victim) for name in names}
        body = SAMPLE_BODIES.get((method, template), {})
        public = bool(operation.get(PUBLIC))

        if not public:
            response = client.request(
                method,
                _fill(template, victim.slug, victim_ids),
                json=body,
                headers=attacker.headers,
            )
            assert response.status_code == 404, f"{method} {template} on B: {response.text}"
            assert response.headers["content-type"] == "application/problem+json"
            checked += 1
        if names:
            response = client.request(
                method,
                _fill(template, attacker.slug, victim_ids),
                json=body,
                headers=attacker.headers,
            )
            assert response.status_code == 404, f"{method} {template} with B's ids: {response.text}"
            checked += 1
    assert checked >= 10


@pytest.mark.parametrize("path", ["/admin/tenants", "/admin/audit", "/admin/audit/verify"])
def test_tenant_admin_cannot_reach_platform_admin(
    client: TestClient, make_tenant: Callable[..., TenantFixture], path: str
) -> None:
    """Platform routes refuse a tenant's admin with 403."""
    tenant = make_tenant()
    response = client.get(path, headers=tenant.headers)
    assert response.status_code == 403
    assert response.json()["status"] == 403

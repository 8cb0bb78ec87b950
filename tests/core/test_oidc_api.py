"""OIDC bearer tokens through the HTTP API: tenant roles, platform admin, browser login."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi.testclient import TestClient
from jwt.algorithms import RSAAlgorithm

from stadtkern.app import create_app
from stadtkern.db import Database
from stadtkern.settings import OidcSettings
from tests.conftest import TenantFixture, make_settings, unique_slug

ISSUER = "https://login.example-stadt.de/realms/stadt"
AUDIENCE = "stadtkern"


@pytest.fixture(scope="module")
def signing_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def oidc_client(
    database: Database, mosquitto_url: str, signing_key: rsa.RSAPrivateKey, tmp_path: Path
) -> Iterator[TestClient]:
    """A platform trusting tokens signed by `signing_key` (JWKS from a file)."""
    jwk = RSAAlgorithm.to_jwk(signing_key.public_key(), as_dict=True)
    jwk.update({"kid": "k1", "use": "sig", "alg": "RS256"})
    jwks = tmp_path / "jwks.json"
    jwks.write_text(json.dumps({"keys": [jwk]}))
    settings = make_settings(
        database.url.render_as_string(hide_password=False),
        mosquitto_url,
        oidc=OidcSettings(
            enabled=True,
            issuer=ISSUER,
            audience=AUDIENCE,
            jwks_file=jwks,
            roles_claim="resource_access.stadtkern.roles",
        ),
    )
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def _token(key: rsa.RSAPrivateKey, subject: str, roles: list[str]) -> str:
    now = int(time.time())
    claims = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": subject,
        "preferred_username": "m.mustermann",
        "iat": now,
        "exp": now + 300,
        "typ": "Bearer",
        "resource_access": {"stadtkern": {"roles": roles}},
    }
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": "k1"})


def test_oidc_roles_apply_to_their_tenant_only(
    oidc_client: TestClient,
    signing_key: rsa.RSAPrivateKey,
    make_tenant: Callable[..., TenantFixture],
) -> None:
    home, other = make_tenant(), make_tenant()
    token = _token(signing_key, "user-1", [f"{home.slug}:operator"])
    headers = {"Authorization": f"Bearer {token}"}
    whoami = oidc_client.get(f"/{home.slug}/auth/whoami", headers=headers)
    assert whoami.status_code == 200, whoami.text
    assert whoami.json()["via"] == "oidc"
    assert sorted(whoami.json()["roles"]) == ["operator", "viewer"]
    assert oidc_client.get(f"/{other.slug}/auth/whoami", headers=headers).status_code == 404
    assert oidc_client.get(f"/{home.slug}/admin/keys", headers=headers).status_code == 403


def test_oidc_platform_admin_manages_tenants(
    oidc_client: TestClient, signing_key: rsa.RSAPrivateKey
) -> None:
    headers = {"Authorization": f"Bearer {_token(signing_key, 'ops-1', ['platform_admin'])}"}
    slug = unique_slug()
    response = oidc_client.post(
        "/admin/tenants",
        json={"slug": slug, "name": "Kusel", "ars": "073360000000"},
        headers=headers,
    )
    assert response.status_code == 201, response.text


def test_token_from_another_key_is_refused(
    oidc_client: TestClient, make_tenant: Callable[..., TenantFixture]
) -> None:
    tenant = make_tenant()
    forger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    token = _token(forger, "user-1", [f"{tenant.slug}:admin"])
    response = oidc_client.get(
        f"/{tenant.slug}/auth/whoami", headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 401
    assert "OIDC" in response.json()["detail"]


def test_oidc_login_creates_principal_and_session(
    oidc_client: TestClient,
    signing_key: rsa.RSAPrivateKey,
    make_tenant: Callable[..., TenantFixture],
) -> None:
    tenant = make_tenant()
    token = _token(signing_key, "user-7", [f"{tenant.slug}:viewer"])
    login = oidc_client.post(f"/{tenant.slug}/auth/session", json={"token": token})
    assert login.status_code == 201, login.text
    assert oidc_client.get(f"/{tenant.slug}/auth/whoami").json()["via"] == "session"
    oidc_client.cookies.clear()
    people = oidc_client.get(f"/{tenant.slug}/admin/principals", headers=tenant.headers).json()
    assert any(p["name"] == "oidc:user-7" for p in people)

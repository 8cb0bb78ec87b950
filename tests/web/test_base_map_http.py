"""A production base map: its settings, and the Content-Security-Policy that allows exactly
its origins, and only when one is configured (both backends)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from stadtkern.app import create_app
from stadtkern.db import Database
from stadtkern.web.settings import WebSettings
from tests.conftest import TenantFixture, make_settings

BASEMAP_DE = "https://sgx.geodatenzentrum.de/gdz_basemapde_vektor/styles/bm_web_col.json"


def _policy(answer: object) -> dict[str, str]:
    header = answer.headers["content-security-policy"]  # type: ignore[attr-defined]
    parts = (part.strip().split(" ", 1) for part in header.split(";") if part.strip())
    return {name: rest for name, rest in parts}


@pytest.fixture(scope="module")
def configured(database: Database, mosquitto_url: str) -> Iterator[TestClient]:
    settings = make_settings(
        database.url.render_as_string(hide_password=False),
        mosquitto_url,
        module_settings={
            "web": {
                "base_map_style_url": BASEMAP_DE,
                "base_map_origins": ["https://fonts.example.org"],
            }
        },
    )
    with TestClient(create_app(settings)) as test_client:  # one per backend: apps are slow
        yield test_client


def test_the_policy_names_the_base_maps_origins_only_when_configured(
    client: TestClient, configured: TestClient, make_tenant: Callable[..., TenantFixture]
) -> None:
    tenant = make_tenant(modules=["web"])
    for path in ("portal", "console/login"):
        plain = _policy(client.get(f"/{tenant.slug}/{path}"))
        assert plain["connect-src"] == "'self'"
        assert plain["img-src"] == "'self' data: blob:"
        production = _policy(configured.get(f"/{tenant.slug}/{path}"))
        origins = "https://sgx.geodatenzentrum.de https://fonts.example.org"
        assert production["connect-src"] == f"'self' {origins}"
        assert production["img-src"] == f"'self' data: blob: {origins}"
        for name in ("script-src", "style-src", "worker-src", "default-src"):
            assert production[name] == plain[name] == "'self'"


def test_the_map_elements_carry_the_style(
    configured: TestClient, make_tenant: Callable[..., TenantFixture]
) -> None:
    from stadtkern.web.rendering import base_map_attributes

    assert base_map_attributes(WebSettings(base_map_style_url=BASEMAP_DE)) == {
        "data-base-style": BASEMAP_DE,
        "data-base-tiles": None,
        "data-base-attribution": None,
    }
    tenant = make_tenant(modules=["web"])
    assert configured.get(f"/{tenant.slug}/portal").status_code == 200


@pytest.mark.parametrize(
    ("setting", "value"),
    [
        ("base_map_style_url", "javascript:alert(1)"),
        ("base_map_style_url", "https://evil.example.org;script-src *"),
        ("base_map_tiles", "https://{s}.tile.example.org/{z}/{x}/{y}.png"),
        ("base_map_origins", ["https://tiles.example.org/path"]),
        ("base_map_origins", ["*"]),
    ],
)
def test_a_base_map_that_is_no_plain_web_address_is_refused(setting: str, value: object) -> None:
    with pytest.raises(ValidationError):
        WebSettings.model_validate({setting: value})


def test_tiles_with_attribution_are_accepted() -> None:
    settings = WebSettings(
        base_map_tiles="https://tiles.example.org:8443/{z}/{x}/{y}.png",
        base_map_attribution="© Example",
    )
    assert settings.base_map_sources() == ["https://tiles.example.org:8443"]

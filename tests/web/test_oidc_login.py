"""The console's login through an OpenID provider, against a real one started by the test
(tests/web/oidc_provider.py): the whole code flow over HTTP on both backends, every refusal
(tampered state, wrong nonce, wrong audience, expired token, no role in the town, replay)
with a clear page and no session, the throttle, and the button clicked in Chromium."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx2
import pytest
from fastapi.testclient import TestClient

from stadtkern.app import create_app
from stadtkern.core import tenants
from stadtkern.core.schemas import TenantCreate
from stadtkern.db import Database
from stadtkern.modules import discover_modules
from stadtkern.settings import OidcSettings, Settings
from tests.conftest import (
    TenantFixture,
    free_port,
    make_settings,
    migrated_database,
    serving,
    unique_slug,
)
from tests.web.conftest import visit
from tests.web.oidc_provider import CLIENT_ID, CLIENT_SECRET, TestProvider, running_provider

ENGLISH = {"Accept-Language": "en"}


def _oidc(issuer: str) -> OidcSettings:
    return OidcSettings(
        enabled=True,
        issuer=issuer,
        audience="stadtkern-api",
        jwks_url=f"{issuer}/jwks",
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        provider_name="Stadt-Login",
    )


@pytest.fixture(scope="module")
def provider() -> Iterator[TestProvider]:
    """The identity provider, shared by the module's tests."""
    with running_provider() as running:
        yield running


@pytest.fixture
def login_roles(provider: TestProvider) -> Iterator[Callable[..., None]]:
    """Sets what the provider's next ID token says; reset after the test."""

    def say(*roles: str, **overrides: Any) -> None:
        provider.roles, provider.overrides = list(roles), overrides

    yield say
    say()


@contextmanager
def _app(database: Database, broker: str, issuer: str, **overrides: Any) -> Iterator[TestClient]:
    settings = make_settings(
        database.url.render_as_string(hide_password=False),
        broker,
        oidc=_oidc(issuer),
        **{"auth_failure_limit": 100_000, **overrides},
    )
    with TestClient(create_app(settings)) as client:
        yield client


@pytest.fixture(scope="module")
def oidc_client(
    database: Database, mosquitto_url: str, provider: TestProvider
) -> Iterator[TestClient]:
    """A platform whose console offers the provider's login, per backend."""
    with _app(database, mosquitto_url, provider.issuer) as client:
        yield client


def _start(client: TestClient, slug: str, **query: str) -> str:
    """Press the button: our redirect to the provider; returns the provider's URL."""
    client.cookies.clear()
    start = client.get(f"/{slug}/console/oidc/start", params=query, follow_redirects=False)
    assert start.status_code == 303, start.text
    return str(start.headers["location"])


def _at_provider(authorize: str) -> str:
    """The provider's answer (a real HTTP request): the callback path with code and state."""
    with httpx2.Client(trust_env=False) as http:
        answer = http.get(authorize, follow_redirects=False)
    assert answer.status_code == 302, answer.text
    back = urlsplit(answer.headers["location"])
    return f"{back.path}?{back.query}"


def _log_in(client: TestClient, slug: str, **query: str) -> Any:
    callback = _at_provider(_start(client, slug, **query))
    return client.get(callback, headers=ENGLISH, follow_redirects=False)


def _failures(client: TestClient, town: TenantFixture) -> int:
    log = client.get(f"/{town.slug}/admin/audit", headers=town.headers).json()
    return sum(1 for entry in log if entry["action"] == "login.failure")


def _no_session(client: TestClient, answer: Any, slug: str) -> None:
    assert "stadtkern_session" not in answer.headers.get("set-cookie", "")
    assert client.get(f"/{slug}/console", follow_redirects=False).status_code == 303


def test_the_code_flow_opens_a_console_session(
    oidc_client: TestClient,
    provider: TestProvider,
    login_roles: Callable[..., None],
    make_tenant: Callable[..., TenantFixture],
) -> None:
    town = make_tenant(modules=["sensorthings", "web"])
    login = oidc_client.get(f"/{town.slug}/console/login?lang=en").text
    assert "Log in with Stadt-Login" in login
    login_roles(f"{town.slug}:operator", "elsewhere:admin")
    authorize = _start(oidc_client, town.slug, next=f"/{town.slug}/console/health")
    asked = parse_qs(urlsplit(authorize).query)
    assert asked["code_challenge_method"] == ["S256"]
    assert asked["redirect_uri"] == [f"http://testserver/{town.slug}/console/oidc/callback"]
    assert {"state", "nonce", "code_challenge"} <= set(asked)
    answer = oidc_client.get(_at_provider(authorize), follow_redirects=False)
    assert answer.status_code == 303, answer.text
    assert answer.headers["location"] == f"/{town.slug}/console/health"
    assert "stadtkern_session" in answer.headers["set-cookie"]
    assert "code_verifier" in provider.token_requests[-1]
    assert oidc_client.get(f"/{town.slug}/console/health").status_code == 200
    who = oidc_client.get(f"/{town.slug}/auth/whoami").json()
    assert who["roles"] == ["operator", "viewer"]
    assert "oidc:anna.schmidt" in who["actor"]
    assert oidc_client.get(f"/{town.slug}/console/admin").status_code == 403

    login_roles(f"{town.slug}:admin")
    assert _log_in(oidc_client, town.slug).status_code == 303
    assert oidc_client.get(f"/{town.slug}/console/admin/roles").status_code == 200
    log = oidc_client.get(f"/{town.slug}/admin/audit", headers=town.headers).json()
    assert sum(1 for entry in log if entry["action"] == "login.success") == 2
    oidc_client.cookies.clear()


@pytest.mark.parametrize(
    ("case", "reason"),
    [
        ("tampered state", "not started here"),
        ("wrong nonce", "wrong nonce"),
        ("wrong audience", "wrong audience"),
        ("expired token", "token expired"),
        ("unknown role", "no role in this town"),
        ("another town's role", "no role in this town"),
        ("other browser", "not started here"),
        ("provider refused", "access_denied"),
    ],
)
def test_a_refused_login_shows_why_and_opens_no_session(
    oidc_client: TestClient,
    login_roles: Callable[..., None],
    make_tenant: Callable[..., TenantFixture],
    case: str,
    reason: str,
) -> None:
    town = make_tenant(modules=["sensorthings", "web"])
    role = f"{town.slug}:viewer"
    now = int(time.time())
    roles = {
        "unknown role": [f"{town.slug}:mayor"],
        "another town's role": ["elsewhere:admin"],
    }.get(case, [role])
    tampered: dict[str, dict[str, Any]] = {
        "wrong nonce": {"nonce": "not-the-one"},
        "wrong audience": {"aud": "another-client"},
        "expired token": {"iat": now - 7200, "exp": now - 3600},
    }
    login_roles(*roles, **tampered.get(case, {}))
    callback = _at_provider(_start(oidc_client, town.slug))
    path, _, query = callback.partition("?")
    values = {k: v[0] for k, v in parse_qs(query).items()}
    if case == "tampered state":
        values["state"] = secrets.token_urlsafe(24)
    elif case == "other browser":
        oidc_client.cookies.clear()
    elif case == "provider refused":
        values = {"error": "access_denied", "state": values["state"]}
    before = _failures(oidc_client, town)
    answer = oidc_client.get(f"{path}?{urlencode(values)}", headers=ENGLISH)
    assert answer.status_code == 401, answer.text
    assert "The login through Stadt-Login was refused" in answer.text
    assert reason in answer.text
    assert 'role="alert"' in answer.text
    _no_session(oidc_client, answer, town.slug)
    assert _failures(oidc_client, town) == before + 1
    oidc_client.cookies.clear()


def test_a_callback_works_only_once(
    oidc_client: TestClient,
    login_roles: Callable[..., None],
    make_tenant: Callable[..., TenantFixture],
) -> None:
    town = make_tenant(modules=["sensorthings", "web"])
    login_roles(f"{town.slug}:viewer")
    callback = _at_provider(_start(oidc_client, town.slug))
    cookie = oidc_client.cookies.get("stadtkern_oidc")
    assert oidc_client.get(callback, follow_redirects=False).status_code == 303
    oidc_client.cookies.clear()
    oidc_client.cookies.set("stadtkern_oidc", cookie or "", path=f"/{town.slug}/console/oidc")
    replayed = oidc_client.get(callback, headers=ENGLISH, follow_redirects=False)
    assert replayed.status_code == 401  # the provider refuses a code twice
    assert "refused the login code" in replayed.text
    _no_session(oidc_client, replayed, town.slug)
    oidc_client.cookies.clear()


def test_failed_callbacks_are_throttled_like_failed_logins(
    database: Database,
    mosquitto_url: str,
    provider: TestProvider,
    make_tenant: Callable[..., TenantFixture],
) -> None:
    town = make_tenant(modules=["web"])
    with _app(database, mosquitto_url, provider.issuer, auth_failure_limit=2) as client:
        for _ in range(2):
            _start(client, town.slug)
            bad = client.get(f"/{town.slug}/console/oidc/callback?code=x&state=forged")
            assert bad.status_code == 401
        throttled = client.get(f"/{town.slug}/console/oidc/callback?code=x&state=forged")
        assert throttled.status_code == 429
        assert "retry-after" in throttled.headers


def test_an_unreachable_provider_is_said_so(
    database: Database, mosquitto_url: str, make_tenant: Callable[..., TenantFixture]
) -> None:
    town = make_tenant(modules=["web"])
    with _app(database, mosquitto_url, f"http://127.0.0.1:{free_port()}") as client:
        answer = client.get(f"/{town.slug}/console/oidc/start", headers=ENGLISH)
        assert answer.status_code == 503
        assert "cannot be reached right now" in answer.text


def test_without_a_client_there_is_no_button(
    client: TestClient, make_tenant: Callable[..., TenantFixture]
) -> None:
    town = make_tenant(modules=["web"])
    assert "/console/oidc/start" not in client.get(f"/{town.slug}/console/login").text
    assert client.get(f"/{town.slug}/console/oidc/start").status_code == 404


# --- in the browser ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def oidc_site(provider: TestProvider, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A platform on a port (SQLite, embedded broker) with one town and the provider's login."""
    port = free_port()
    with migrated_database("sqlite", tmp_path_factory.mktemp("oidc")) as database:
        slug = unique_slug("oidc")
        with database.write() as session:
            tenants.create_tenant(
                session=session,
                tenant_create=TenantCreate(
                    slug=slug, name="Oidcstadt", ars="073120000000", modules=["web"]
                ),
                installed=discover_modules(None),
                actor="test",
            )
        settings: Settings = make_settings(
            database.url.render_as_string(hide_password=False),
            "embedded",
            port=port,
            oidc=_oidc(provider.issuer),
        )
        settings.mqtt.embedded_bind = f"127.0.0.1:{free_port()}"
        with serving(settings) as base:
            yield f"{base}/{slug}"


def test_a_person_logs_in_with_the_button(
    oidc_site: str, browser: Any, login_roles: Callable[..., None]
) -> None:
    slug = urlsplit(oidc_site).path.strip("/")
    login_roles(f"{slug}:admin")
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{oidc_site}/console/health?lang=en")
    assert "/console/login" in page.url
    page.get_by_role("link", name="Log in with Stadt-Login").click()
    page.wait_for_url("**/console/health")
    assert page.get_by_role("button", name="Log out").count() == 1
    page.get_by_role("link", name="Administration").click()
    page.wait_for_url("**/console/admin")
    assert "oidc:anna.schmidt" in page.locator("table.people").inner_text()
    context.close()


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
@pytest.mark.parametrize("language", ["de", "en"])
def test_the_login_page_with_the_button_is_accessible(
    oidc_site: str, browser: Any, language: str, viewport: str
) -> None:
    url = f"{oidc_site}/console/login?lang={language}"
    result = visit(browser, url, f"console-login-oidc-{language}", viewport)
    assert not result.problems(), "\n".join(result.problems())

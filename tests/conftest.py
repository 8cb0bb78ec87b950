"""Shared fixtures: both storage backends, a real Mosquitto, tenants and keys.

Real services are started by the fixtures themselves. When CI=true a leg that cannot run
(PostgreSQL/PostGIS or Mosquitto missing) fails instead of being skipped.
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import make_url

from stadtkern.app import create_app
from stadtkern.core import accounts, tenants
from stadtkern.core.schemas import TenantCreate
from stadtkern.db import Database, migrations
from stadtkern.modules import discover_modules
from stadtkern.settings import MqttSettings, Settings

PG_ADMIN_URL = os.environ.get(
    "STADTKERN_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
IN_CI = os.environ.get("CI", "").lower() == "true"
BACKENDS = ("sqlite", "postgresql")
# The pepper of the default (dev-mode) secret key, which every test platform uses.
TEST_PEPPER = Settings(dev_mode=True).token_pepper


def unavailable(reason: str) -> None:
    """Skip a test whose real service is missing; in CI, fail it."""
    if IN_CI:
        pytest.fail(f"CI=true and a real-service leg cannot run: {reason}")
    pytest.skip(reason)


def free_port() -> int:
    """A TCP port on loopback that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _pg_conninfo(url: str) -> str:
    parsed = make_url(url)
    return parsed.set(drivername="postgresql").render_as_string(hide_password=False)


def create_pg_database() -> str:
    """Create an empty PostgreSQL database with PostGIS available; return its URL."""
    name = f"stadtkern_test_{secrets.token_hex(6)}"
    try:
        with psycopg.connect(
            _pg_conninfo(PG_ADMIN_URL), autocommit=True, connect_timeout=3
        ) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError as exc:
        unavailable(f"PostgreSQL not reachable at {PG_ADMIN_URL}: {exc}")
    url = make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    try:
        with psycopg.connect(_pg_conninfo(url), autocommit=True) as conn:
            conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    except psycopg.Error as exc:
        drop_pg_database(url)
        unavailable(f"PostGIS is not installed for PostgreSQL: {exc}")
    return url


def drop_pg_database(url: str) -> None:
    """Drop a database made by create_pg_database."""
    name = make_url(url).database
    with psycopg.connect(_pg_conninfo(PG_ADMIN_URL), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def make_database(tmp_path: Path) -> Iterator[Callable[[str], Database]]:
    """Factory of fresh, empty (unmigrated) databases on a backend; dropped after the test."""
    made: list[tuple[Database, str | None]] = []

    def make(backend: str) -> Database:
        if backend == "sqlite":
            url = f"sqlite:///{tmp_path / f'db{len(made)}.sqlite'}"
            database = Database(url)
            made.append((database, None))
        else:
            url = create_pg_database()
            database = Database(url)
            made.append((database, url))
        return database

    yield make
    for database, pg_url in made:
        database.dispose()
        if pg_url:
            drop_pg_database(pg_url)


@contextmanager
def migrated_database(backend: str, directory: Path) -> Iterator[Database]:
    """A fresh, migrated database on a backend (SQLite inside `directory`); dropped after."""
    pg_url = None
    if backend == "sqlite":
        url = f"sqlite:///{directory / 'stadtkern.sqlite'}"
    else:
        pg_url = url = create_pg_database()
    database = Database(url)
    try:
        migrations.upgrade(database)
        yield database
    finally:
        database.dispose()
        if pg_url:
            drop_pg_database(pg_url)


@pytest.fixture(scope="session", params=BACKENDS)
def database(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Database]:
    """A migrated database per backend, shared by a test session; tests isolate by tenant."""
    with migrated_database(request.param, tmp_path_factory.mktemp("db")) as shared:
        yield shared


def unique_slug(prefix: str = "t") -> str:
    """A tenant slug no other test uses."""
    return f"{prefix}-{secrets.token_hex(4)}"


@pytest.fixture(scope="session")
def mosquitto_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A Mosquitto broker of our own on a free port, with its own configuration."""
    binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    if not Path(binary).exists():
        unavailable("mosquitto is not installed")
    port = free_port()
    directory = tmp_path_factory.mktemp("mosquitto")
    config = directory / "mosquitto.conf"
    config.write_text(
        f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n"
        f"log_dest file {directory / 'mosquitto.log'}\nmax_inflight_messages 100\n"
    )
    process = subprocess.Popen([binary, "-c", str(config)])
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                break
        time.sleep(0.05)
    else:
        process.kill()
        unavailable("mosquitto did not start")
    yield f"mqtt://127.0.0.1:{port}"
    process.terminate()
    process.wait(timeout=10)


# --- the application ----------------------------------------------------------------------


@dataclass(frozen=True)
class TenantFixture:
    """A tenant made for one test, with an admin's bearer header."""

    slug: str
    admin_token: str

    @property
    def headers(self) -> dict[str, str]:
        """Authorization header of the tenant's admin."""
        return {"Authorization": f"Bearer {self.admin_token}"}


@contextmanager
def serving(settings: Settings) -> Iterator[str]:
    """The platform on `settings.port` (uvicorn in a thread) until the block ends; its URL."""
    import threading

    import uvicorn

    from stadtkern.demo.client import wait_until_up

    server = uvicorn.Server(
        uvicorn.Config(create_app(settings), host="127.0.0.1", port=settings.port, log_config=None)
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{settings.port}"
    try:
        wait_until_up(base, timeout=30)
        yield base
    finally:
        server.should_exit = True
        thread.join(timeout=15)


def make_settings(database_url: str, broker_url: str, **overrides: object) -> Settings:
    """Settings for a test platform: dev mode, the given database and broker."""
    values: dict[str, object] = {
        "dev_mode": True,
        "database_url": database_url,
        "session_cookie_secure": False,
        "shutdown_grace_seconds": 2.0,
        "mqtt": MqttSettings(url=broker_url, client_id=f"test-{secrets.token_hex(4)}"),
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def client(database: Database, mosquitto_url: str) -> Iterator[TestClient]:
    """A running platform per backend (shared by the session; tests isolate by tenant)."""
    # Many tests present wrong credentials on purpose; throttling has tests of its own, so
    # the shared platform must not lock the test client out part-way through the session.
    settings = make_settings(
        database.url.render_as_string(hide_password=False),
        mosquitto_url,
        auth_failure_limit=100_000,
    )
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def issue_token(database: Database, *, tenant: str | None, roles: list[str]) -> str:
    """A key for a new machine account with these roles (platform admin when tenant is None)."""
    with database.write() as session:
        issued = accounts.create_machine_account(
            session=session,
            tenant_slug=tenant,
            name=f"test-{secrets.token_hex(4)}",
            roles=roles,
            installed=discover_modules(None),
            expires_at=None,
            actor="test",
            pepper=TEST_PEPPER,
        )
    return issued.token


@pytest.fixture(scope="session")
def platform_admin(database: Database) -> dict[str, str]:
    """Authorization header of a platform administrator."""
    return {
        "Authorization": f"Bearer {issue_token(database, tenant=None, roles=['platform_admin'])}"
    }


@pytest.fixture
def make_tenant(database: Database) -> Callable[..., TenantFixture]:
    """Factory of tenants with an admin key; every call makes a new, unique tenant."""

    def make(modules: list[str] | None = None) -> TenantFixture:
        slug = unique_slug()
        with database.write() as session:
            tenants.create_tenant(
                session=session,
                tenant_create=TenantCreate(
                    slug=slug, name=f"Stadt {slug}", ars="073120000000", modules=modules or []
                ),
                installed=discover_modules(None),
                actor="test",
            )
        return TenantFixture(
            slug=slug, admin_token=issue_token(database, tenant=slug, roles=["admin"])
        )

    return make

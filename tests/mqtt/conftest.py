"""Fixtures of the MQTT tests: both broker kinds, started now or later on a chosen port."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager, contextmanager
from pathlib import Path

import pytest

from stadtkern.db import Database, migrations
from stadtkern.mqtt import EmbeddedBroker
from tests.conftest import (
    BACKENDS,
    create_pg_database,
    drop_pg_database,
    free_port,
    unavailable,
)

BROKERS = ("embedded", "mosquitto")

StartBroker = Callable[[int], AbstractAsyncContextManager[str]]


@pytest.fixture
def anyio_backend() -> str:
    """The service bridges paho's thread with loop.call_soon_threadsafe: asyncio only."""
    return "asyncio"


@contextmanager
def running_mosquitto(port: int, directory: Path) -> Iterator[str]:
    """A Mosquitto of our own on `port`, stopped on exit."""
    binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    if not Path(binary).exists():
        unavailable("mosquitto is not installed")
    directory.mkdir(parents=True, exist_ok=True)
    config = directory / "mosquitto.conf"
    config.write_text(
        f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n"
        f"log_dest file {directory / 'mosquitto.log'}\n"
    )
    process = subprocess.Popen([binary, "-c", str(config)])
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.02)
        else:
            unavailable("mosquitto did not start")
        yield f"mqtt://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)


@asynccontextmanager
async def running_broker(kind: str, port: int, directory: Path) -> AsyncIterator[str]:
    """A broker of the given kind on `port`; yields its URL."""
    if kind == "embedded":
        broker = EmbeddedBroker(f"127.0.0.1:{port}")
        await broker.start()
        try:
            yield broker.url
        finally:
            await broker.stop()
    else:
        with running_mosquitto(port, directory / f"mosquitto-{port}") as url:
            yield url


@pytest.fixture(params=BROKERS)
def broker_kind(request: pytest.FixtureRequest) -> str:
    """Which broker a test runs against: the embedded amqtt or a real Mosquitto."""
    return str(request.param)


@pytest.fixture
async def broker_url(
    broker_kind: str, request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[str]:
    """A running broker of `broker_kind` (the session's Mosquitto, or a fresh embedded one)."""
    if broker_kind == "mosquitto":
        yield str(request.getfixturevalue("mosquitto_url"))
        return
    async with running_broker("embedded", free_port(), tmp_path) as url:
        yield url


@pytest.fixture
def start_broker(broker_kind: str, tmp_path: Path) -> StartBroker:
    """Start a broker of `broker_kind` later, on a port chosen by the test."""

    def start(port: int) -> AbstractAsyncContextManager[str]:
        return running_broker(broker_kind, port, tmp_path)

    return start


@pytest.fixture(scope="module", params=BACKENDS)
def outbox_database(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Database]:
    """A migrated database of our own per backend.

    The outbox is one table for the whole installation and every running MqttService delivers
    all of its rows; the session's shared database also serves the platform of the API tests,
    whose service would deliver (and delete) our rows to its own broker.
    """
    pg_url = None
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('outbox') / 'stadtkern.sqlite'}"
    else:
        pg_url = url = create_pg_database()
    database = Database(url)
    migrations.upgrade(database)
    yield database
    database.dispose()
    if pg_url:
        drop_pg_database(pg_url)


@pytest.fixture(params=BACKENDS)
def fresh_database(
    request: pytest.FixtureRequest, make_database: Callable[[str], Database]
) -> Database:
    """A migrated database of this test alone, per backend: no other service touches its rows."""
    database = make_database(str(request.param))
    migrations.upgrade(database)
    return database


@pytest.fixture(scope="session")
def sqlite_database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    """A migrated SQLite database for tests whose subject is not the storage."""
    path = tmp_path_factory.mktemp("mqtt-db") / "stadtkern.sqlite"
    database = Database(f"sqlite:///{path}")
    migrations.upgrade(database)
    yield database
    database.dispose()

"""Nothing lost, nothing played twice: the platform killed (SIGKILL) right after an approval,
and the broker killed in mid-delivery, on both storage backends.

The platform runs as `stadtkern serve` in a process of its own, on a fresh database, with the
embedded broker (which dies with it) or with a Mosquitto of the test's own. Lanterns run the
reference firmware in the test process. Resends happen every second here (the default is 10).
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from stadtkern.core import tenants
from stadtkern.core.schemas import TenantCreate
from stadtkern.db import Database
from stadtkern.devices.lantern.protocol import public_key_text
from stadtkern.devices.lantern.simulation import simulated_fleet
from stadtkern.modules import discover_modules
from tests.conftest import BACKENDS, free_port, issue_token, migrated_database, unavailable
from tests.mqtt.test_mosquitto_auth import wait_listening
from tests.warning.conftest import Staff
from tests.warning.fleet import running_fleet, wait_for
from tests.warning.helpers import CENTRE, alert_body, device_key

STADTKERN = Path(sys.executable).parent / "stadtkern"
LANTERNS = 40
WAIT = 60.0


def _call(base: str, method: str, path: str, token: str, body: Any = None) -> Any:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(  # noqa: S310 - loopback only
        f"{base}{path}",
        data=data,
        method=method,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310
            return json.loads(answer.read())
    except urllib.error.HTTPError as error:
        raise AssertionError(f"{method} {path}: {error.code} {error.read()!r}") from error


def _town(database: Database) -> Staff:
    slug = f"r-{secrets.token_hex(4)}"
    with database.write() as session:
        tenants.create_tenant(
            session=session,
            tenant_create=TenantCreate(
                slug=slug,
                name=f"Stadt {slug}",
                ars="073120000000",
                modules=["sensorthings", "warning"],
            ),
            installed=discover_modules(None),
            actor="test",
        )

    def key(*roles: str) -> str:
        return issue_token(database, tenant=slug, roles=list(roles))

    return Staff(
        slug=slug,
        admin=key("admin"),
        operator=key("operator"),
        viewer=key("viewer"),
        issuer=key("operator", "warning_issuer"),
        issuer2=key("operator", "warning_issuer"),
        approver=key("viewer", "warning_approver"),
    )


@contextmanager
def _mosquitto(tmp_path: Path, port: int) -> Iterator[subprocess.Popen[bytes]]:
    binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    if not Path(binary).exists():
        unavailable("mosquitto is not installed")
    config = tmp_path / "mosquitto.conf"
    config.write_text(
        f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence true\n"
        f"persistence_location {tmp_path}/\nautosave_interval 1\nmax_inflight_messages 100\n"
        f"max_queued_messages 100000\nlog_dest file {tmp_path / 'mosquitto.log'}\n"
    )
    process = subprocess.Popen([binary, "-c", str(config)])
    try:
        wait_listening(port, process)
        yield process
    finally:
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=10)


class Server:
    """`stadtkern serve` that can be killed and started again on the same database."""

    def __init__(self, database_url: str, broker: str, tmp_path: Path) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "STADTKERN_DEV_MODE": "true",
            "STADTKERN_DATABASE_URL": database_url,
            "STADTKERN_MQTT__CLIENT_ID": f"restart-{self.port}",
            "STADTKERN_MODULE_SETTINGS": json.dumps({"warning": {"retry_seconds": 1.0}}),
        }
        if broker.startswith("embedded:"):
            self.env["STADTKERN_MQTT__URL"] = "embedded"
            self.env["STADTKERN_MQTT__EMBEDDED_BIND"] = broker.removeprefix("embedded:")
        else:
            self.env["STADTKERN_MQTT__URL"] = broker
        self.log = tmp_path / "serve.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("a") as log:
            self.process = subprocess.Popen(
                [str(STADTKERN), "serve", "--port", str(self.port)],
                env=self.env,
                stdout=log,
                stderr=log,
            )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{self.base}/readyz", timeout=2) as answer:  # noqa: S310
                    if answer.status == 200:
                        return
            except (OSError, urllib.error.HTTPError):
                time.sleep(0.1)
        pytest.fail(f"stadtkern serve did not become ready: {self.log.read_text()[-3000:]}")

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)


def _register(server: Server, town: Staff) -> list[str]:
    codes = [f"K{index:03d}" for index in range(LANTERNS)]
    for index, code in enumerate(codes):
        _call(
            server.base,
            "POST",
            f"/{town.slug}/warning/lanterns",
            town.admin,
            {
                "code": code,
                "name": f"Laterne {code}",
                "lon": CENTRE[0] + 0.0005 * index,
                "lat": CENTRE[1],
                "publicKey": public_key_text(device_key(town.slug, code).public_key()),
            },
        )
    return codes


def _fleet(server: Server, town: Staff, codes: list[str]) -> Any:
    keys = _call(server.base, "GET", f"/{town.slug}/warning/keys", town.viewer)
    live = {k["kid"]: k["publicKey"] for k in keys if k["channel"] == "live"}
    exercise = {k["kid"]: k["publicKey"] for k in keys if k["channel"] == "exercise"}
    return simulated_fleet(
        town.slug, codes, live=live, exercise=exercise, time_scale=600.0, ack_spread_s=0.2
    )


def _finished(server: Server, town: Staff, identifier: str) -> bool:
    try:
        alert = _call(server.base, "GET", f"/{town.slug}/warning/alerts/{identifier}", town.viewer)
    except (OSError, AssertionError):
        return False  # the platform is restarting
    return bool(alert["coverage"] and alert["coverage"]["finished"] == LANTERNS)


def _approved_alert(server: Server, town: Staff) -> str:
    created = _call(server.base, "POST", f"/{town.slug}/warning/alerts", town.issuer, alert_body())
    identifier: str = created["identifier"]
    _call(server.base, "POST", f"/{town.slug}/warning/alerts/{identifier}/approve", town.approver)
    return identifier


@pytest.mark.parametrize("broker", ["embedded", "mosquitto"])
@pytest.mark.parametrize("backend", BACKENDS)
def test_platform_killed_after_approval(backend: str, broker: str, tmp_path: Path) -> None:
    with migrated_database(backend, tmp_path) as database, _broker(broker, tmp_path) as url:
        town = _town(database)
        server = Server(database.url.render_as_string(hide_password=False), url, tmp_path)
        server.start()
        try:
            codes = _register(server, town)
            lanterns = _fleet(server, town, codes)
            broker_url = f"mqtt://{url.removeprefix('embedded:')}" if broker == "embedded" else url
            with running_fleet(broker_url, town, lanterns, client_id=f"fleet-{town.slug}") as fleet:
                identifier = _approved_alert(server, town)
                server.kill()  # committed, perhaps partly sent, perhaps partly acknowledged
                server.start()
                wait_for(lambda: _finished(server, town, identifier), "every lantern", WAIT)
                played = sorted(e.code for e in fleet.executions if e.alert == identifier)
            assert played == codes  # every lantern, each exactly once
        finally:
            server.stop()


@pytest.mark.parametrize("backend", BACKENDS)
def test_broker_killed_in_mid_delivery(backend: str, tmp_path: Path) -> None:
    port = free_port()
    url = f"mqtt://127.0.0.1:{port}"
    with migrated_database(backend, tmp_path) as database:
        town = _town(database)
        server = Server(database.url.render_as_string(hide_password=False), url, tmp_path)
        with _mosquitto(tmp_path, port) as mosquitto:
            server.start()
            try:
                codes = _register(server, town)
                lanterns = _fleet(server, town, codes)
                with running_fleet(url, town, lanterns, client_id=f"fleet-{town.slug}") as fleet:
                    identifier = _approved_alert(server, town)
                    mosquitto.send_signal(signal.SIGKILL)
                    mosquitto.wait(timeout=10)
                    with _mosquitto(tmp_path, port):
                        wait_for(lambda: _finished(server, town, identifier), "every lantern", WAIT)
                        played = sorted(e.code for e in fleet.executions if e.alert == identifier)
                assert played == codes
            finally:
                server.stop()


@contextmanager
def _broker(kind: str, tmp_path: Path) -> Iterator[str]:
    port = free_port()
    if kind == "embedded":
        yield f"embedded:127.0.0.1:{port}"
        return
    with _mosquitto(tmp_path, port):
        yield f"mqtt://127.0.0.1:{port}"

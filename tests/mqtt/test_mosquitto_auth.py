"""A real Mosquitto with the files of `stadtkern mqtt mosquitto-auth`: keys on the wire."""

from __future__ import annotations

import getpass
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from stadtkern.cli import app
from stadtkern.core import keys
from stadtkern.core.models import ApiKey
from stadtkern.db import Database
from stadtkern.db.base import utcnow
from tests.conftest import TenantFixture, free_port, issue_token, unavailable
from tests.mqtt.peers import (
    Peer,
    Town,
    check_anonymous,
    check_refusals,
    check_tenant_confinement,
    check_viewer_reads_only,
    connected,
)

SERVICE_USER, SERVICE_PASSWORD = "platform", "service-secret"


@dataclass
class Mosquitto:
    """A Mosquitto started with the generated files."""

    url: str
    process: subprocess.Popen[bytes]
    export: Callable[[], None]
    open_town: Town
    closed_town: Town
    platform_token: str
    directory: Path


def mosquitto_config(port: int, directory: Path) -> str:
    """The configuration docs/mqtt-access.md ships, on a port of the test's own."""
    # Run as the test's own user: as root, Mosquitto would switch to `mosquitto`, which
    # cannot read the test's private directory.
    return (
        f"user {getpass.getuser()}\n"
        f"listener {port} 127.0.0.1\npersistence false\nallow_anonymous true\n"
        f"password_file {directory / 'passwords'}\nacl_file {directory / 'acl'}\n"
        f"log_dest topic\nlog_dest file {directory / 'mosquitto.log'}\n"
        "log_type error\nlog_type warning\nlog_type notice\n"
        "log_type subscribe\nlog_type unsubscribe\n"
    )


def wait_listening(port: int, process: subprocess.Popen[bytes]) -> None:
    """Return once Mosquitto accepts connections; skip (fail in CI) when it does not start."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and process.poll() is None:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.02)
    unavailable("mosquitto did not start")


@pytest.fixture
def mosquitto(
    database: Database, make_tenant: Callable[..., TenantFixture], tmp_path: Path
) -> Iterator[Mosquitto]:
    """Mosquitto with password and ACL files for two towns; the first one is open data."""
    binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    if not Path(binary).exists():
        unavailable("mosquitto is not installed")
    towns = []
    for _ in range(2):
        slug = make_tenant().slug
        operator = issue_token(database, tenant=slug, roles=["operator"])
        viewer = issue_token(database, tenant=slug, roles=["viewer"])
        towns.append(Town(slug=slug, operator=operator, viewer=viewer))
    port = free_port()
    env = {
        "STADTKERN_DATABASE_URL": database.url.render_as_string(hide_password=False),
        "STADTKERN_DEV_MODE": "true",
        "STADTKERN_MQTT__URL": f"mqtt://{SERVICE_USER}:{SERVICE_PASSWORD}@127.0.0.1:{port}",
    }

    def export() -> None:
        result = CliRunner().invoke(
            app,
            [
                "mqtt",
                "mosquitto-auth",
                f"--password-file={tmp_path / 'passwords'}",
                f"--acl-file={tmp_path / 'acl'}",
                f"--anonymous-read={towns[0].slug}",
            ],
            env=env,
        )
        assert result.exit_code == 0, result.output

    export()
    (tmp_path / "mosquitto.conf").write_text(mosquitto_config(port, tmp_path))
    process = subprocess.Popen([binary, "-c", str(tmp_path / "mosquitto.conf")])
    try:
        wait_listening(port, process)
        yield Mosquitto(
            url=f"mqtt://127.0.0.1:{port}",
            process=process,
            export=export,
            open_town=towns[0],
            closed_town=towns[1],
            platform_token=issue_token(database, tenant=None, roles=["platform_admin"]),
            directory=tmp_path,
        )
    finally:
        process.terminate()
        process.wait(timeout=10)


def _key_id(token: str) -> str:
    parts = keys.split_token(token)
    assert parts is not None
    return parts[0]


def test_the_files_name_keys_by_id_with_their_grants(mosquitto: Mosquitto) -> None:
    passwords = (mosquitto.directory / "passwords").read_text()
    acl = (mosquitto.directory / "acl").read_text()
    operator, viewer = mosquitto.closed_town.operator, mosquitto.closed_town.viewer
    assert f"\n{_key_id(operator)}:$7$101$" in passwords
    assert f"\n{SERVICE_USER}:$7$101$" in passwords
    assert _key_id(mosquitto.platform_token) not in passwords
    slug = mosquitto.closed_town.slug
    assert f"user {_key_id(operator)}\ntopic readwrite {slug}/#\n" in acl
    assert f"user {_key_id(viewer)}\ntopic read {slug}/#\n" in acl
    anonymous = acl.split("\nuser ", 1)[0]
    assert f"topic read {mosquitto.open_town.slug}/v1.1/#" in anonymous
    assert slug not in anonymous
    assert oct(os.stat(mosquitto.directory / "passwords").st_mode & 0o777) == "0o640"


def test_keys_are_confined_to_their_tenant(mosquitto: Mosquitto) -> None:
    url = mosquitto.url
    with connected(url, SERVICE_PASSWORD, SERVICE_USER) as service:
        assert service.subscribe("#") == 1
        open_town, closed_town = mosquitto.open_town, mosquitto.closed_town
        check_tenant_confinement(
            url, service, open_town, closed_town, username=_key_id, refuses=False
        )
        check_viewer_reads_only(url, service, closed_town, username=_key_id)
        check_anonymous(url, service, open_town, closed_town, refuses=False)
    check_refusals(url, open_town, mosquitto.platform_token)


def test_a_revoked_key_is_refused_after_export_and_sighup(
    mosquitto: Mosquitto, database: Database
) -> None:
    token = mosquitto.closed_town.viewer
    with connected(mosquitto.url, token, _key_id(token)):
        pass
    with database.write() as session:
        key = session.scalar(select(ApiKey).where(ApiKey.key_id == _key_id(token)))
        assert key is not None
        key.revoked_at = utcnow()
    mosquitto.export()
    mosquitto.process.send_signal(signal.SIGHUP)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        peer = Peer(mosquitto.url, token, username=_key_id(token))
        try:
            if peer.connect() != 0:
                return
        finally:
            peer.close()
        time.sleep(0.1)
    pytest.fail("Mosquitto still accepts the revoked key after SIGHUP")

"""A Mosquitto of the benchmark's own, with the password and ACL files the platform writes."""

from __future__ import annotations

import getpass
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from bench.common import free_port, wait_port
from bench.platform_ import Server

SERVICE_USER, SERVICE_PASSWORD = "platform", "bench-service-secret"


@dataclass(frozen=True)
class Broker:
    """A running Mosquitto: its port and process."""

    port: int
    process: subprocess.Popen[bytes]


def binary() -> str | None:
    """Path of the mosquitto binary, None when it is not installed."""
    found = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    return found if Path(found).exists() else None


def service_url(port: int) -> str:
    """The platform's MQTT URL with the service login that the password file holds."""
    return f"mqtt://{SERVICE_USER}:{SERVICE_PASSWORD}@127.0.0.1:{port}"


def config(port: int, directory: Path) -> str:
    """docs/mqtt-access.md's configuration plus queue limits for a platform under load.

    Mosquitto's default max_queued_messages (1000 per client) would drop QoS 1 messages for
    the platform's session whenever publishers outrun it; with 20 messages in flight the
    platform could never batch more than 20 rows at once.
    """
    return (
        f"user {getpass.getuser()}\n"
        f"listener {port} 127.0.0.1\npersistence false\nallow_anonymous false\n"
        f"password_file {directory / 'passwords'}\nacl_file {directory / 'acl'}\n"
        f"log_dest file {directory / 'mosquitto.log'}\n"
        "log_type error\nlog_type warning\n"
        "max_inflight_messages 1000\nmax_queued_messages 10000000\nmax_queued_bytes 0\n"
    )


@contextmanager
def started(server: Server, port: int) -> Iterator[Broker]:
    """Export the auth files for the live keys, start Mosquitto, stop it afterwards."""
    path = binary()
    if path is None:
        raise RuntimeError("mosquitto is not installed")
    directory = server.directory
    server.cli(
        "mqtt",
        "mosquitto-auth",
        f"--password-file={directory / 'passwords'}",
        f"--acl-file={directory / 'acl'}",
    )
    (directory / "mosquitto.conf").write_text(config(port, directory))
    with (directory / "mosquitto.out").open("ab") as output:
        process = subprocess.Popen(  # noqa: S603 - the broker binary and its config
            [path, "-c", str(directory / "mosquitto.conf")], stdout=output, stderr=output
        )
    try:
        wait_port(port, 15, alive=lambda: process.poll() is None)
        yield Broker(port, process)
    finally:
        process.terminate()
        process.wait(timeout=15)


def new_port() -> int:
    """A free port for the broker."""
    return free_port()

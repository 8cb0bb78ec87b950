"""A Mosquitto as production runs it: TLS only, no anonymous clients, passwords and an ACL."""

from __future__ import annotations

import getpass
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.conftest import free_port, unavailable
from tests.mqtt.pki import Pki, make_pki

PLATFORM_USER, PLATFORM_PASSWORD = "platform", "platform-secret"
OBSERVER_USER, OBSERVER_PASSWORD = "observer", "observer-secret"

# The platform publishes below `example/` of any tenant and `_platform/`, and subscribes the
# `v1.1/#` handler pattern of every tenant; anything else is refused. The observer plays the
# devices and the other subscribers.
ACL = f"""\
user {PLATFORM_USER}
topic readwrite _platform/#
topic write +/example/#
topic read +/v1.1/#

user {OBSERVER_USER}
topic readwrite #
"""


@dataclass(frozen=True)
class SecureBroker:
    """Ports and certificates of a secured Mosquitto."""

    password_port: int  # TLS with user name and password
    certificate_port: int  # TLS with a required client certificate, whose CN is the user
    pki: Pki
    log: Path

    def platform_url(self, password: str = PLATFORM_PASSWORD) -> str:
        """The platform's URL on the password listener."""
        return f"mqtts://{PLATFORM_USER}:{password}@127.0.0.1:{self.password_port}"

    @property
    def observer_url(self) -> str:
        """The observer's URL on the password listener."""
        return f"mqtts://{OBSERVER_USER}:{OBSERVER_PASSWORD}@127.0.0.1:{self.password_port}"


def _binary(name: str, fallback: str) -> str:
    binary = shutil.which(name) or fallback
    if not Path(binary).exists():
        unavailable(f"{name} is not installed")
    return binary


def _write_passwords(binary: str, path: Path) -> None:
    # mosquitto_passwd writes Mosquitto's own PBKDF2-SHA512 format ($7$).
    for number, (user, password) in enumerate(
        [(PLATFORM_USER, PLATFORM_PASSWORD), (OBSERVER_USER, OBSERVER_PASSWORD)]
    ):
        create = ["-c"] if number == 0 else []
        subprocess.run([binary, *create, "-b", str(path), user, password], check=True)
    path.chmod(0o600)


def _config(directory: Path, pki: Pki, password_port: int, certificate_port: int) -> str:
    server = f"certfile {pki.server.cert}\nkeyfile {pki.server.key}\n"
    # Started as root, Mosquitto drops to the user `mosquitto` before it reads the password
    # file, which then cannot enter pytest's private temporary directory: run as ourselves.
    return (
        f"user {getpass.getuser()}\n"
        "per_listener_settings false\n"
        "allow_anonymous false\n"
        f"password_file {directory / 'passwd'}\n"
        f"acl_file {directory / 'acl'}\n"
        "persistence false\n"
        f"log_dest file {directory / 'mosquitto.log'}\n"
        "log_type all\n"
        f"listener {password_port} 127.0.0.1\n"
        f"{server}"
        f"listener {certificate_port} 127.0.0.1\n"
        f"{server}"
        f"cafile {pki.ca}\n"
        "require_certificate true\n"
        "use_identity_as_username true\n"
    )


def _wait_for_listeners(process: subprocess.Popen[bytes], *ports: int) -> None:
    deadline = time.monotonic() + 10
    for port in ports:
        while True:
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    break
            if process.poll() is not None or time.monotonic() > deadline:
                unavailable("the secured mosquitto did not start")
            time.sleep(0.02)


@contextmanager
def running_secure_mosquitto(directory: Path) -> Iterator[SecureBroker]:
    """Start a secured Mosquitto with certificates made for it; stop it on exit."""
    binary = _binary("mosquitto", "/usr/sbin/mosquitto")
    passwd = _binary("mosquitto_passwd", "/usr/bin/mosquitto_passwd")
    pki = make_pki(directory / "pki", client_name=PLATFORM_USER)
    _write_passwords(passwd, directory / "passwd")
    (directory / "acl").write_text(ACL)
    password_port = certificate_port = free_port()
    while certificate_port == password_port:
        certificate_port = free_port()
    config = directory / "mosquitto.conf"
    config.write_text(_config(directory, pki, password_port, certificate_port))
    process = subprocess.Popen([binary, "-c", str(config)])
    try:
        _wait_for_listeners(process, password_port, certificate_port)
        yield SecureBroker(password_port, certificate_port, pki, directory / "mosquitto.log")
    finally:
        process.terminate()
        process.wait(timeout=10)

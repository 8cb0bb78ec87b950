"""A real `stadtkern serve` process on its own database and port, set up through its CLI."""

from __future__ import annotations

import http.client
import json
import os
import re
import secrets
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.backends import BenchDatabase
from bench.common import VENV_BIN, free_port, wait_port

MEASUREMENT = "http://www.opengis.net/def/observationType/OGC-OM/2.0/OM_Measurement"
SLUG = "benchstadt"


@dataclass
class Server:
    """The platform's environment, and once started its process and port."""

    database: BenchDatabase
    directory: Path
    mqtt_url: str = ""
    extra_env: dict[str, str] = field(default_factory=dict)
    port: int = 0
    process: subprocess.Popen[bytes] | None = None
    rss_peak_kib: int = 0
    _sampler: threading.Thread | None = None
    _sampling: bool = False

    @property
    def env(self) -> dict[str, str]:
        """Environment of every `stadtkern` command of the run."""
        env = dict(os.environ)
        env.update(
            {
                "STADTKERN_DATABASE_URL": self.database.url,
                "STADTKERN_SECRET_KEY": "bench-" + "k" * 40,
                "STADTKERN_DEV_MODE": "false",
                "STADTKERN_LOG_LEVEL": "WARNING",
                "STADTKERN_MQTT__URL": self.mqtt_url or "embedded",
                "STADTKERN_MQTT__EMBEDDED_BIND": f"127.0.0.1:{free_port()}",
                "STADTKERN_MQTT__CLIENT_ID": f"bench-{secrets.token_hex(4)}",
            }
        )
        env.update(self.extra_env)
        return env

    def cli(self, *args: str) -> str:
        """Run a `stadtkern` command in this process (the CLI's own code, without the
        interpreter start of a subprocess per command); its output."""
        from typer.testing import CliRunner

        from stadtkern.cli import app

        env = {name: value for name, value in self.env.items() if name.startswith("STADTKERN_")}
        done = CliRunner().invoke(app, list(args), env=env | {"COLUMNS": "200"})
        if done.exit_code != 0:
            raise RuntimeError(f"stadtkern {' '.join(args)} failed: {done.output}")
        return done.output

    def prepare(self) -> str:
        """Migrate, create the tenant with SensorThings and an operator key; the key."""
        self.cli("db", "upgrade")
        listed = self.cli("tenant", "list")
        if SLUG not in listed:
            self.cli(
                "tenant", "create", SLUG, "--name", "Benchstadt", "--ars", "073120000000",
                "--modules", "sensorthings",
            )  # fmt: skip
        output = self.cli("key", "create", "--tenant", SLUG, "--role", "operator", "--name",
                          f"bench-{secrets.token_hex(3)}")  # fmt: skip
        found = re.search(r"sk_[A-Za-z0-9_\-]+", output)
        if found is None:
            raise RuntimeError(f"no key in the output of key create: {output}")
        return found.group(0)

    def start(self) -> None:
        """Start `stadtkern serve` on a free port and wait until it answers /healthz."""
        self.port = free_port()
        with (self.directory / "server.log").open("ab") as log:
            self.process = subprocess.Popen(  # noqa: S603 - our own CLI
                [str(VENV_BIN / "stadtkern"), "serve", "--port", str(self.port)],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        process = self.process
        wait_port(self.port, 60, alive=lambda: process.poll() is None)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            status, _body = self.request("GET", "/healthz")
            if status == 200:
                break
            time.sleep(0.1)
        self._sampling = True
        self._sampler = threading.Thread(target=self._sample_rss, daemon=True)
        self._sampler.start()

    def _sample_rss(self) -> None:
        while self._sampling and self.process is not None:
            self.rss_peak_kib = max(self.rss_peak_kib, self.status_kib("VmRSS"))
            time.sleep(0.2)

    def status_kib(self, field_name: str) -> int:
        """A field of /proc/<pid>/status of the server, in KiB (0 when gone)."""
        if self.process is None:
            return 0
        try:
            text = Path(f"/proc/{self.process.pid}/status").read_text()
        except OSError:
            return 0
        for line in text.splitlines():
            if line.startswith(field_name + ":"):
                return int(line.split()[1])
        return 0

    def cpu_seconds(self) -> float:
        """CPU time the server has used so far (user and system, all threads); 0 when gone."""
        if self.process is None:
            return 0.0
        try:
            text = Path(f"/proc/{self.process.pid}/stat").read_text()
        except OSError:
            return 0.0
        fields = text.rpartition(")")[2].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def memory(self) -> dict[str, float]:
        """Peak resident memory of the server: sampled VmRSS and the kernel's VmHWM, MiB."""
        return {
            "server_rss_peak_mib": round(self.rss_peak_kib / 1024, 1),
            "server_vmhwm_mib": round(self.status_kib("VmHWM") / 1024, 1),
        }

    def stop(self) -> None:
        """Stop the server gracefully (SIGTERM), killing it after 30 s."""
        self._sampling = False
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def request(
        self, method: str, path: str, body: object = None, headers: dict[str, str] | None = None
    ) -> tuple[int, Any]:
        """One HTTP request on a new connection; status and decoded JSON (or text)."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        try:
            payload = None if body is None else json.dumps(body).encode()
            sent = {"Content-Type": "application/json"} if payload is not None else {}
            conn.request(method, path, body=payload, headers=sent | (headers or {}))
            response = conn.getresponse()
            data = response.read()
        except OSError:
            return 0, None
        finally:
            conn.close()
        try:
            return response.status, json.loads(data) if data else None
        except ValueError:
            return response.status, data.decode(errors="replace")


def make_streams(server: Server, key: str, count: int, kind: str = "lantern") -> list[int]:
    """`count` Things with one Datastream each, through the API; the Datastream ids."""
    headers = {"Authorization": f"Bearer {key}"}
    streams = []
    for number in range(count):
        body = {
            "name": f"Lantern {number}",
            "description": "Smart lantern",
            "properties": {"kind": kind},
            "Locations": [
                {
                    "name": f"Mast {number}",
                    "description": "Lantern mast",
                    "encodingType": "application/geo+json",
                    "location": {
                        "type": "Point",
                        "coordinates": [7.70 + (number % 100) / 1000, 49.40 + number / 100000],
                    },
                }
            ],
            "Datastreams": [_datastream_body(number)],
        }
        status, created = server.request("POST", f"/{SLUG}/v1.1/Things", body, headers)
        if status != 201:
            raise RuntimeError(f"creating a Thing answered {status}: {created}")
        thing = created["@iot.id"]
        status, listed = server.request(
            "GET", f"/{SLUG}/v1.1/Things({thing})/Datastreams?$select=id", None, headers
        )
        streams.append(int(listed["value"][0]["@iot.id"]))
    return streams


def _datastream_body(number: int) -> dict[str, Any]:
    return {
        "name": f"PM10 {number}",
        "description": "Particulate matter",
        "observationType": MEASUREMENT,
        "unitOfMeasurement": {"name": "µg/m³", "symbol": "µg/m³", "definition": "ugm3"},
        "Sensor": {
            "name": "SDS011",
            "description": "Laser dust sensor",
            "encodingType": "text/html",
            "metadata": "https://example.org/sds011",
        },
        "ObservedProperty": {
            "name": "PM10",
            "definition": "https://example.org/pm10",
            "description": "Particles below 10 µm",
        },
    }


@contextmanager
def running(server: Server) -> Iterator[Server]:
    """The server started, and stopped afterwards whatever happens."""
    try:
        server.start()
        yield server
    finally:
        server.stop()

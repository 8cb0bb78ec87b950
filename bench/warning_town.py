"""The warning benchmark's town: tenant and staff keys, lanterns imported in bulk, alerts,
and a watch on the database that records when the platform stored each kind of answer."""

from __future__ import annotations

import http.client
import json
import re
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from bench.backends import BenchDatabase
from bench.platform_ import SLUG, Server
from stadtkern.devices.lantern.protocol import device_key_from_seed, public_key_text
from stadtkern.devices.lantern.signals import total_seconds

# Stiftsplatz in Kaiserslautern; the lanterns stand on a grid east and north of it.
CENTRE = (7.7689, 49.4447)
GRID_STEP = 0.0003  # degrees: about 22 m east-west, 33 m north-south
IMPORT_CHUNK = 2500  # lanterns per import request (one transaction each)
HEADLINE = {"de": "Gasaustritt in der Innenstadt", "en": "Gas leak in the city centre"}
INSTRUCTION = {
    "de": "Fenster und Türen schließen. Gebiet meiden.",
    "en": "Close windows and doors. Avoid the area.",
}


@dataclass(frozen=True)
class Staff:
    """The keys of the run: an operator (the fleet's MQTT login), an issuer, an approver."""

    operator: str
    issuer: str
    approver: str

    @staticmethod
    def bearer(key: str) -> dict[str, str]:
        """An Authorization header for a key."""
        return {"Authorization": f"Bearer {key}"}


def prepare_town(server: Server) -> Staff:
    """Migrate, create the tenant with the warning module and one key per role needed."""
    ensure_tenant(server, SLUG, "Benchstadt")
    return Staff(
        operator=town_key(server, SLUG, "operator"),
        issuer=town_key(server, SLUG, "operator", "warning_issuer"),
        approver=town_key(server, SLUG, "viewer", "warning_approver"),
    )


def ensure_tenant(server: Server, slug: str, name: str) -> None:
    """Migrate, and create the tenant with SensorThings and the warning module if missing."""
    server.cli("db", "upgrade")
    if slug not in server.cli("tenant", "list"):
        server.cli(
            "tenant", "create", slug, "--name", name, "--ars", "073120000000",
            "--modules", "sensorthings,warning,web",
        )  # fmt: skip


def town_key(server: Server, slug: str, *roles: str) -> str:
    """A new key of the tenant with these roles, as `stadtkern key create` prints it."""
    arguments = ["key", "create", "--tenant", slug, "--name", f"bench-{secrets.token_hex(3)}"]
    for role in roles:
        arguments += ["--role", role]
    found = re.search(r"sk_[A-Za-z0-9_\-]+", server.cli(*arguments))
    if found is None:
        raise RuntimeError(f"no key in the output of key create {roles}")
    return found.group(0)


def lantern_codes(count: int) -> list[str]:
    """The codes of the run's lanterns, in the order the platform sorts them."""
    return [f"L{number:05d}" for number in range(count)]


def lantern_position(number: int) -> tuple[float, float]:
    """(lon, lat) of lantern `number` on a square grid starting at the centre."""
    side = 100
    return CENTRE[0] + GRID_STEP * (number % side), CENTRE[1] + GRID_STEP * (number // side)


def lantern_csv(codes: list[str], first: int) -> bytes:
    """An import file (CSV) of the lanterns with their simulated device keys."""
    lines = ["code,name,lon,lat,public_key,heartbeat_s"]
    for offset, code in enumerate(codes):
        lon, lat = lantern_position(first + offset)
        key = device_key_from_seed(f"\x00{SLUG}\x00{code}".encode()).public_key()
        lines.append(f"{code},Laterne {code},{lon:.6f},{lat:.6f},{public_key_text(key)},60")
    return ("\n".join(lines) + "\n").encode()


@dataclass(frozen=True)
class Registration:
    """How the lanterns were registered: seconds, and what the import reports counted."""

    seconds: float
    created: int
    unchanged: int


def import_lanterns(server: Server, staff: Staff, codes: list[str]) -> Registration:
    """Register the lanterns through `POST .../lanterns/import` (CSV, mode upsert, so that a
    kept database is reused: its lanterns come back unchanged)."""
    headers = Staff.bearer(staff.operator) | {"Content-Type": "text/csv"}
    path = f"/{SLUG}/warning/lanterns/import?mode=upsert"
    created = unchanged = 0
    started = time.perf_counter()
    for first in range(0, len(codes), IMPORT_CHUNK):
        body = lantern_csv(codes[first : first + IMPORT_CHUNK], first)
        status, answer = post_bytes(server, path, body, headers)
        if status != 200:
            raise RuntimeError(f"the lantern import answered {status}: {answer[:500]}")
        report = json.loads(answer)
        created += int(report["created"])
        unchanged += int(report["unchanged"])
    return Registration(time.perf_counter() - started, created, unchanged)


def post_bytes(server: Server, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, str]:
    """POST a body as it is (Server.request sends JSON); the status and the answer's text."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=600)
    try:
        conn.request("POST", path, body=body, headers=headers)
        response = conn.getresponse()
        return response.status, response.read().decode(errors="replace")
    finally:
        conn.close()


def command_keys(server: Server, staff: Staff) -> tuple[dict[str, str], dict[str, str]]:
    """The town's public command keys per channel, {kid: key}, as a lantern is provisioned."""
    status, listed = server.request(
        "GET", f"/{SLUG}/warning/keys", headers=Staff.bearer(staff.operator)
    )
    if status != 200:
        raise RuntimeError(f"GET /warning/keys answered {status}: {listed}")
    live = {k["kid"]: k["publicKey"] for k in listed if k["channel"] == "live"}
    exercise = {k["kid"]: k["publicKey"] for k in listed if k["channel"] == "exercise"}
    return live, exercise


def voice() -> dict[str, str]:
    """What the lanterns speak after the signal (headline and instruction per language)."""
    return {lang: f"{HEADLINE[lang]} {INSTRUCTION[lang]}" for lang in HEADLINE}


def signal_seconds() -> float:
    """How long the alert's signal plays at real speed (one cycle of tone and voice)."""
    return total_seconds("warning", voice(), 1)


def alert_body(status: str, label: str, *, radius_km: float = 25.0, **extra: Any) -> dict[str, Any]:
    """An alert over the whole grid; `label` keeps it from being de-duplicated."""
    return {
        "status": status,
        "event": f"Gasaustritt ({label})",
        "headline": HEADLINE,
        "instruction": INSTRUCTION,
        "area": {"circles": [{"lat": CENTRE[1], "lon": CENTRE[0], "radiusKm": radius_km}]},
        "signal": "warning",
        "repeat": 1,
    } | extra


def create_alert(server: Server, staff: Staff, body: dict[str, Any]) -> str:
    """Issue an alert (the issuer's key); its identifier."""
    status, created = server.request(
        "POST", f"/{SLUG}/warning/alerts", body, Staff.bearer(staff.issuer)
    )
    if status != 201:
        raise RuntimeError(f"creating an alert answered {status}: {created}")
    return str(created["identifier"])


def alert_id(database: BenchDatabase, identifier: str) -> int:
    """The database id of an alert."""
    mark = "%s" if database.backend == "postgres" else "?"
    with database.connect() as conn:
        row = conn.execute(
            f"SELECT id FROM warn_alert WHERE identifier = {mark}",  # noqa: S608
            (identifier,),
        ).fetchone()
    return int(row[0])


@dataclass
class Sample:
    """One look at the database: answers stored for the alert, rows left in the outbox."""

    at: float  # epoch seconds
    received: int
    started: int
    finished: int
    outbox: int


@dataclass
class Watch:
    """Samples of one alert's stored answers, taken every `interval` seconds in a thread."""

    database: BenchDatabase
    alert: int
    interval: float = 0.02
    samples: list[Sample] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> None:
        """Begin sampling."""
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop sampling."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    @property
    def last(self) -> Sample:
        """The latest sample (zeros before the first)."""
        return self.samples[-1] if self.samples else Sample(0.0, 0, 0, 0, 0)

    def wait(self, done: Any, timeout: float) -> bool:
        """Wait until `done(sample)` holds for the latest sample; False after `timeout`."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.samples and done(self.samples[-1]):
                return True
            time.sleep(self.interval)
        return False

    def _run(self) -> None:
        mark = "%s" if self.database.backend == "postgres" else "?"
        answers = (
            "SELECT count(received_at), count(started_at), count(finished_at) "  # noqa: S608
            f"FROM warn_delivery WHERE alert_id = {mark}"
        )
        with self.database.connect() as conn:
            while not self._stop.is_set():
                at = time.time()
                received, started, finished = conn.execute(answers, (self.alert,)).fetchone()
                outbox = conn.execute("SELECT count(*) FROM mqtt_outbox").fetchone()[0]
                self.samples.append(
                    Sample(at, int(received), int(started), int(finished), int(outbox))
                )
                self._stop.wait(self.interval)


def recorded_times(samples: list[Sample], kind: str, t0: float) -> list[float]:
    """Per stored answer of a kind, the seconds after t0 of the first sample that showed it."""
    times: list[float] = []
    for sample in samples:
        count = int(getattr(sample, kind))
        while len(times) < count:
            times.append(sample.at - t0)
    return times


def drained_after(samples: list[Sample], t0: float, answered: float) -> float | None:
    """Seconds after t0 until the outbox was empty again (first empty look after the answer
    of the approve request, by which time its rows were committed)."""
    for sample in samples:
        if sample.at >= answered and sample.outbox == 0:
            return sample.at - t0
    return None

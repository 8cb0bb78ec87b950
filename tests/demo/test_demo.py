"""`stadtkern demo` end to end: both storage backends, both brokers, a smaller fleet.

The demo runs as the README starts it (one process with the platform, one simulator child
per town). The test reads what any client would see: the SensorThings API lists every kind
of device with Observations that arrived over MQTT after the start, and history from before
it; the lanterns answer a warning exercise; Kusel sees nothing of Kaiserslautern; a second
start resumes with the same devices and keys.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from stadtkern.demo.fleet import KINDS, build_fleet
from stadtkern.demo.geography import load_town
from stadtkern.demo.live import lanterns_down
from tests.conftest import create_pg_database, drop_pg_database, free_port

STADTKERN = Path(sys.executable).parent / "stadtkern"
LANTERNS = 16  # Kaiserslautern; Kusel gets 2 (the demo gives it an eighth)
WAIT = 90.0


class Demo:
    """A `stadtkern demo` process on its own port, database and broker."""

    def __init__(self, tmp_path: Path, database_url: str, broker: str | None) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.state = tmp_path / "state"
        self.log = tmp_path / "demo.log"
        self.command = [
            str(STADTKERN),
            "demo",
            "--port",
            str(self.port),
            "--database",
            database_url,
            "--lanterns",
            str(LANTERNS),
            "--history",
            "3h",
            "--state-dir",
            str(self.state),
        ]
        self.env = {**os.environ, "STADTKERN_MQTT__CLIENT_ID": f"demo-{self.port}"}
        if broker is None:
            self.env["STADTKERN_MQTT__EMBEDDED_BIND"] = f"127.0.0.1:{free_port()}"
        else:
            self.command += ["--broker", broker]
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> dict[str, str]:
        with self.log.open("a") as log:
            self.process = subprocess.Popen(self.command, env=self.env, stdout=log, stderr=log)
        wait_for(lambda: self._up(), f"the demo did not come up:\n{self.output()}")
        tokens: dict[str, str] = json.loads((self.state / "credentials.json").read_text())
        return tokens

    def _up(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.base}/healthz", timeout=2) as answer:  # noqa: S310
                return bool(answer.status == 200)
        except OSError:
            return False

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            self.process.wait(timeout=60)

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]

    def get(self, path: str, token: str | None = None) -> Any:
        return call(self.base, "GET", path, token)


def call(base: str, method: str, path: str, token: str | None, body: Any = None) -> Any:
    """One request; the decoded JSON answer, or AssertionError with the status."""
    headers = {"Content-Type": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(f"{base}{path}", data=data, method=method, headers=headers)  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310
            return json.loads(answer.read() or b"null")
    except urllib.error.HTTPError as error:
        raise AssertionError(f"{method} {path}: {error.code} {error.read()[:300]!r}") from error


def wait_for(condition: Any, message: str, timeout: float = WAIT) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.5)
    pytest.fail(message() if callable(message) else message)


@pytest.fixture(params=["sqlite-embedded", "postgres-mosquitto"])
def demo(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Demo]:
    if request.param == "sqlite-embedded":
        instance = Demo(tmp_path, f"sqlite:///{tmp_path / 'demo.sqlite'}", None)
        yield instance
        instance.stop()
        return
    url = create_pg_database()
    broker = request.getfixturevalue("mosquitto_url")
    try:
        instance = Demo(tmp_path, url, broker)
        yield instance
        instance.stop()
    finally:
        drop_pg_database(url)


def _latest_by_kind(demo: Demo, tenant: str) -> dict[str, datetime]:
    """Per kind of device the newest phenomenonTime of any of its Observations."""
    newest: dict[str, datetime] = {}
    path = (
        f"/{tenant}/v1.1/Things?$top=1000&$select=id,properties"
        "&$expand=Datastreams($select=id;$expand=Observations($top=1;"
        "$orderby=phenomenonTime%20desc;$select=phenomenonTime))"
    )
    for thing in demo.get(path)["value"]:
        kind = thing["properties"]["kind"]
        for stream in thing["Datastreams"]:
            for observation in stream["Observations"]:
                at = datetime.fromisoformat(observation["phenomenonTime"].replace("Z", "+00:00"))
                newest[kind] = max(newest.get(kind, at), at)
    return newest


def _live(at: datetime, started: datetime) -> bool:
    """An Observation from the live reports: after the start and off the history's grid.

    The history is sampled on the quarter hours and ends where the live reports begin, a few
    seconds after the start; the live reports carry the wall clock to the millisecond.
    """
    on_grid = at.minute % 15 == 0 and at.second == 0 and at.microsecond == 0
    return at >= started and not on_grid


def _thing_ids(demo: Demo, tenant: str) -> set[int]:
    page = demo.get(f"/{tenant}/v1.1/Things?$top=1000&$select=id")
    assert "@iot.nextLink" not in page
    return {int(thing["@iot.id"]) for thing in page["value"]}


def test_demo_city_lives_and_resumes(demo: Demo) -> None:
    started = datetime.now(UTC)
    tokens = demo.start()
    first = load_town("kaiserslautern")
    fleet = build_fleet("kaiserslautern", first, seed=1, lanterns=LANTERNS)
    kusel = build_fleet("kusel", load_town("kusel"), seed=1, lanterns=LANTERNS // 8)

    def every_kind_fresh() -> bool:
        newest = _latest_by_kind(demo, "kaiserslautern")
        return all(kind in newest and _live(newest[kind], started) for kind in KINDS)

    wait_for(every_kind_fresh, lambda: f"not every kind reported live:\n{demo.output()}")
    things = _thing_ids(demo, "kaiserslautern")
    assert len(things) == len(fleet.devices)

    # History from before the start comes through CreateObservations.
    def history_written() -> bool:
        streams = demo.get(
            "/kaiserslautern/v1.1/Datastreams?$filter=name%20eq%20'Lufttemperatur'&$top=1000"
            "&$expand=Observations($orderby=phenomenonTime%20asc;$top=1)"
        )["value"]
        oldest = [
            datetime.fromisoformat(s["Observations"][0]["phenomenonTime"].replace("Z", "+00:00"))
            for s in streams
            if s["Observations"]
        ]
        return len(oldest) == LANTERNS and max(oldest) < started - timedelta(hours=2)

    wait_for(history_written, lambda: f"no history:\n{demo.output()}")

    # The lanterns run the reference firmware: an exercise reaches every lantern that is up.
    issuer = tokens["kaiserslautern/demo-issuer"]
    alert = call(
        demo.base,
        "POST",
        "/kaiserslautern/warning/alerts",
        issuer,
        {
            "status": "Exercise",
            "event": "Probealarm",
            "headline": {"de": "Probealarm", "en": "Test alarm"},
            "instruction": {"de": "Keine Gefahr.", "en": "No danger."},
            "area": {"zones": [district.key for district in first.districts]},
            "signal": "test_tone",
            "repeat": 1,
        },
    )
    codes = [device.code for device in fleet.of_kind("lantern")]
    down = lanterns_down(fleet, codes, datetime.now(UTC))

    def answered() -> bool:
        coverage = demo.get(f"/kaiserslautern/warning/alerts/{alert['identifier']}", issuer)[
            "coverage"
        ]
        return bool(coverage and coverage["acknowledged"] >= LANTERNS - len(down))

    wait_for(answered, lambda: f"the lanterns did not answer the exercise:\n{demo.output()}")

    # Kusel: its own devices only, and no way into Kaiserslautern's register.
    kusel_things = _thing_ids(demo, "kusel")
    assert len(kusel_things) == len(kusel.devices)
    assert not kusel_things & things
    with pytest.raises(AssertionError, match=r": (403|404) "):
        demo.get("/kaiserslautern/warning/lanterns", tokens["kusel/demo-admin"])
    kusel_streams = {
        int(s["@iot.id"]) for s in demo.get("/kusel/v1.1/Datastreams?$top=5000")["value"]
    }
    seen = demo.get("/kusel/v1.1/Observations?$top=1000&$select=id&$expand=Datastream($select=id)")[
        "value"
    ]
    assert seen
    assert all(int(o["Datastream"]["@iot.id"]) in kusel_streams for o in seen)

    # A second start resumes: same devices, same keys.
    demo.stop()
    assert tokens == demo.start()
    assert _thing_ids(demo, "kaiserslautern") == things
    assert _thing_ids(demo, "kusel") == kusel_things

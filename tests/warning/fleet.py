"""A simulated fleet of reference-firmware lanterns, running in a thread beside a test."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from fastapi.testclient import TestClient

from stadtkern.devices.lantern.firmware import Lantern
from stadtkern.devices.lantern.runner import LanternRunner
from stadtkern.devices.lantern.simulation import simulated_fleet
from tests.warning.conftest import Staff

WAIT = 20.0


def provisioning(client: TestClient, town: Staff) -> tuple[dict[str, str], dict[str, str]]:
    """The town's public command keys per channel, {kid: key}, as a lantern gets them."""
    answer = client.get(f"/{town.slug}/warning/keys", headers=town.headers)
    assert answer.status_code == 200, answer.text
    live = {k["kid"]: k["publicKey"] for k in answer.json() if k["channel"] == "live"}
    exercise = {k["kid"]: k["publicKey"] for k in answer.json() if k["channel"] == "exercise"}
    return live, exercise


@contextmanager
def running_fleet(
    broker_url: str,
    town: Staff,
    lanterns: list[Lantern],
    *,
    heartbeat_s: float | None = None,
    client_id: str | None = None,
) -> Iterator[LanternRunner]:
    """The lanterns connected (with the operator's key) until the block ends."""
    runner = LanternRunner(
        broker_url,
        town.slug,
        lanterns,
        username="fleet",
        password=town.operator,
        heartbeat_s=heartbeat_s,
        client_id=client_id,
    )
    started = threading.Event()
    failure: list[BaseException] = []

    def main() -> None:
        try:
            asyncio.run(runner.run(on_started=started.set))
        except BaseException as error:  # reported to the test below
            failure.append(error)
            started.set()

    thread = threading.Thread(target=main, daemon=True)
    thread.start()
    assert started.wait(WAIT), "the fleet did not connect"
    if failure:
        raise failure[0]
    try:
        yield runner
    finally:
        runner.request_stop()
        thread.join(WAIT)


def fleet_for(client: TestClient, town: Staff, codes: list[str], **options: Any) -> list[Lantern]:
    """Lanterns with the codes, provisioned with the town's keys (fast signals for tests)."""
    live, exercise = provisioning(client, town)
    options.setdefault("time_scale", 600.0)  # a one-minute signal takes 0.1 s
    return simulated_fleet(town.slug, codes, live=live, exercise=exercise, **options)


def wait_for(check: Callable[[], Any], what: str, timeout: float = WAIT) -> Any:
    """Poll until `check()` is truthy; fail with `what` otherwise."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}; last: {last!r}")

"""The runtime on a real Mosquitto: signed commands in, signed reports out, each played once."""

from __future__ import annotations

import asyncio
import secrets
from collections import Counter

import pytest

from stadtkern.devices.lantern.runner import Fleet, LanternRunner, broker_address
from tests.devices.conftest import Keys
from tests.devices.town import WAIT, devices, eventually, live_command, platform, simulated

pytestmark = [pytest.mark.anyio, pytest.mark.mosquitto]


async def test_a_fleet_plays_every_command_once_and_signs_every_report(
    mosquitto_url: str, keys: Keys
) -> None:
    tenant = f"t-{secrets.token_hex(4)}"
    lanterns = simulated(keys, tenant, 20)
    fleet = Fleet(
        mosquitto_url, tenant, lanterns, time_scale=1000, ack_spread_s=0.05, heartbeat_s=1.0
    )
    assert fleet.client_id == f"fleet-{tenant}"
    with platform(mosquitto_url, tenant, devices(lanterns)) as town:
        async with fleet:
            for lantern in lanterns:
                command = live_command(tenant, lantern.identity.code, 1, "cap-flood")
                town.send(lantern.identity.code, command, keys)
                town.send(lantern.identity.code, command, keys)  # delivered twice
            await eventually(
                lambda: sum(a.state == "finished" for a in town.acks()) >= 20, "20 finished"
            )
            await eventually(lambda: len(town.acks()) >= 80, "the acks of the duplicates")
            await eventually(
                lambda: {h.lantern for h in town.heartbeats()} == set(town.public), "heartbeats"
            )
            await eventually(lambda: fleet.reports_sent >= 100, "every PUBACK")
    assert Counter(e.code for e in fleet.executions) == dict.fromkeys(town.public, 1)
    by_lantern: dict[str, list[str]] = {}
    for ack in town.acks():
        by_lantern.setdefault(ack.lantern, []).append(ack.state)
    for states in by_lantern.values():
        assert len(states) == 4, "received, started, finished and one answer to the duplicate"
        assert {"received", "started", "finished"} <= set(states)
    assert not town.errors


async def test_one_lantern_runs_until_asked_to_stop_from_another_thread(
    mosquitto_url: str, keys: Keys
) -> None:
    tenant = f"t-{secrets.token_hex(4)}"
    (lantern,) = simulated(keys, tenant, 1)
    runner = LanternRunner(mosquitto_url, tenant, [lantern], heartbeat_s=0.2, time_scale=1000)
    assert runner.client_id == f"lantern-{tenant}-L-000"
    with platform(mosquitto_url, tenant, devices([lantern])) as town:
        started = asyncio.Event()
        running = asyncio.create_task(runner.run(on_started=started.set))
        await asyncio.wait_for(started.wait(), WAIT)
        town.send("L-000", live_command(tenant, "L-000", 5, "cap-test"), keys)
        await eventually(lambda: any(a.state == "finished" for a in town.acks()), "finished")
        await eventually(lambda: bool(town.heartbeats()), "a heartbeat")
        await asyncio.to_thread(runner.request_stop)
        await asyncio.wait_for(running, WAIT)
    assert not town.errors
    assert [e.alert for e in runner.executions] == ["cap-test"]


def test_broker_urls() -> None:
    assert broker_address("mqtt://b.example") == ("b.example", 1883, False, None, None)
    assert broker_address("mqtts://u:p%40ss@b.example:9") == ("b.example", 9, True, "u", "p@ss")
    with pytest.raises(ValueError, match="broker URL"):
        broker_address("http://b.example")

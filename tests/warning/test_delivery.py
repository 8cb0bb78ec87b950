"""End to end with the reference firmware, on both brokers and both storage backends:
commands reach the lanterns, are verified, played once and acknowledged; exercise and real
alerts use separate keys and topics; cancel stops; heartbeats make lanterns ready."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient

from stadtkern.app import create_app
from stadtkern.db import Database
from stadtkern.settings import MqttSettings
from tests.conftest import free_port, make_settings
from tests.warning.conftest import Staff
from tests.warning.fleet import fleet_for, running_fleet, wait_for
from tests.warning.helpers import alert_body, register_lanterns


@dataclass
class Stack:
    """A platform and the URL lanterns use to reach its broker."""

    client: TestClient
    broker_url: str


@pytest.fixture(params=["embedded", "mosquitto"])
def stack(
    request: pytest.FixtureRequest, database: Database, client: TestClient, mosquitto_url: str
) -> Iterator[Stack]:
    """The shared platform on Mosquitto, or one of its own on the embedded broker."""
    if request.param == "mosquitto":
        yield Stack(client, mosquitto_url)
        return
    port = free_port()
    settings = make_settings(
        database.url.render_as_string(hide_password=False),
        "embedded",
        mqtt=MqttSettings(url="embedded", embedded_bind=f"127.0.0.1:{port}"),
    )
    with TestClient(create_app(settings)) as embedded:
        yield Stack(embedded, f"mqtt://127.0.0.1:{port}")


def _alert(stack: Stack, town: Staff, identifier: str) -> dict[str, object]:
    answer = stack.client.get(f"/{town.slug}/warning/alerts/{identifier}", headers=town.headers)
    assert answer.status_code == 200, answer.text
    body: dict[str, object] = answer.json()
    return body


def _finished(stack: Stack, town: Staff, identifier: str, count: int) -> bool:
    coverage = _alert(stack, town, identifier)["coverage"]
    return isinstance(coverage, dict) and coverage["finished"] == count


def test_exercise_reaches_every_lantern_once(stack: Stack, town: Staff) -> None:
    codes = register_lanterns(stack.client, town, 12)
    lanterns = fleet_for(stack.client, town, codes, ack_spread_s=0.05)
    with running_fleet(stack.broker_url, town, lanterns) as fleet:
        created = stack.client.post(
            f"/{town.slug}/warning/alerts",
            json=alert_body("Exercise"),
            headers=town.bearer(town.issuer),
        ).json()
        identifier = created["identifier"]
        wait_for(lambda: _finished(stack, town, identifier, 12), "12 finished acknowledgements")
        played = [e for e in fleet.executions if e.alert == identifier]
        assert sorted(e.code for e in played) == codes  # each lantern exactly once
        assert {e.signal for e in played} == {"warning"}
    report = stack.client.get(
        f"/{town.slug}/warning/alerts/{identifier}/deliveries", headers=town.headers
    ).json()
    assert [row["state"] for row in report] == ["finished"] * 12
    assert all(row["startedAt"] and row["finishedAt"] for row in report)


def test_real_alert_sounds_on_the_live_channel_and_cancel_stops_it(
    stack: Stack, town: Staff
) -> None:
    codes = register_lanterns(stack.client, town, 4)
    # Slow signals, so that the cancel arrives while they play.
    lanterns = fleet_for(stack.client, town, codes, time_scale=1.0)
    with running_fleet(stack.broker_url, town, lanterns) as fleet:
        pending = stack.client.post(
            f"/{town.slug}/warning/alerts", json=alert_body(), headers=town.bearer(town.issuer)
        ).json()
        identifier = pending["identifier"]
        stack.client.post(
            f"/{town.slug}/warning/alerts/{identifier}/approve", headers=town.bearer(town.approver)
        )
        wait_for(
            lambda: _alert(stack, town, identifier)["coverage"]["started"] == 4,  # type: ignore[index]
            "4 started acknowledgements",
        )
        assert all(lantern.playing is not None for lantern in lanterns)
        cancel = stack.client.post(
            f"/{town.slug}/warning/alerts/{identifier}/cancel", headers=town.bearer(town.issuer)
        ).json()
        wait_for(lambda: all(lantern.playing is None for lantern in lanterns), "silence")
        wait_for(lambda: _finished(stack, town, cancel["identifier"], 4), "stop acknowledged")
        assert sorted(e.code for e in fleet.executions if e.alert == identifier) == codes


def test_heartbeats_make_lanterns_ready(stack: Stack, town: Staff) -> None:
    codes = register_lanterns(stack.client, town, 3)
    lanterns = fleet_for(stack.client, town, codes)
    lanterns[2].faults.speaker_fault = True
    with running_fleet(stack.broker_url, town, lanterns, heartbeat_s=0.2):

        def statuses() -> dict[str, str] | None:
            listed = stack.client.get(f"/{town.slug}/warning/lanterns", headers=town.headers)
            found = {row["code"]: row["status"] for row in listed.json()}
            return found if "never_seen" not in found.values() else None

        found = wait_for(statuses, "a heartbeat of every lantern")
    assert found == {codes[0]: "ready", codes[1]: "ready", codes[2]: "fault"}
    # Heartbeats are Observations of the lanterns' status Datastreams too.
    streams = stack.client.get(
        f"/{town.slug}/v1.1/Datastreams?$filter=name eq 'Speaker self-test'"
        "&$expand=Thing($select=name),Observations($orderby=phenomenonTime desc;$top=1)",
        headers=town.headers,
    ).json()["value"]
    latest = {s["Thing"]["name"]: s["Observations"][0]["result"] for s in streams}
    assert latest == {
        f"Laterne {codes[0]}": True,
        f"Laterne {codes[1]}": True,
        f"Laterne {codes[2]}": False,
    }

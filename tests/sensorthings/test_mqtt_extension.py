"""Conformance: MQTT Create and MQTT Receive (OGC 18-088 section 14), on both brokers.

Each scenario runs against the embedded broker and against a Mosquitto of our own started
with the password and ACL files of `stadtkern mqtt mosquitto-auth` and `log_dest topic` (so
the platform learns the subscriptions), on both storage backends. Clients log in with API
keys; a client of another town neither creates in nor hears from this town.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from stadtkern.app import create_app
from stadtkern.cli import app as cli
from stadtkern.db import Database
from stadtkern.platform import Platform
from stadtkern.settings import MqttSettings
from tests.conftest import TenantFixture, free_port, issue_token, make_settings, unavailable
from tests.mqtt.peers import connected
from tests.mqtt.test_mosquitto_auth import mosquitto_config, wait_listening

SERVICE_USER, SERVICE_PASSWORD = "platform", "service-secret"
MEASUREMENT = "http://www.opengis.net/def/observationType/OGC-OM/2.0/OM_Measurement"
WAIT = 10.0


@dataclass
class Town:
    """A tenant with the SensorThings module, an operator key and one Datastream."""

    slug: str
    operator: str
    datastream: int

    @property
    def headers(self) -> dict[str, str]:
        """The operator's authorization."""
        return {"Authorization": f"Bearer {self.operator}"}


@dataclass
class Stack:
    """A running platform on a broker, and how clients reach that broker."""

    client: TestClient
    broker_url: str
    towns: tuple[Town, Town]

    @property
    def platform(self) -> Platform:
        """The platform behind the test client."""
        platform: Platform = self.client.app.state.platform  # type: ignore[attr-defined]
        return platform


def _datastream(client: TestClient, headers: dict[str, str], slug: str) -> int:
    body = {
        "name": "Lantern 3",
        "description": "Smart lantern at the Fackelbrunnen",
        "Locations": [
            {
                "name": "Fackelbrunnen",
                "description": "Lantern mast",
                "encodingType": "application/geo+json",
                "location": {"type": "Point", "coordinates": [7.7694, 49.4430]},
            }
        ],
        "Datastreams": [
            {
                "name": "PM10",
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
        ],
    }
    created = client.post(f"/{slug}/v1.1/Things", json=body, headers=headers)
    assert created.status_code == 201, created.text
    thing = created.json()["@iot.id"]
    streams = client.get(f"/{slug}/v1.1/Things({thing})/Datastreams", headers=headers)
    identifier: int = streams.json()["value"][0]["@iot.id"]
    return identifier


def _keys(database: Database, make_tenant: Callable[..., TenantFixture]) -> list[tuple[str, str]]:
    """Two towns with the module on, and an operator key each (slug, key)."""
    keys = []
    for _ in range(2):
        slug = make_tenant(modules=["sensorthings"]).slug
        keys.append((slug, issue_token(database, tenant=slug, roles=["operator"])))
    return keys


def _towns(client: TestClient, keys: list[tuple[str, str]]) -> tuple[Town, Town]:
    towns = [
        Town(slug, key, _datastream(client, {"Authorization": f"Bearer {key}"}, slug))
        for slug, key in keys
    ]
    return towns[0], towns[1]


@pytest.fixture
def embedded_stack(
    database: Database, make_tenant: Callable[..., TenantFixture]
) -> Iterator[Stack]:
    """A platform with its embedded broker on a free port."""
    keys = _keys(database, make_tenant)
    port = free_port()
    settings = make_settings(
        database.url.render_as_string(hide_password=False),
        "embedded",
        mqtt=MqttSettings(url="embedded", embedded_bind=f"127.0.0.1:{port}"),
    )
    with TestClient(create_app(settings)) as client:
        yield Stack(client, f"mqtt://127.0.0.1:{port}", _towns(client, keys))


@pytest.fixture
def mosquitto_stack(
    database: Database, make_tenant: Callable[..., TenantFixture], tmp_path: Path
) -> Iterator[Stack]:
    """A platform on a Mosquitto that authenticates with the exported key files."""
    binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    if not Path(binary).exists():
        unavailable("mosquitto is not installed")
    keys = _keys(database, make_tenant)
    port = free_port()
    url = f"mqtt://{SERVICE_USER}:{SERVICE_PASSWORD}@127.0.0.1:{port}"
    database_url = database.url.render_as_string(hide_password=False)
    exported = CliRunner().invoke(
        cli,
        [
            "mqtt",
            "mosquitto-auth",
            f"--password-file={tmp_path / 'passwords'}",
            f"--acl-file={tmp_path / 'acl'}",
        ],
        env={
            "STADTKERN_DATABASE_URL": database_url,
            "STADTKERN_DEV_MODE": "true",
            "STADTKERN_MQTT__URL": url,
        },
    )
    assert exported.exit_code == 0, exported.output
    (tmp_path / "mosquitto.conf").write_text(mosquitto_config(port, tmp_path))
    process = subprocess.Popen([binary, "-c", str(tmp_path / "mosquitto.conf")])
    try:
        wait_listening(port, process)
        with TestClient(create_app(make_settings(database_url, url))) as client:
            yield Stack(client, f"mqtt://127.0.0.1:{port}", _towns(client, keys))
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture(params=["embedded", "mosquitto"])
def stack(request: pytest.FixtureRequest, database: Database) -> Stack:
    """Each scenario on both brokers (and, through `database`, both backends)."""
    fixture: Stack = request.getfixturevalue(f"{request.param}_stack")
    return fixture


def _wait_subscribed(stack: Stack, topic: str) -> None:
    """Wait until the platform knows of a client's subscription (the broker reports it)."""
    slug = topic.partition("/")[0]
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        if topic in stack.platform.subscriptions.topics_for(slug):
            return
        time.sleep(0.02)
    pytest.fail(f"the platform never learnt of the subscription {topic!r}")


def _observations(stack: Stack, town: Town) -> list[dict[str, Any]]:
    answer = stack.client.get(
        f"/{town.slug}/v1.1/Datastreams({town.datastream})/Observations?$orderby=id",
        headers=town.headers,
    )
    assert answer.status_code == 200, answer.text
    values: list[dict[str, Any]] = answer.json()["value"]
    return values


def _wait_observations(stack: Stack, town: Town, count: int) -> list[dict[str, Any]]:
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        found = _observations(stack, town)
        if len(found) >= count:
            return found
        time.sleep(0.05)
    pytest.fail(f"expected {count} observations in {town.slug}, found {_observations(stack, town)}")


def test_mqtt_create_observation_in_a_datastream(stack: Stack) -> None:
    """/req/create-observations-via-mqtt/observations-creation: publish -> Observation."""
    town = stack.towns[0]
    with connected(stack.broker_url, town.operator, _user(town.operator)) as device:
        topic = f"{town.slug}/v1.1/Datastreams({town.datastream})/Observations"
        device.publish(
            topic, json.dumps({"result": 17.5, "phenomenonTime": "2026-12-01T08:00:00Z"}).encode()
        )
        device.publish(
            f"{town.slug}/v1.1/Observations",
            json.dumps(
                {
                    "result": 21,
                    "phenomenonTime": "2026-12-01T08:10:00Z",
                    "Datastream": {"@iot.id": town.datastream},
                }
            ).encode(),
        )
    found = _wait_observations(stack, town, 2)
    assert [(o["result"], o["phenomenonTime"]) for o in found] == [
        (17.5, "2026-12-01T08:00:00Z"),
        (21, "2026-12-01T08:10:00Z"),
    ]


def test_mqtt_create_refuses_invalid_and_foreign_messages(stack: Stack) -> None:
    """Invalid payloads create nothing; another town's key cannot create here."""
    town, other = stack.towns
    topic = f"{town.slug}/v1.1/Datastreams({town.datastream})/Observations"
    with connected(stack.broker_url, town.operator, _user(town.operator)) as device:
        device.publish(topic, b"not json")
        device.publish(topic, json.dumps({"phenomenonTime": "2026-12-01T08:00:00Z"}).encode())
    with connected(stack.broker_url, other.operator, _user(other.operator)) as intruder:
        intruder.publish(topic, json.dumps({"result": 666}).encode())
    with connected(stack.broker_url, town.operator, _user(town.operator)) as device:
        device.publish(topic, json.dumps({"result": 1.25}).encode())
    found = _wait_observations(stack, town, 1)
    time.sleep(0.3)  # anything wrongly created before the marker has been committed by now
    assert [o["result"] for o in _observations(stack, town)] == [1.25]
    assert found[0]["result"] == 1.25


def test_mqtt_create_a_burst_with_bad_messages_stores_every_good_one(stack: Stack) -> None:
    """Messages published back to back reach the platform in bursts (one ingest submission
    each); a bad message among them is dropped alone, and every good one is stored once."""
    town = stack.towns[0]
    topic = f"{town.slug}/v1.1/Datastreams({town.datastream})/Observations"
    bad = [b"not json", b'{"phenomenonTime": "2026-12-01T08:00:00Z"}', b'{"result": "x", "a": 1}']
    good: list[int] = []
    with connected(stack.broker_url, town.operator, _user(town.operator)) as device:
        sent = []
        for number in range(60):
            if number % 5 == 2:
                payload = bad[number % len(bad)]
            else:
                good.append(number)
                payload = json.dumps({"result": number}).encode()
            sent.append(device.client.publish(topic, payload, qos=1))
        for info in sent:
            info.wait_for_publish(timeout=WAIT)
        # Connected until all are stored: amqtt forgets what it has not yet forwarded of a
        # client that disconnects, though it acknowledged it.
        found = _wait_observations(stack, town, len(good))
    time.sleep(0.3)  # a duplicate or a wrongly stored bad message would be committed by now
    assert sorted(o["result"] for o in _observations(stack, town)) == good
    assert len(found) == len(good)


def test_mqtt_receive_created_entities_on_subscribed_topics(stack: Stack) -> None:
    """/req/receive-updates-via-mqtt: collection, entity, property and $select topics."""
    town, other = stack.towns
    base = f"{town.slug}/v1.1"
    collection = f"{base}/Datastreams({town.datastream})/Observations"
    selected = f"{collection}?$select=result"
    with (
        connected(stack.broker_url, town.operator, _user(town.operator)) as listener,
        connected(stack.broker_url, other.operator, _user(other.operator)) as intruder,
    ):
        for topic in (collection, selected, f"{base}/Observations"):
            listener.subscribe(topic)
            _wait_subscribed(stack, topic)
        intruder.subscribe(collection)
        created = stack.client.post(
            f"/{base}/Datastreams({town.datastream})/Observations",
            json={"result": 33.5, "phenomenonTime": "2026-12-01T09:00:00Z"},
            headers=town.headers,
        )
        assert created.status_code == 201, created.text
        identifier = created.json()["@iot.id"]
        messages: dict[str, dict[str, Any]] = {}
        deadline = time.monotonic() + WAIT
        while len(messages) < 3 and time.monotonic() < deadline:
            topic, payload = listener.messages.get(timeout=WAIT)
            messages[topic] = json.loads(payload)
        assert messages[collection]["@iot.id"] == identifier
        assert messages[collection]["result"] == 33.5
        assert messages[f"{base}/Observations"]["@iot.id"] == identifier
        assert messages[selected] == {"result": 33.5}
        entity_topic = f"{base}/Observations({identifier})"
        result_topic = f"{entity_topic}/result"
        for topic in (entity_topic, result_topic):
            listener.subscribe(topic)
            _wait_subscribed(stack, topic)
        patched = stack.client.patch(
            f"/{entity_topic}", json={"result": 34.0}, headers=town.headers
        )
        assert patched.status_code == 200, patched.text
        updates: dict[str, dict[str, Any]] = {}
        while len(updates) < 2 and time.monotonic() < deadline + WAIT:
            topic, payload = listener.messages.get(timeout=WAIT)
            if topic in (entity_topic, result_topic):
                updates[topic] = json.loads(payload)
        assert updates[entity_topic]["result"] == 34.0
        assert updates[result_topic] == {"result": 34.0}
        assert intruder.messages.empty()


def _user(token: str) -> str:
    """The MQTT username: the key id (Mosquitto looks the password up by it)."""
    return token.split("_")[1]

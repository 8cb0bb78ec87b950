"""A stand-in for the platform on a real broker: publishes signed commands, verifies reports."""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import paho.mqtt.client as paho
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from paho.mqtt.enums import CallbackAPIVersion

from stadtkern.devices.lantern.firmware import Lantern
from stadtkern.devices.lantern.protocol import (
    Ack,
    Command,
    Health,
    Report,
    command_topic,
    open_report,
    parse_topic,
    public_key_text,
    sign_command,
)
from stadtkern.devices.lantern.simulation import simulated_fleet
from tests.devices.conftest import Keys

WAIT = 20.0


class Platform:
    """The test's stand-in for the platform: publishes commands, verifies every report."""

    def __init__(self, url: str, tenant: str, devices: Mapping[str, Ed25519PublicKey]) -> None:
        self.tenant = tenant
        self.public = dict(devices)
        self.reports: list[Report] = []
        self.errors: list[Exception] = []
        self._lock = threading.Lock()
        self._subscribed = threading.Event()
        address = urlsplit(url)
        self.client = paho.Client(CallbackAPIVersion.VERSION2, client_id=f"platform-{tenant}")
        self.client.on_message = self._on_message
        self.client.on_subscribe = lambda *_: self._subscribed.set()
        self.client.on_connect = lambda client, *_: client.subscribe(
            [(f"{tenant}/warning/lanterns/+/ack", 1), (f"{tenant}/warning/lanterns/+/health", 1)]
        )
        self.client.connect(address.hostname or "", address.port or 1883)
        self.client.loop_start()
        assert self._subscribed.wait(WAIT)

    def _on_message(self, _c: paho.Client, _u: object, message: paho.MQTTMessage) -> None:
        try:
            code, kind, _ = parse_topic(message.topic.removeprefix(f"{self.tenant}/"))
            report = open_report(bytes(message.payload), public_key=self.public[code])
            if report.lantern != code or not isinstance(report, Ack if kind == "ack" else Health):
                raise ValueError(f"{report} arrived on {message.topic}")
        except Exception as error:  # paho's thread: the test looks at them
            self.errors.append(error)
            return
        with self._lock:
            self.reports.append(report)

    def send(self, code: str, command: Command, keys: Keys) -> None:
        """Publish a command signed with its channel key, QoS 1."""
        envelope = sign_command(command, kid="live-1", private_key=keys.live)
        topic = f"{self.tenant}/{command_topic(code, command.channel)}"
        self.client.publish(topic, envelope, qos=1).wait_for_publish(WAIT)

    def acks(self) -> list[Ack]:
        """The acknowledgements received so far, each with a valid signature."""
        with self._lock:
            return [r for r in self.reports if isinstance(r, Ack)]

    def heartbeats(self) -> list[Health]:
        """The heartbeats received so far, each with a valid signature."""
        with self._lock:
            return [r for r in self.reports if isinstance(r, Health)]

    def close(self) -> None:
        """Disconnect."""
        self.client.disconnect()
        self.client.loop_stop()


@contextmanager
def platform(url: str, tenant: str, devices: Mapping[str, Ed25519PublicKey]) -> Iterator[Platform]:
    """A connected Platform stand-in for the block, knowing the lanterns' device keys."""
    stand_in = Platform(url, tenant, devices)
    try:
        yield stand_in
    finally:
        stand_in.close()


async def eventually(check: Callable[[], bool], what: str) -> None:
    """Wait until `check()` holds (no timing is asserted, only an upper bound)."""
    deadline = asyncio.get_running_loop().time() + WAIT
    while not check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


def simulated(keys: Keys, tenant: str, count: int) -> list[Lantern]:
    return simulated_fleet(
        tenant,
        [f"L-{n:03d}" for n in range(count)],
        live={"live-1": public_key_text(keys.live.public_key())},
        exercise={"exercise-1": public_key_text(keys.exercise.public_key())},
    )


def live_command(tenant: str, code: str, counter: int, alert: str) -> Command:
    now = datetime.now(UTC)
    return Command(
        id=uuid.uuid4().hex, tenant=tenant, lantern=code, channel="live", counter=counter,
        issued=now, expires=now + timedelta(minutes=5), alert=alert, action="sound",
        signal="warning", voice={"de": "Achtung"}, audio=None, repeat=1, key=None, retire=(),
    )  # fmt: skip


def devices(lanterns: list[Lantern]) -> dict[str, Ed25519PublicKey]:
    """{code: device public key} of simulated lanterns."""
    return {one.identity.code: one.identity.device_key.public_key() for one in lanterns}

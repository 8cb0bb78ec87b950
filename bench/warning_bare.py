"""The warning benchmark's baseline: the same commands without the platform.

The benchmark signs one exercise command per lantern itself, before the clock starts, with a
key of its own that the simulated lanterns were provisioned with (next to the town's keys),
and publishes them at QoS 1 from one raw-socket client through the same Mosquitto to the same
fleet processes. What the lanterns then take from t0 to "signal started" is what the broker,
the network and the firmware cost; whatever the platform run takes beyond it is the
platform's (signing, the outbox, its MQTT client).
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bench.mqtt_wire import WirePublisher, publish_packet
from bench.warning_town import voice
from stadtkern.devices.lantern.protocol import (
    Command,
    command_topic,
    public_key_text,
    sign_command,
)

KID = "bench-bare"
# Above any counter the platform hands out in a run: the lanterns accept it, and nothing the
# platform sends on the exercise channel afterwards would be (the run sends none).
COUNTER = 1_000_000


@dataclass(frozen=True)
class BareKey:
    """The baseline's signing key and its public half as a lantern is provisioned with it."""

    private_key: Ed25519PrivateKey

    @classmethod
    def new(cls) -> BareKey:
        """A fresh key."""
        return cls(Ed25519PrivateKey.generate())

    @property
    def provisioning(self) -> dict[str, str]:
        """{kid: public key} to add to the lanterns' exercise keys."""
        return {KID: public_key_text(self.private_key.public_key())}


def signed_commands(slug: str, codes: list[str], key: BareKey, alert: str) -> list[bytes]:
    """One PUBLISH packet per lantern: an exercise command to sound the alert's signal."""
    now = datetime.now(UTC)
    packets = []
    for number, code in enumerate(codes):
        command = Command(
            id=uuid.uuid4().hex,
            tenant=slug,
            lantern=code,
            channel="exercise",
            counter=COUNTER,
            issued=now,
            expires=now + timedelta(minutes=10),
            alert=alert,
            action="sound",
            signal="warning",
            voice=voice(),
            audio=None,
            repeat=1,
            key=None,
            retire=(),
        )
        envelope = sign_command(command, kid=KID, private_key=key.private_key)
        topic = f"{slug}/{command_topic(code, 'exercise')}".encode()
        packets.append(publish_packet(topic, number % 65535 + 1, envelope))
    return packets


@dataclass(frozen=True)
class Published:
    """When the baseline's publishes went out and were all acknowledged by the broker."""

    t0: float  # epoch, just before the first byte
    all_acknowledged: float  # epoch of the last PUBACK
    window: int


def publish_all(port: int, key: str, packets: list[bytes], window: int) -> Published:
    """Send the packets in order with at most `window` unacknowledged (as the platform's MQTT
    client keeps `inflight`), on a connection made beforehand."""
    wire = WirePublisher(port, f"bench-bare-{uuid.uuid4().hex[:8]}", key.split("_")[1], key)
    try:
        pending: set[int] = set()
        position = 0
        t0 = time.time()
        while position < len(packets) or pending:
            batch = []
            while position < len(packets) and len(pending) < window:
                packet = packets[position]
                batch.append(packet)
                pending.add(_mid(packet))
                position += 1
            if batch:
                wire.send(batch)
            for mid in wire.acks():
                pending.discard(mid)
        return Published(t0, time.time(), window)
    finally:
        wire.close()


def _mid(packet: bytes) -> int:
    """The packet id of a QoS 1 PUBLISH made by publish_packet."""
    position = 1
    while packet[position] & 0x80:
        position += 1
    position += 1
    topic_length = int.from_bytes(packet[position : position + 2], "big")
    start = position + 2 + topic_length
    return int.from_bytes(packet[start : start + 2], "big")

"""Logged-in paho clients and the access checks both brokers must pass (blocking calls)."""

from __future__ import annotations

import queue
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from urllib.parse import urlsplit

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

TIMEOUT = 10.0
REFUSED = 0x80


class Peer:
    """One MQTT 3.1.1 client with a username and password, driven step by step."""

    def __init__(
        self,
        url: str,
        password: str | None = None,
        *,
        username: str | None = None,
        client_id: str | None = None,
    ) -> None:
        parts = urlsplit(url)
        self.host, self.port = parts.hostname or "127.0.0.1", int(parts.port or 1883)
        self.client = paho.Client(
            CallbackAPIVersion.VERSION2,
            client_id=client_id or f"peer-{secrets.token_hex(4)}",
            protocol=paho.MQTTv311,
        )
        if username is not None or password is not None:
            self.client.username_pw_set(username or "user", password)
        self.messages: queue.Queue[tuple[str, bytes]] = queue.Queue()
        self._acks: dict[int, queue.Queue[list[int]]] = {}
        self._connack: queue.Queue[int] = queue.Queue()
        self._lock = threading.Lock()
        self.client.on_connect = self._on_connect
        self.client.on_message = lambda _c, _u, m: self.messages.put((m.topic, bytes(m.payload)))
        self.client.on_subscribe = self._on_ack
        self.client.on_unsubscribe = self._on_ack

    def _on_connect(self, _c: object, _u: object, _f: object, reason: object, _p: object) -> None:
        self._connack.put(int(getattr(reason, "value", 0)))

    def _on_ack(self, _c: object, _u: object, mid: int, reasons: list[object], _p: object) -> None:
        with self._lock:
            self._acks.setdefault(mid, queue.Queue()).put(
                [int(getattr(r, "value", 0)) for r in reasons]
            )

    def _wait_ack(self, mid: int) -> list[int]:
        with self._lock:
            waiter = self._acks.setdefault(mid, queue.Queue())
        return waiter.get(timeout=TIMEOUT)

    def connect(self) -> int:
        """Connect; the CONNACK's return code (0 accepted, 5 not authorised) or -1 on a drop."""
        self.client.connect(self.host, self.port, keepalive=30)
        self.client.loop_start()
        try:
            return self._connack.get(timeout=TIMEOUT)
        except queue.Empty:
            return -1

    def subscribe(self, topic_filter: str) -> int:
        """Subscribe at QoS 1; the granted QoS, or 0x80 when refused."""
        _rc, mid = self.client.subscribe(topic_filter, qos=1)
        assert mid is not None
        return self._wait_ack(mid)[0]

    def unsubscribe(self, topic_filter: str) -> None:
        """Unsubscribe and wait for the UNSUBACK."""
        _rc, mid = self.client.unsubscribe(topic_filter)
        assert mid is not None
        self._wait_ack(mid)

    def publish(self, topic: str, payload: bytes = b"x") -> None:
        """Publish at QoS 1 and wait for the PUBACK (brokers acknowledge refused ones too)."""
        info = self.client.publish(topic, payload, qos=1)
        info.wait_for_publish(timeout=TIMEOUT)

    def received_until(self, marker_topic: str) -> list[str]:
        """Topics received up to and including `marker_topic` (which must arrive)."""
        topics = []
        while True:
            topic, _payload = self.messages.get(timeout=TIMEOUT)
            topics.append(topic)
            if topic == marker_topic:
                return topics

    def close(self) -> None:
        """Disconnect and stop the network thread."""
        self.client.disconnect()
        self.client.loop_stop()

    def __enter__(self) -> Peer:
        return self

    def __exit__(
        self,
        _type: type[BaseException] | None,
        _value: BaseException | None,
        _traceback: TracebackType | None,
    ) -> None:
        self.close()


@dataclass
class Town:
    """A tenant with an operator's and a viewer's key."""

    slug: str
    operator: str
    viewer: str


def connected(url: str, password: str | None, username: str | None = None) -> Peer:
    """A connected peer; fails the test when the broker refuses it."""
    peer = Peer(url, password, username=username)
    assert peer.connect() == 0
    return peer


def any_name(_token: str) -> str:
    """A username that is not the key id (the embedded broker only checks the password)."""
    return "device"


def check_tenant_confinement(
    url: str,
    service: Peer,
    a: Town,
    b: Town,
    *,
    username: Callable[[str], str] = any_name,
    refuses: bool = True,
) -> None:
    """A's operator uses A's topics and neither reads nor writes B's.

    Mosquitto 2.0 grants every MQTT 3.1.1 subscription and applies its ACL to each delivery
    (`refuses=False`); the embedded broker refuses the subscription itself.
    """
    device = connected(url, a.operator, username(a.operator))
    neighbour = connected(url, b.viewer, username(b.viewer))
    with device, neighbour:
        assert device.subscribe(f"{a.slug}/v1.1/#") == 1
        for foreign in (f"{b.slug}/v1.1/#", f"{b.slug}/other", "#", "+/v1.1/#", "$SYS/#"):
            granted = device.subscribe(foreign)
            assert granted == REFUSED or not refuses, foreign
        assert neighbour.subscribe(f"{b.slug}/v1.1/#") == 1
        device.publish(f"{b.slug}/v1.1/Things", b"intrusion")
        device.publish(f"{a.slug}/v1.1/Things", b"own")
        service.publish(f"{b.slug}/v1.1/Datastreams", b"neighbour's")
        service.publish(f"{a.slug}/v1.1/Sensors", b"marker")
        assert device.received_until(f"{a.slug}/v1.1/Sensors") == [
            f"{a.slug}/v1.1/Things",
            f"{a.slug}/v1.1/Sensors",
        ]
        service.publish(f"{b.slug}/v1.1/Locations", b"marker")
        assert neighbour.received_until(f"{b.slug}/v1.1/Locations") == [
            f"{b.slug}/v1.1/Datastreams",
            f"{b.slug}/v1.1/Locations",
        ]


def check_viewer_reads_only(
    url: str, service: Peer, town: Town, *, username: Callable[[str], str] = any_name
) -> None:
    """A viewer's key subscribes to its tenant's topics but cannot publish."""
    with connected(url, town.viewer, username(town.viewer)) as viewer:
        assert viewer.subscribe(f"{town.slug}/v1.1/Things") == 1
        viewer.publish(f"{town.slug}/v1.1/Things", b"refused")
        service.publish(f"{town.slug}/v1.1/Things", b"marker")
        assert viewer.received_until(f"{town.slug}/v1.1/Things") == [f"{town.slug}/v1.1/Things"]
        assert viewer.messages.empty()


def check_anonymous(
    url: str, service: Peer, open_town: Town, closed_town: Town, *, refuses: bool = True
) -> None:
    """Anonymous clients read the open town's topics only, and publish nowhere."""
    with connected(url, None) as anonymous:
        granted = anonymous.subscribe(f"{closed_town.slug}/v1.1/#")
        assert granted == REFUSED or not refuses
        assert anonymous.subscribe(f"{open_town.slug}/v1.1/#") == 1
        anonymous.publish(f"{open_town.slug}/v1.1/Things", b"refused")
        service.publish(f"{closed_town.slug}/v1.1/Things", b"closed")
        service.publish(f"{open_town.slug}/v1.1/Sensors", b"marker")
        assert anonymous.received_until(f"{open_town.slug}/v1.1/Sensors") == [
            f"{open_town.slug}/v1.1/Sensors"
        ]


def check_refusals(url: str, town: Town, platform_token: str) -> None:
    """Wrong passwords, non-key passwords and platform keys are refused."""
    wrong = town.operator[:-4] + ("AAAA" if not town.operator.endswith("AAAA") else "BBBB")
    for password in (wrong, "not-a-key", platform_token):
        peer = Peer(url, password, username=password.split("_")[1] if "_" in password else "x")
        try:
            assert peer.connect() != 0
        finally:
            peer.close()

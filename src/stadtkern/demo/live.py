"""The fleet reporting live: every stream publishes its Observations over MQTT (QoS 1).

Each stream reports on its own period (`--rate` stretches or squeezes all periods alike so
that the fleet sends that many Observations per second). The first report of every stream
falls within the first few seconds, so a fresh installation shows data at once. A device is
silent while it or the gateway it depends on is down (deterministic outages of the seed).
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import json
import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

from stadtkern.demo.behaviour import outage, sample
from stadtkern.demo.fleet import Device, Fleet, Stream, draw
from stadtkern.demo.provision import Deployed
from stadtkern.devices.lantern.runner import broker_address

logger = logging.getLogger("stadtkern.demo")
WARM_UP_S = 8.0  # every stream reports once within this time after the start
MAX_UNACKED = 2_000  # QoS 1 messages on the way before publishing waits
QUIET_REPORT_S = 900  # a parking sensor reports an unchanged state at least this often
ON_CHANGE = frozenset({"space_occupied"})
# Outages: gateways fail about once in five days for ~25 minutes, devices about once a month.
GATEWAY_OUTAGES = (0.2, 25.0)
DEVICE_OUTAGES = (0.03, 90.0)


def is_down(fleet: Fleet, device: Device, t: datetime) -> bool:
    """Whether the device (or the gateway it depends on) is down at t."""
    per_day, minutes = GATEWAY_OUTAGES if device.gateway is None else DEVICE_OUTAGES
    key = f"{fleet.tenant}/{device.code}"
    if outage(key, t, seed=fleet.seed, per_day=per_day, mean_minutes=minutes):
        return True
    if device.gateway is None:
        return False
    gateway = f"{fleet.tenant}/{device.gateway}"
    return outage(
        gateway, t, seed=fleet.seed, per_day=GATEWAY_OUTAGES[0], mean_minutes=GATEWAY_OUTAGES[1]
    )


@dataclass
class _Entry:
    device: Device
    stream: Stream
    topic: str
    period: float
    last_result: object = None
    last_sent: float = 0.0


@dataclass
class LiveStats:
    """What the publisher has done so far."""

    published: int = 0
    acknowledged: int = 0
    skipped_down: int = 0
    skipped_unchanged: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)


def natural_rate(fleet: Fleet) -> float:
    """Observations per second the fleet sends on its own periods."""
    return sum(1.0 / stream.period_s for _, stream in fleet.streams())


class Publisher:
    """Publishes the fleet's Observations to the SensorThings MQTT create topics."""

    def __init__(
        self,
        fleet: Fleet,
        deployed: Deployed,
        broker_url: str,
        *,
        username: str | None,
        password: str | None,
        rate: float | None = None,
        client_id: str | None = None,
    ) -> None:
        self.fleet = fleet
        self.stats = LiveStats()
        speed = 1.0 if rate is None else rate / max(natural_rate(fleet), 1e-9)
        self._on_change = rate is None  # a load generator sends every sample
        self._entries: list[_Entry] = []
        for device, stream in fleet.streams():
            datastream = deployed.datastream(device, stream)
            if datastream is None:
                continue
            topic = f"{fleet.tenant}/v1.1/Datastreams({datastream})/Observations"
            self._entries.append(_Entry(device, stream, topic, stream.period_s / speed))
        host, port, tls, url_user, url_password = broker_address(broker_url)
        self._address = (host, port, tls)
        self._credentials = (username or url_user, password or url_password)
        self._client_id = client_id or f"simulator-{fleet.tenant}"
        self._unacked = threading.Semaphore(MAX_UNACKED)
        self._connected = threading.Event()
        self._client: paho.Client | None = None

    @property
    def streams(self) -> int:
        """How many streams publish."""
        return len(self._entries)

    def connect(self, timeout: float = 15.0) -> None:
        """Open the MQTT session (persistent, so QoS 1 messages survive a reconnect)."""
        client = paho.Client(
            CallbackAPIVersion.VERSION2,
            client_id=self._client_id,
            clean_session=False,
            protocol=paho.MQTTv311,
        )
        if self._credentials[0] is not None:
            client.username_pw_set(*self._credentials)
        if self._address[2]:
            client.tls_set()
        client.on_connect = self._on_connect
        client.on_publish = self._on_publish
        client.max_inflight_messages_set(200)
        client.max_queued_messages_set(0)
        client.reconnect_delay_set(1, 30)
        client.connect_async(self._address[0], self._address[1], keepalive=30)
        client.loop_start()
        self._client = client
        if not self._connected.wait(timeout):
            self.close()
            raise ConnectionError(f"no MQTT session with {self._address[0]}:{self._address[1]}")

    def close(self, drain_s: float = 5.0) -> None:
        """Wait briefly for outstanding acknowledgements, then disconnect."""
        client, self._client = self._client, None
        if client is None:
            return
        deadline = time.monotonic() + drain_s
        while self.stats.acknowledged < self.stats.published and time.monotonic() < deadline:
            time.sleep(0.05)
        client.disconnect()
        client.loop_stop()

    def _on_connect(
        self, _c: paho.Client, _u: object, _f: object, code: object, _p: object
    ) -> None:
        if getattr(code, "is_failure", False):
            logger.warning("the broker refused the simulator: %s", code)
            return
        self._connected.set()

    def _on_publish(self, _c: paho.Client, _u: object, _mid: int, _rc: object, _p: object) -> None:
        self.stats.acknowledged += 1
        self._unacked.release()

    async def run(self, stop: asyncio.Event) -> None:
        """Publish until `stop` is set."""
        start = time.monotonic()
        queue: list[tuple[float, int]] = []
        for index, entry in enumerate(self._entries):
            offset = draw(self.fleet.seed, entry.stream.behaviour.key, "phase")
            heapq.heappush(queue, (start + offset * min(entry.period, WARM_UP_S), index))
        while not stop.is_set() and queue:
            now = time.monotonic()
            due, index = queue[0]
            if due > now:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=min(due - now, 1.0))
                continue
            heapq.heapreplace(queue, (due + self._entries[index].period, index))
            await self._report(self._entries[index], now)

    async def _report(self, entry: _Entry, now: float) -> None:
        t = datetime.now(UTC)
        if is_down(self.fleet, entry.device, t):
            self.stats.skipped_down += 1
            return
        result = sample(entry.stream.behaviour, t, seed=self.fleet.seed)
        if result is None:
            return
        model = entry.stream.behaviour.model
        if (
            self._on_change
            and model in ON_CHANGE
            and result == entry.last_result
            and now - entry.last_sent < QUIET_REPORT_S
        ):
            self.stats.skipped_unchanged += 1
            return
        entry.last_result, entry.last_sent = result, now
        payload = json.dumps({"result": result, "phenomenonTime": _iso(t)}).encode()
        if not self._unacked.acquire(blocking=False):
            # The broker is behind: wait for an acknowledgement rather than drop.
            await asyncio.to_thread(self._unacked.acquire)
        client = self._client
        if client is None:
            self._unacked.release()
            return
        client.publish(entry.topic, payload, qos=1)
        self.stats.published += 1
        kind = entry.device.kind
        self.stats.by_kind[kind] = self.stats.by_kind.get(kind, 0) + 1


def lanterns_down(fleet: Fleet, codes: Sequence[str], t: datetime) -> set[str]:
    """The lanterns that are down at t (their firmware goes silent too)."""
    by_code = {device.code: device for device in fleet.devices}
    return {code for code in codes if code in by_code and is_down(fleet, by_code[code], t)}


def _iso(t: datetime) -> str:
    return t.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")

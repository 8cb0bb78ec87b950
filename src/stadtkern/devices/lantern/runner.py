"""The lantern runtime: one paho MQTT connection driving one lantern or a simulated fleet.

paho runs its network loop in its own thread; every callback hops onto the asyncio loop, where
the (single-threaded) firmware runs and timers carry out its reports and steps.
"""

from __future__ import annotations

import asyncio
import logging
import random
import ssl
import threading
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from types import TracebackType
from typing import Any
from urllib.parse import unquote, urlsplit

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

from stadtkern.devices.lantern.envelope import ProtocolError
from stadtkern.devices.lantern.firmware import Execution, Lantern, Outgoing, Publish, Step
from stadtkern.devices.lantern.topics import command_topic, parse_topic

logger = logging.getLogger("stadtkern.devices.lantern")
DEFAULT_PORTS = {"mqtt": 1883, "mqtts": 8883}


def _utc_now() -> datetime:
    return datetime.now(UTC)


def broker_address(url: str) -> tuple[str, int, bool, str | None, str | None]:
    """(host, port, tls, username, password) of mqtt://[user:pass@]host[:port] or mqtts://."""
    parts = urlsplit(url)
    if parts.scheme not in DEFAULT_PORTS or not parts.hostname:
        raise ValueError(f"broker URL must be mqtt://host[:port] or mqtts://host[:port]: {url!r}")
    user = unquote(parts.username) if parts.username is not None else None
    password = unquote(parts.password) if parts.password is not None else None
    port = parts.port or DEFAULT_PORTS[parts.scheme]
    return parts.hostname, port, parts.scheme == "mqtts", user, password


class LanternRunner:
    """Runs lanterns of one tenant over ONE persistent MQTT session (3.1.1, QoS 1)."""

    def __init__(
        self,
        broker_url: str,
        tenant: str,
        lanterns: Sequence[Lantern],
        *,
        username: str | None = None,
        password: str | None = None,
        time_scale: float | None = None,
        ack_spread_s: float | None = None,
        heartbeat_s: float | None = 60.0,
        client_id: str | None = None,
        clock: Callable[[], datetime] = _utc_now,
        rng: random.Random | None = None,
        connect_timeout_s: float = 10.0,
    ) -> None:
        self.tenant = tenant
        self.lanterns = {lantern.identity.code: lantern for lantern in lanterns}
        if len(self.lanterns) != len(lanterns) or not lanterns:
            raise ValueError("a runner needs at least one lantern and unique codes")
        if any(lantern.identity.tenant != tenant for lantern in lanterns):
            raise ValueError(f"every lantern must belong to tenant {tenant!r}")
        for lantern in lanterns:
            if time_scale is not None:
                lantern.time_scale = time_scale
            if ack_spread_s is not None:
                lantern.ack_spread_s = ack_spread_s
        host, port, tls, url_user, url_password = broker_address(broker_url)
        self._address = (host, port, tls)
        self._credentials = (username or url_user, password or url_password)
        only = lanterns[0].identity.code if len(lanterns) == 1 else None
        self.client_id = client_id or (f"lantern-{tenant}-{only}" if only else f"fleet-{tenant}")
        self.heartbeat_s = heartbeat_s
        self.reports_sent = 0
        self._clock = clock
        # Jitter only spreads load; it needs no cryptographic randomness.
        self._rng = rng or random.Random()  # noqa: S311
        self._connect_timeout_s = connect_timeout_s
        self._prefix = f"{tenant}/"
        self._loop: asyncio.AbstractEventLoop | None = None
        self._client: paho.Client | None = None
        self._ready = asyncio.Event()
        self._stop_requested = asyncio.Event()
        self._stop_early = False
        self._timers: set[asyncio.TimerHandle] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._not_before: dict[str, float] = {}
        self._puback_lock = threading.Lock()
        self._waiting: dict[int, asyncio.Future[None]] = {}
        self._acked_early: set[int] = set()

    @property
    def executions(self) -> list[Execution]:
        """Every signal started by the lanterns, oldest first: (code, alert, action, signal, at)."""
        started = [e for lantern in self.lanterns.values() for e in lantern.executions]
        return sorted(started, key=lambda execution: execution.started_at)

    def _subscriptions(self) -> list[tuple[str, int]]:
        if len(self.lanterns) == 1:
            code = next(iter(self.lanterns))
            return [(self._prefix + command_topic(code, c), 1) for c in ("live", "exercise")]
        return [(f"{self._prefix}warning/lanterns/+/cmd/+", 1)]

    async def start(self) -> None:
        """Connect, subscribe, wait for the SUBACK, and start the heartbeats."""
        self._loop = asyncio.get_running_loop()
        self._ready = asyncio.Event()
        self._stop_requested = asyncio.Event()
        if self._stop_early:
            self._stop_requested.set()
        client = paho.Client(
            CallbackAPIVersion.VERSION2,
            client_id=self.client_id,
            clean_session=False,
            protocol=paho.MQTTv311,
            manual_ack=True,
        )
        host, port, tls = self._address
        if self._credentials[0] is not None:
            client.username_pw_set(*self._credentials)
        if tls:
            client.tls_set_context(ssl.create_default_context())
        client.on_connect = self._on_connect
        client.on_subscribe = self._on_subscribe
        client.on_message = self._on_message
        client.on_publish = self._on_publish
        client.reconnect_delay_set(1, 30)
        client.max_inflight_messages_set(100)
        client.max_queued_messages_set(0)
        self._client = client
        client.connect_async(host, port, keepalive=30)
        client.loop_start()
        try:
            await asyncio.wait_for(self._ready.wait(), self._connect_timeout_s)
        except TimeoutError:
            await self.stop()
            raise ConnectionError(f"no MQTT session with {host}:{port}") from None
        if self.heartbeat_s is not None:
            for code in self.lanterns:
                self._later(self._rng.uniform(0, self.heartbeat_s), self._heartbeat, code)

    async def stop(self) -> None:
        """Stop timers, wait briefly for reports in flight, and disconnect."""
        for timer in self._timers:
            timer.cancel()
        self._timers.clear()
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=5)
        self._stop_early = False
        client, self._client = self._client, None
        if client is not None:
            client.disconnect()
            await asyncio.to_thread(client.loop_stop)

    def request_stop(self) -> None:
        """Ask `run()` to stop; safe from any thread, also before the runner has started."""
        self._stop_early = True
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._stop_requested.set)

    async def run(self, on_started: Callable[[], object] | None = None) -> None:
        """Start, call `on_started`, run until `request_stop()`, then stop."""
        await self.start()
        try:
            if on_started is not None:
                on_started()
            await self._stop_requested.wait()
        finally:
            await self.stop()

    async def __aenter__(self) -> LanternRunner:
        """Start the runner."""
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        """Stop the runner."""
        await self.stop()

    # --- paho's thread: hop onto the loop ---------------------------------------------

    def _on_connect(self, client: paho.Client, _u: Any, _f: Any, code: Any, _p: Any) -> None:
        if code.is_failure:
            logger.warning("broker refused the connection: %s", code)
            return
        # The session keeps the subscriptions, but a broker may have lost it.
        client.subscribe(self._subscriptions())

    def _on_subscribe(self, _c: paho.Client, _u: Any, _mid: int, _codes: Any, _p: Any) -> None:
        self._running_loop().call_soon_threadsafe(self._ready.set)

    def _on_message(self, _c: paho.Client, _u: Any, message: paho.MQTTMessage) -> None:
        payload = bytes(message.payload)
        self._running_loop().call_soon_threadsafe(
            self._deliver, message.topic, payload, message.mid, message.qos
        )

    def _on_publish(self, _c: paho.Client, _u: Any, mid: int, _code: Any, _p: Any) -> None:
        with self._puback_lock:
            waiting = self._waiting.pop(mid, None)
            if waiting is None:
                self._acked_early.add(mid)
        if waiting is not None and self._loop is not None:
            self._loop.call_soon_threadsafe(_resolve, waiting)

    # --- the loop ---------------------------------------------------------------------

    def _deliver(self, topic: str, payload: bytes, mid: int, qos: int) -> None:
        try:
            if not topic.startswith(self._prefix):
                raise ProtocolError("malformed", f"foreign topic {topic!r}")
            code, kind, channel = parse_topic(topic.removeprefix(self._prefix))
            lantern = self.lanterns.get(code)
            if kind == "cmd" and channel is not None and lantern is not None:
                self._carry_out(code, lantern.handle_command(channel, payload, self._clock()))
        except ProtocolError as exc:
            logger.debug("ignored a message on %s: %s", topic, exc)
        except Exception:
            logger.exception("a lantern failed on a message from %s", topic)
        finally:
            # Acknowledged after the counter is written: a crash before it means redelivery.
            if self._client is not None:
                self._client.ack(mid, qos)

    def _carry_out(self, code: str, outgoing: list[Outgoing]) -> None:
        now = self._running_loop().time()
        for item in outgoing:
            if isinstance(item, Publish):
                # Reports leave in seq order even though each waits a random spread.
                at = max(now + item.delay, self._not_before.get(code, 0.0))
                self._not_before[code] = at
                self._later(at - now, self._send, code, item)
            else:
                delay = (item.at - self._clock()).total_seconds()
                self._later(max(0.0, delay), self._step, code, item)

    def _later(self, delay: float, callback: Callable[..., None], *args: Any) -> None:
        timer: asyncio.TimerHandle

        def fire() -> None:
            self._timers.discard(timer)
            callback(*args)

        timer = self._running_loop().call_later(delay, fire)
        self._timers.add(timer)

    def _running_loop(self) -> asyncio.AbstractEventLoop:
        if self._loop is None:
            raise RuntimeError("the runner has not been started")
        return self._loop

    def _step(self, code: str, step: Step) -> None:
        self._carry_out(code, self.lanterns[code].run_step(step, self._clock()))

    def _heartbeat(self, code: str) -> None:
        interval = self.heartbeat_s or 60.0
        self._carry_out(code, self.lanterns[code].health(self._clock(), interval))
        # Never later than announced: the platform counts missed intervals.
        self._later(interval * self._rng.uniform(0.9, 1.0), self._heartbeat, code)

    def _send(self, code: str, publish: Publish) -> None:
        if self.lanterns[code].faults.offline or self._client is None:
            return
        sending = self._publish(self._prefix + publish.topic, publish.envelope)
        task = self._running_loop().create_task(sending)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _publish(self, topic: str, payload: bytes) -> None:
        client = self._client
        if client is None:
            return
        done: asyncio.Future[None] = self._running_loop().create_future()
        info = client.publish(topic, payload, qos=1)
        with self._puback_lock:
            if info.mid in self._acked_early:
                self._acked_early.discard(info.mid)
                done.set_result(None)
            else:
                self._waiting[info.mid] = done
        await done
        self.reports_sent += 1


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


Fleet = LanternRunner
"""Many simulated lanterns over one connection: the same runtime, named for that use."""

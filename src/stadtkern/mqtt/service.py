"""The platform's MQTT client: a persistent session, a durable outbox and tenant handlers."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import timedelta
from typing import Any

import anyio
import paho.mqtt.client as paho
from paho.mqtt.reasoncodes import ReasonCode
from prometheus_client import CollectorRegistry
from sqlalchemy import event
from sqlalchemy.orm import Session

from stadtkern.core.refs import TenantRef
from stadtkern.db.database import Database
from stadtkern.modules.contract import TopicHandler
from stadtkern.mqtt.broker_log import LOG_TOPICS
from stadtkern.mqtt.connection import Backoff, broker_address, new_client, tls_context
from stadtkern.mqtt.courier import LEASE, OutboxCourier
from stadtkern.mqtt.inbound import InboundRouter, Received, ResolveTenant
from stadtkern.mqtt.intake import Intake
from stadtkern.mqtt.metrics import MqttMetrics
from stadtkern.mqtt.outbox import OutboxMessage, add_entries, add_entry
from stadtkern.mqtt.paho_ import PlatformClient
from stadtkern.mqtt.topics import full_topic
from stadtkern.settings import MqttSettings

logger = logging.getLogger(__name__)


class MqttService:
    """One MQTT client with a persistent session (clean_session=False) for the whole platform.

    Publishing goes through a transactional outbox: `enqueue` writes a row in the caller's
    transaction, and the row is deleted only after the broker's PUBACK, so a publish survives
    broker outages and restarts and is delivered at least once (a subscriber may see it twice).
    Several processes may share one database: each sends only the rows it has leased under its
    client id (which must therefore differ between processes), and takes over the rows of a
    process that died once their lease of `outbox_lease` has run out.

    Inbound QoS 1 messages are acknowledged only after every matching handler returned. A
    handler that raises leaves the message unacknowledged; the broker delivers it again when the
    session reconnects (MQTT 3.1.1 re-sends unacknowledged messages only then), and every
    matching handler runs again: inbound delivery is at least once, so handlers must be
    idempotent. Messages reach the handlers in bursts (`mqtt/intake.py`): up to
    `inbound_concurrency` are handled at once and acknowledged in the order received.

    paho's network loop runs in paho's thread and reconnects with exponential backoff and jitter;
    `start` returns at once even while the broker is unreachable.

    `credentials` (username, password) replace those of the URL, for the embedded broker's
    service login. With `broker_log`, the service also subscribes to Mosquitto's log topics
    (`mqtt/broker_log.py`) and passes each such message (topic, payload) to it in paho's
    thread, instead of to the handlers.
    """

    def __init__(
        self,
        *,
        settings: MqttSettings,
        database: Database,
        resolve_tenant: ResolveTenant,
        handlers: Sequence[tuple[str, TopicHandler]],
        registry: CollectorRegistry | None,
        outbox_lease: timedelta = LEASE,
        credentials: tuple[str, str] | None = None,
        broker_log: Callable[[str, bytes], None] | None = None,
    ) -> None:
        self._settings = settings
        self._database = database
        self._address = broker_address(settings)
        if credentials is not None:
            self._address = replace(self._address, username=credentials[0], password=credentials[1])
        self._broker_log = broker_log
        # Built here so that unreadable TLS files stop the platform at start-up, not paho's thread.
        self._tls = tls_context(settings) if self._address.tls else None
        self._outbox_lease = outbox_lease
        self._metrics = MqttMetrics(registry)
        self._router = InboundRouter(
            handlers=handlers, resolve_tenant=resolve_tenant, metrics=self._metrics
        )
        self._backoff = Backoff(settings.reconnect_min_delay, settings.reconnect_max_delay)
        self._courier: OutboxCourier | None = None
        self._client: PlatformClient | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._intake: Intake | None = None
        self._connected = False
        self._connected_event: asyncio.Event | None = None
        self._connection = 0  # counts successful connections; written by paho's thread only
        self._subscribe_mid: int | None = None
        self._stopping = False

    @property
    def connected(self) -> bool:
        """True while the session is up and its subscriptions are confirmed."""
        return self._connected

    async def wait_connected(self) -> None:
        """Return once the service is connected (use with a timeout)."""
        if self._connected_event is None:
            raise RuntimeError("MqttService is not started")
        await self._connected_event.wait()

    async def start(self) -> None:
        """Start connecting in the background and the outbox and inbound loops."""
        if self._client is not None:
            raise RuntimeError("MqttService is already started")
        self._loop = asyncio.get_running_loop()
        self._connected_event = asyncio.Event()
        self._stopping = False
        self._courier = OutboxCourier(
            database=self._database,
            send=self._send,
            owner=self._settings.client_id,
            batch=self._settings.outbox_batch,
            inflight=self._settings.inflight,
            metrics=self._metrics,
            lease=self._outbox_lease,
        )
        intake = Intake(
            router=self._router,
            acknowledge=self._acknowledge,
            call_in_loop=self._call_in_loop,
            capacity=self._settings.inbound_concurrency,
            backlog=self._settings.inbound_backlog,
        )
        self._intake = intake
        client = new_client(self._settings, self._address, self._tls)
        client.on_connect = self._on_connect
        client.on_connect_fail = self._on_connect_fail
        client.on_disconnect = self._on_disconnect
        client.on_subscribe = self._on_subscribe
        client.on_publish = self._on_publish
        client.on_message = lambda _client, _userdata, message: self._on_message(intake, message)
        delay = self._backoff.next_delay()
        client.reconnect_delay_set(delay, delay)  # type: ignore[arg-type]  # paho says int
        self._metrics.connected.set(0)
        # connect_async only records the address: the first attempt happens in paho's thread,
        # so an unreachable broker cannot hold up the platform's start.
        client.connect_async(self._address.host, self._address.port, self._settings.keepalive)
        self._client = client
        client.loop_start()
        self._tasks = [
            asyncio.create_task(self._courier.run(), name="mqtt-outbox"),
            asyncio.create_task(intake.run(), name="mqtt-inbound"),
        ]
        logger.info("MQTT connecting to %s:%s", self._address.host, self._address.port)

    async def stop(self, timeout: float) -> None:  # noqa: ASYNC109 - a grace period, not a deadline
        """Flush the outbox for up to `timeout` seconds, disconnect and release unsent rows."""
        client, courier = self._client, self._courier
        if client is None or courier is None:
            return
        with anyio.move_on_after(timeout):
            await courier.drain()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        if self._intake is not None:
            self._intake.close()  # paho's thread may wait for room in the hand-over
        self._stopping = True
        client.disconnect()
        await anyio.to_thread.run_sync(client.loop_stop)
        self._client = None
        self._set_connected(False)
        try:
            await courier.release()
        except Exception:
            # The rows stay leased to this client id: they go out when it starts again, or by
            # another process once the lease has run out.
            logger.exception("MQTT outbox leases could not be released")
        logger.info("MQTT disconnected")

    def enqueue(
        self,
        session: Session,
        *,
        tenant: TenantRef | None,
        topic: str,
        payload: bytes,
        qos: int = 1,
        retain: bool = False,
    ) -> None:
        """Add a publish to the outbox in the caller's transaction; it is sent after the commit."""
        if qos not in (0, 1, 2):
            raise ValueError(f"MQTT QoS must be 0, 1 or 2, not {qos!r}")
        name = full_topic(tenant.slug if tenant is not None else None, topic)
        add_entry(session, topic=name, payload=bytes(payload), qos=qos, retain=retain)
        if not event.contains(session, "after_commit", self._committed):
            event.listen(session, "after_commit", self._committed)

    def enqueue_many(
        self,
        session: Session,
        *,
        tenant: TenantRef | None,
        messages: Sequence[tuple[str, bytes]],
        qos: int = 1,
    ) -> None:
        """Add many publishes (topic, payload) to the outbox in one statement; sent after the
        commit, in this order."""
        if qos not in (0, 1, 2):
            raise ValueError(f"MQTT QoS must be 0, 1 or 2, not {qos!r}")
        slug = tenant.slug if tenant is not None else None
        add_entries(
            session,
            [(full_topic(slug, topic), bytes(payload)) for topic, payload in messages],
            qos=qos,
            retain=False,
        )
        if not event.contains(session, "after_commit", self._committed):
            event.listen(session, "after_commit", self._committed)

    async def publish(
        self,
        *,
        tenant: TenantRef | None,
        topic: str,
        payload: bytes,
        qos: int = 1,
        retain: bool = False,
    ) -> None:
        """Enqueue a publish in a transaction of its own."""

        def write() -> None:
            with self._database.write() as session:
                self.enqueue(
                    session, tenant=tenant, topic=topic, payload=payload, qos=qos, retain=retain
                )

        await anyio.to_thread.run_sync(write)

    # --- event loop side ---------------------------------------------------------------------

    def _acknowledge(self, messages: Sequence[Received]) -> None:
        client = self._client
        if client is None:
            return
        # After a reconnect the broker sends the message again; acknowledging the old copy on
        # the new connection could hit an unrelated packet id.
        connection = self._connection
        client.ack_many([m.mid for m in messages if m.qos == 1 and m.connection == connection])

    def _send(self, message: OutboxMessage) -> int | None:
        client = self._client
        if client is None:
            return None
        info = client.publish(
            message.topic, message.payload, qos=message.qos, retain=message.retain
        )
        if info.rc in (paho.MQTT_ERR_SUCCESS, paho.MQTT_ERR_NO_CONN):
            return info.mid  # with NO_CONN paho keeps the message and sends it on reconnect
        logger.warning("paho refused outbox row %s: %s", message.id, paho.error_string(info.rc))
        return None

    def _set_connected(self, connected: bool) -> None:
        self._connected = connected
        self._metrics.connected.set(1 if connected else 0)
        if self._connected_event is not None:
            if connected:
                self._connected_event.set()
            else:
                self._connected_event.clear()
        if self._courier is not None:
            self._courier.set_connected(connected)

    def _committed(self, _session: Session) -> None:
        self._call_in_loop(self._wake_courier)

    def _wake_courier(self) -> None:
        if self._courier is not None:
            self._courier.wake()

    def _call_in_loop(self, callback: Callable[..., None], *args: Any) -> None:
        """Run `callback` on the event loop; callable from any thread."""
        loop = self._loop
        if loop is None:
            return
        with contextlib.suppress(RuntimeError):  # the loop is closed: nothing left to tell
            loop.call_soon_threadsafe(callback, *args)

    # --- paho's thread ---------------------------------------------------------------------

    def _on_connect(
        self,
        client: paho.Client,
        _userdata: object,
        flags: paho.ConnectFlags,
        reason: ReasonCode,
        _properties: object,
    ) -> None:
        if reason.is_failure:
            logger.warning("MQTT broker refused the connection: %s", reason)
            return
        self._backoff.reset()
        self._connection += 1
        logger.info("MQTT connected (session present: %s)", flags.session_present)
        if self._broker_log is not None:
            client.subscribe([(topic, 0) for topic in LOG_TOPICS])
        subscriptions = self._router.subscriptions()
        if not subscriptions:
            self._call_in_loop(self._set_connected, True)
            return
        # Resubscribe on every connect: the broker may have lost the session.
        _rc, self._subscribe_mid = client.subscribe(subscriptions)

    def _on_subscribe(
        self,
        _client: paho.Client,
        _userdata: object,
        mid: int,
        reasons: list[ReasonCode],
        _properties: object,
    ) -> None:
        if mid != self._subscribe_mid:
            if any(reason.is_failure for reason in reasons):
                logger.error("MQTT broker refused a subscription to its log topics: %s", reasons)
            return
        for (topic_filter, _qos), reason in zip(
            self._router.subscriptions(), reasons, strict=False
        ):
            if reason.is_failure:
                logger.error("MQTT broker refused the subscription %r: %s", topic_filter, reason)
        self._call_in_loop(self._set_connected, True)

    def _on_disconnect(
        self,
        client: paho.Client,
        _userdata: object,
        _flags: paho.DisconnectFlags,
        reason: ReasonCode,
        _properties: object,
    ) -> None:
        self._call_in_loop(self._set_connected, False)
        if self._stopping:
            return
        delay = self._next_delay(client)
        logger.warning("MQTT connection lost (%s); reconnecting in %.1f s", reason, delay)

    def _on_connect_fail(self, client: paho.Client, _userdata: object) -> None:
        # paho calls this while handling the connection's OSError (refused, timed out, TLS
        # handshake failed) without passing it on; the reason is what an operator needs.
        reason = sys.exc_info()[1] or "unknown reason"
        delay = self._next_delay(client)
        logger.warning(
            "MQTT broker %s:%s unreachable (%s); retrying in %.1f s",
            self._address.host,
            self._address.port,
            reason,
            delay,
        )

    def _next_delay(self, client: paho.Client) -> float:
        # paho's own backoff has no jitter: hand it our delay as both its floor and its ceiling.
        delay = self._backoff.next_delay()
        client.reconnect_delay_set(delay, delay)  # type: ignore[arg-type]  # paho says int
        return delay

    def _on_publish(
        self,
        _client: paho.Client,
        _userdata: object,
        mid: int,
        _reason: ReasonCode,
        _properties: object,
    ) -> None:
        courier = self._courier
        if courier is not None:
            self._call_in_loop(courier.acknowledged, mid)

    def _on_message(self, intake: Intake, message: paho.MQTTMessage) -> None:
        try:
            topic: str | None = message.topic
        except UnicodeDecodeError:
            topic = None
        if self._broker_log is not None and topic is not None and topic.startswith("$SYS/"):
            try:
                self._broker_log(topic, bytes(message.payload))
            except Exception:  # an exception would end paho's network thread
                logger.exception("MQTT broker log message on %r could not be read", topic)
            return
        received = Received(
            topic=topic,
            payload=bytes(message.payload),
            qos=message.qos,
            retain=message.retain,
            mid=message.mid,
            connection=self._connection,
        )
        intake.arrive(received)

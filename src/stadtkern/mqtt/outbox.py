"""The durable outbox: rows written in the caller's transaction, deleted after the PUBACK."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Collection
from dataclasses import dataclass

import anyio
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from stadtkern.core.models import MqttOutboxEntry
from stadtkern.db.database import Database
from stadtkern.mqtt.metrics import MqttMetrics

logger = logging.getLogger(__name__)

POLL_SECONDS = 1.0  # fallback for commits whose wake-up was missed (other processes, crashes)


@dataclass(frozen=True, slots=True)
class OutboxMessage:
    """One outbox row, detached from its session."""

    id: int
    topic: str
    payload: bytes
    qos: int
    retain: bool


def add_entry(session: Session, *, topic: str, payload: bytes, qos: int, retain: bool) -> None:
    """Add an outbox row inside the caller's transaction."""
    session.add(MqttOutboxEntry(topic=topic, payload=payload, qos=qos, retain=retain, attempts=0))


def claim(
    database: Database, *, delivered: Collection[int], exclude: Collection[int], limit: int
) -> tuple[list[OutboxMessage], int]:
    """Delete delivered rows, take the next rows to send (counting an attempt) and the depth."""
    with database.write() as session:
        if delivered:
            session.execute(delete(MqttOutboxEntry).where(MqttOutboxEntry.id.in_(delivered)))
        messages: list[OutboxMessage] = []
        if limit > 0:
            query = select(MqttOutboxEntry).order_by(MqttOutboxEntry.id).limit(limit)
            if exclude:
                query = query.where(MqttOutboxEntry.id.not_in(exclude))
            messages = [
                OutboxMessage(row.id, row.topic, row.payload, row.qos, row.retain)
                for row in session.scalars(query)
            ]
        if messages:
            session.execute(
                update(MqttOutboxEntry)
                .where(MqttOutboxEntry.id.in_([message.id for message in messages]))
                .values(attempts=MqttOutboxEntry.attempts + 1)
            )
        depth = session.scalar(select(func.count()).select_from(MqttOutboxEntry)) or 0
    return messages, depth


Send = Callable[[OutboxMessage], int | None]


class OutboxCourier:
    """Carries outbox rows to the broker, keeping at most `inflight` awaiting acknowledgement.

    All methods run on the event loop; the service forwards paho's callbacks there. Rows handed
    to paho stay in the table until their PUBACK arrives (paho's on_publish), so a publish cut
    short by a crash or a stop is sent again by the next start: delivery is at-least-once.
    Rows are read in id order; a row whose transaction commits after a later one is sent late.
    """

    def __init__(
        self,
        *,
        database: Database,
        send: Send,
        batch: int,
        inflight: int,
        metrics: MqttMetrics,
    ) -> None:
        self._database = database
        self._send = send
        self._batch = batch
        self._inflight = inflight
        self._metrics = metrics
        self._in_flight: dict[int, OutboxMessage] = {}  # paho message id -> row
        self._delivered: list[int] = []
        self._connected = False
        self._wake = asyncio.Event()
        self._empty = asyncio.Event()

    def wake(self) -> None:
        """Look at the outbox now (a transaction with new rows committed)."""
        self._wake.set()

    def set_connected(self, connected: bool) -> None:
        """Follow the connection state; sending only happens while connected."""
        self._connected = connected
        if not connected:
            # paho re-sends QoS 1/2 publishes after reconnecting (persistent session), but a
            # QoS 0 publish lost with the connection never gets its callback: send it again.
            for mid in [mid for mid, row in self._in_flight.items() if row.qos == 0]:
                del self._in_flight[mid]
        self._wake.set()

    def acknowledged(self, mid: int) -> None:
        """The broker acknowledged paho message `mid`; its row may go."""
        message = self._in_flight.pop(mid, None)
        if message is None:
            return
        self._delivered.append(message.id)
        self._metrics.published.inc()
        self._wake.set()

    async def drain(self) -> None:
        """Return once the outbox is empty (call with a timeout)."""
        self._empty.clear()
        self._wake.set()
        await self._empty.wait()

    async def run(self) -> None:
        """Deliver until cancelled."""
        while True:
            self._wake.clear()
            try:
                await self._round()
            except Exception:
                logger.exception("MQTT outbox round failed; retrying in %s s", POLL_SECONDS)
            with anyio.move_on_after(POLL_SECONDS):
                await self._wake.wait()

    async def _round(self) -> None:
        room = self._inflight - len(self._in_flight) if self._connected else 0
        limit = min(self._batch, max(room, 0))
        delivered, self._delivered = self._delivered, []
        exclude = [message.id for message in self._in_flight.values()]
        try:
            messages, depth = await anyio.to_thread.run_sync(
                lambda: claim(self._database, delivered=delivered, exclude=exclude, limit=limit)
            )
        except BaseException:
            self._delivered.extend(delivered)
            raise
        self._metrics.outbox_depth.set(depth)
        if depth == 0:
            self._empty.set()
        for message in messages:
            # Stop at the first row paho did not take, so that later rows cannot overtake it.
            if not self._connected or not self._hand_over(message):
                break
        if len(messages) == limit > 0:
            self._wake.set()  # a full batch: more rows may be waiting

    def _hand_over(self, message: OutboxMessage) -> bool:
        try:
            mid = self._send(message)
        except ValueError:
            # paho refuses what can never be sent (payload beyond the protocol's limit);
            # keeping the row would block the outbox for ever.
            logger.exception("MQTT outbox row %s can never be sent; deleting it", message.id)
            self._metrics.dropped.labels(reason="unsendable").inc()
            self._delivered.append(message.id)
            return True
        if mid is None:
            return False
        self._in_flight[mid] = message
        return True

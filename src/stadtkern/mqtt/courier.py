"""The outbox courier: leases outbox rows, hands them to paho and deletes them after the PUBACK."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from datetime import timedelta

import anyio

from stadtkern.db.base import utcnow
from stadtkern.db.database import Database
from stadtkern.mqtt.metrics import MqttMetrics
from stadtkern.mqtt.outbox import OutboxMessage, claim, look, release

logger = logging.getLogger(__name__)

POLL_SECONDS = 1.0  # fallback for commits whose wake-up was missed (other processes, crashes)
DEPTH_SECONDS = 5.0  # COUNT(*) reads the whole table: the depth gauge is refreshed this often
LEASE = timedelta(seconds=60)

Send = Callable[[OutboxMessage], int | None]


class OutboxCourier:
    """Carries outbox rows to the broker, keeping at most `inflight` awaiting acknowledgement.

    All methods run on the event loop; the service forwards paho's callbacks there. Rows handed
    to paho stay in the table until their PUBACK arrives (paho's on_publish), so a publish cut
    short by a crash or a stop is sent again later: delivery is at-least-once. The courier sends
    only rows it has leased (see `outbox`) and renews the leases of its rows in flight; rows are
    leased in id order, and a row whose transaction commits after a later one is sent late.

    A round with nothing to do only reads: the write transaction (on SQLite the single writer
    lock) is taken only to delete acknowledged rows, renew leases or lease waiting rows.
    """

    def __init__(
        self,
        *,
        database: Database,
        send: Send,
        owner: str,
        batch: int,
        inflight: int,
        metrics: MqttMetrics,
        lease: timedelta = LEASE,
        poll_seconds: float = POLL_SECONDS,
        depth_seconds: float = DEPTH_SECONDS,
    ) -> None:
        self._database = database
        self._send = send
        self._owner = owner
        self._batch = batch
        self._inflight = inflight
        self._metrics = metrics
        self._lease = lease
        self._poll_seconds = poll_seconds
        self._depth_seconds = depth_seconds
        self._in_flight: dict[int, OutboxMessage] = {}  # paho message id -> row
        self._delivered: list[int] = []
        self._connected = False
        self._wake = asyncio.Event()
        self._empty = asyncio.Event()
        self._renew_at = 0.0  # monotonic time by which the leases in flight are renewed
        self._count_at = 0.0  # monotonic time of the next count for the depth gauge
        self._deleted_since_count = False

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
        """Return once nothing waits for this process: no row to lease, none in flight."""
        self._empty.clear()
        self._wake.set()
        await self._empty.wait()

    async def release(self) -> None:
        """Delete acknowledged rows and give up this process's leases (after the last send)."""
        delivered, self._delivered = self._delivered, []
        await anyio.to_thread.run_sync(
            lambda: release(self._database, owner=self._owner, delivered=delivered)
        )

    async def run(self) -> None:
        """Deliver until cancelled."""
        while True:
            self._wake.clear()
            delay = self._poll_seconds
            try:
                await self._round()
                delay = self._next_round_in()
            except Exception:
                logger.exception("MQTT outbox round failed; retrying in %s s", delay)
            with anyio.move_on_after(delay):
                await self._wake.wait()

    async def _round(self) -> None:
        room = self._inflight - len(self._in_flight) if self._connected else 0
        limit = min(self._batch, max(room, 0))
        delivered, self._delivered = self._delivered, []
        in_flight = [message.id for message in self._in_flight.values()]
        clock = time.monotonic()
        renew = in_flight if clock >= self._renew_at else []
        # At the end of a burst the gauge drops at once; otherwise it may lag by depth_seconds.
        count = clock >= self._count_at or (self._deleted_since_count and not in_flight)
        if not delivered and not renew:
            outlook = await anyio.to_thread.run_sync(
                lambda: look(
                    self._database, owner=self._owner, exclude=in_flight, now=utcnow(), count=count
                )
            )
            self._record_depth(outlook.depth, clock)
            if not outlook.claimable or limit == 0:
                if not outlook.claimable and not self._in_flight and not self._delivered:
                    self._empty.set()
                return
            count = False
        try:
            claimed = await anyio.to_thread.run_sync(
                lambda: claim(
                    self._database,
                    owner=self._owner,
                    lease=self._lease,
                    delivered=delivered,
                    renew=renew,
                    exclude=in_flight,
                    limit=limit,
                    now=utcnow(),
                    count=count,
                )
            )
        except BaseException:
            self._delivered.extend(delivered)
            raise
        if delivered:
            self._deleted_since_count = True
        self._record_depth(claimed.depth, clock)
        if renew or (claimed.messages and not in_flight):
            # The oldest lease in flight is now at most a third of its length from renewal.
            self._renew_at = clock + self._lease.total_seconds() / 3
        for message in claimed.messages:
            # Stop at the first row paho did not take, so that later rows cannot overtake it.
            if not self._connected or not self._hand_over(message):
                return
        if len(claimed.messages) == limit > 0:
            self._wake.set()  # a full batch: more rows may be waiting
        elif limit > 0 and not self._in_flight and not self._delivered:
            self._empty.set()  # the claim found nothing (left) to send

    def _next_round_in(self) -> float:
        # Leases shorter than a few polls (tests) are renewed in time as well.
        if not self._in_flight:
            return self._poll_seconds
        return min(self._poll_seconds, max(self._renew_at - time.monotonic(), 0.0))

    def _record_depth(self, depth: int | None, clock: float) -> None:
        if depth is None:
            return
        self._metrics.outbox_depth.set(depth)
        self._count_at = clock + self._depth_seconds
        self._deleted_since_count = False

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

"""The queue between MQTT and the database for lantern reports.

Each report's MQTT handler waits until the batch holding it has committed; only then does the
platform acknowledge the message to the broker. A failed batch fails its handlers, and the
broker delivers those reports again.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime

from anyio import to_thread

from stadtkern.db import Database
from stadtkern.modules.contract import InboundMessage
from stadtkern.warning.reports import (
    Arrived,
    StatusSink,
    Tally,
    apply_reports,
    open_reports,
)

log = logging.getLogger(__name__)
GATHER_SECONDS = 0.02  # how long the first report of a batch waits for others


class ReportDesk:
    """Batches lantern reports: at most `batch_rows` per transaction."""

    def __init__(
        self, database: Database, *, batch_rows: int, observations: StatusSink | None = None
    ) -> None:
        self.database = database
        self.batch_rows = batch_rows
        self.observations = observations
        self.totals = Tally()
        self._queue: list[tuple[Arrived, asyncio.Future[None]]] = []
        self._wake: asyncio.Event | None = None

    def _event(self) -> asyncio.Event:
        if self._wake is None:
            self._wake = asyncio.Event()
        return self._wake

    async def handle(self, message: InboundMessage) -> None:
        """The MQTT handler: returns once the report is written (or raises)."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queue.append((Arrived(message.tenant, message.topic, message.payload), future))
        self._event().set()
        await future

    async def run(self) -> None:
        """Background task: write what arrives, batch by batch."""
        wake = self._event()
        while True:
            await wake.wait()
            wake.clear()
            await asyncio.sleep(GATHER_SECONDS)
            await self.drain()

    async def drain(self) -> None:
        """Write everything queued now."""
        while self._queue:
            batch, self._queue = self._queue[: self.batch_rows], self._queue[self.batch_rows :]
            try:
                tally = await to_thread.run_sync(self._write, [item for item, _ in batch])
            except Exception as error:
                log.exception(
                    "writing %d lantern reports failed; the broker resends them", len(batch)
                )
                for _, future in batch:
                    if not future.done():
                        future.set_exception(error)
                continue
            self.totals.acks += tally.acks
            self.totals.heartbeats += tally.heartbeats
            self.totals.dropped += tally.dropped
            for _, future in batch:
                if not future.done():
                    future.set_result(None)

    def _write(self, items: list[Arrived]) -> Tally:
        # Signatures are checked outside the write transaction: on SQLite, the one writer
        # (which the outbox sender needs too) is held only for applying the reports.
        with self.database.read() as session:
            opened, dropped = open_reports(session, items)
        with self.database.write() as session:
            tally = apply_reports(session, opened, datetime.now(UTC), self.observations)
        tally.dropped += dropped
        return tally

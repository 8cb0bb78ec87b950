"""The console's live feed: one channel per town with watchers, fanning new values out.

Why this shape. Sensors report over MQTT (MQTT Create) or HTTP; both end in the ingest
pipeline, which tells the feed after each commit which towns it wrote
(`IngestPipeline.on_commit`: one set lookup per batch, nothing per Observation). A woken
channel reads what changed from the latest-value table (`live_data.changed_since`, one
query per wake-up, at most every `MIN_GAP_SECONDS`), so a burst of 100,000 Observations
costs the same one read, and every value sent is the stored latest one. The channel also
reads every `POLL_SECONDS` without being woken: that carries changes made by other server
processes and by the general writer (PATCH, DELETE, nested creates).

Each watcher keeps at most one pending value per Datastream (newer ones replace older
ones), so its memory is bounded by the town's Datastreams; a watcher that has not taken
its values for `SLOW_SECONDS` is dropped (its stream ends, the browser reconnects and
catches up from its last event id). Channels exist only while somebody watches.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Iterable

from stadtkern.db import Database
from stadtkern.db.threads import run_to_end
from stadtkern.errors import Unavailable
from stadtkern.web import live_data
from stadtkern.web.live_data import LiveValue

log = logging.getLogger(__name__)
POLL_SECONDS = 5.0  # read without being woken (other processes, the general writer)
MIN_GAP_SECONDS = 1.0  # at most one read a second per town, however busy the ingest
# Ids read again on PostgreSQL, where two transactions may commit out of id order (SQLite's
# single writer hands them out in commit order).
OVERLAP_SECONDS = 5.0
SLOW_SECONDS = 30.0  # a watcher that took nothing for this long is dropped


class Watcher:
    """One open live stream: the Things it shows and the values waiting for it."""

    def __init__(self, tenant_id: int, things: frozenset[int] | None) -> None:
        self.tenant_id = tenant_id
        self.things = things
        self.cursor = 0  # every value up to this Observation id has been handed over
        self.closed = False
        self._pending: dict[int, LiveValue] = {}
        self._waiting_since: float | None = None
        self._ready = asyncio.Event()

    def offer(self, values: Iterable[LiveValue], cursor: int, now: float) -> None:
        """Keep the values of this watcher's Things, newest per Datastream."""
        if self.closed:
            return
        for value in values:
            if self.things is None or value.thing_id in self.things:
                self._pending[value.datastream_id] = value
        self.cursor = max(self.cursor, cursor)
        if not self._pending:
            return
        if self._waiting_since is None:
            self._waiting_since = now
        elif now - self._waiting_since > SLOW_SECONDS:
            self.close()  # a slow client: its browser reconnects and catches up
            return
        self._ready.set()

    async def take(self, wait_s: float) -> list[LiveValue] | None:
        """The values waiting (after up to `wait_s`; [] if none came); None once closed."""
        if not self._pending and not self.closed:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._ready.wait(), wait_s)
        if self.closed:
            return None
        values = sorted(self._pending.values(), key=lambda value: value.observation_id)
        self._pending.clear()
        self._waiting_since = None
        self._ready.clear()
        return values

    def close(self) -> None:
        """End the stream: what waits is dropped, `take` answers None."""
        self.closed = True
        self._pending.clear()
        self._ready.set()


class _Channel:
    """A town's reads of the latest-value table, shared by all its watchers."""

    def __init__(self, feed: LiveFeed, tenant_id: int) -> None:
        self.feed = feed
        self.tenant_id = tenant_id
        self.watchers: set[Watcher] = set()
        self.cursor = 0
        self.sent: dict[int, int] = {}  # Datastream -> Observation id last handed out
        self.marks: deque[tuple[float, int]] = deque()  # (when, cursor) for the overlap
        self.woken = asyncio.Event()
        self.started = asyncio.Event()
        self.task = asyncio.create_task(self._run(), name=f"live-feed:{tenant_id}")

    async def _run(self) -> None:
        while not self.started.is_set():
            try:
                self.sent = await run_to_end(_current_ids, self.feed.database, self)
            except Exception:
                log.exception("the live feed of tenant %s could not start; trying again", self)
                await asyncio.sleep(self.feed.poll_seconds)
                continue
            self.cursor = max(self.sent.values(), default=0)
            self.marks.append((time.monotonic(), self.cursor))
            self.started.set()
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.woken.wait(), self.feed.poll_seconds)
            self.woken.clear()
            try:
                await self._read()
            except Exception:
                log.exception("the live feed of tenant %s could not read; trying again", self)
            await asyncio.sleep(self.feed.min_gap_seconds)

    async def _read(self) -> None:
        now = time.monotonic()
        overlap = 0.0 if self.feed.database.is_sqlite else OVERLAP_SECONDS
        while len(self.marks) > 1 and now - self.marks[1][0] >= overlap:
            self.marks.popleft()
        found = await run_to_end(_changed_since, self.feed.database, self, self.marks[0][1])
        fresh = [v for v in found if self.sent.get(v.datastream_id) != v.observation_id]
        for value in fresh:
            self.sent[value.datastream_id] = value.observation_id
            self.cursor = max(self.cursor, value.observation_id)
        self.marks.append((time.monotonic(), self.cursor))
        for watcher in list(self.watchers):
            watcher.offer(fresh, self.cursor, now)
            if watcher.closed:
                self.feed.leave(watcher)

    def __str__(self) -> str:
        return str(self.tenant_id)


def _current_ids(database: Database, channel: _Channel) -> dict[int, int]:
    with database.read() as session:
        return live_data.current_ids(session, channel.tenant_id)


def _changed_since(database: Database, channel: _Channel, cursor: int) -> list[LiveValue]:
    with database.read() as session:
        return live_data.changed_since(session, channel.tenant_id, cursor)


class LiveFeed:
    """The process's live channels, one per town that somebody watches."""

    def __init__(
        self,
        database: Database,
        *,
        poll_seconds: float = POLL_SECONDS,
        min_gap_seconds: float = MIN_GAP_SECONDS,
    ) -> None:
        self.database = database
        self.poll_seconds = poll_seconds
        self.min_gap_seconds = min_gap_seconds
        self.closed = False
        self._channels: dict[int, _Channel] = {}
        self._watched: frozenset[int] = frozenset()  # read by the ingest's writer thread
        self._loop: asyncio.AbstractEventLoop | None = None

    def committed(self, tenants: frozenset[int]) -> None:
        """The ingest committed Observations of these towns (any thread; returns at once)."""
        loop, woken = self._loop, tenants & self._watched
        if loop is None or not woken:
            return
        with contextlib.suppress(RuntimeError):  # the loop has closed: nobody watches
            loop.call_soon_threadsafe(self._wake, woken)

    def _wake(self, tenants: frozenset[int]) -> None:
        for tenant_id in tenants:
            channel = self._channels.get(tenant_id)
            if channel is not None:
                channel.woken.set()

    async def join(
        self, tenant_id: int, things: frozenset[int] | None, *, start_within_s: float = 10.0
    ) -> Watcher:
        """A watcher of the town's new values (of these Things; None: all)."""
        if self.closed:
            raise Unavailable("the platform is shutting down")
        self._loop = asyncio.get_running_loop()
        channel = self._channels.get(tenant_id)
        if channel is None:
            channel = self._channels[tenant_id] = _Channel(self, tenant_id)
            self._watched = frozenset(self._channels)
        watcher = Watcher(tenant_id, things)
        channel.watchers.add(watcher)
        try:
            await asyncio.wait_for(channel.started.wait(), start_within_s)
        except TimeoutError:
            self.leave(watcher)
            raise Unavailable("the live values cannot be read right now") from None
        watcher.cursor = channel.cursor
        return watcher

    def leave(self, watcher: Watcher) -> None:
        """The stream ended; the town's channel stops with its last watcher."""
        watcher.close()
        channel = self._channels.get(watcher.tenant_id)
        if channel is None:
            return
        channel.watchers.discard(watcher)
        if not channel.watchers:
            channel.task.cancel()
            del self._channels[watcher.tenant_id]
            self._watched = frozenset(self._channels)

    def watching(self) -> dict[int, int]:
        """Town id -> open streams (for tests and metrics)."""
        return {tenant_id: len(c.watchers) for tenant_id, c in self._channels.items()}

    async def close(self) -> None:
        """End every stream and channel (the platform stops)."""
        self.closed = True
        channels = list(self._channels.values())
        self._channels.clear()
        self._watched = frozenset()
        for channel in channels:
            for watcher in channel.watchers:
                watcher.close()
            channel.task.cancel()
        for channel in channels:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await channel.task

"""From paho's network thread to the handlers: bursts, a bounded hand-over, ordered PUBACKs."""

from __future__ import annotations

import asyncio
import collections
import logging
import threading
from collections.abc import Callable, Sequence

from stadtkern.mqtt.inbound import InboundRouter, Received

logger = logging.getLogger(__name__)
# How long paho's thread waits at a time for room in a full hand-over before it looks again
# whether the intake was closed.
ROOM_WAIT_SECONDS = 0.5


class Intake:
    """Hands messages from paho's thread to the event loop and acknowledges them in order.

    Waking the event loop costs a write to its self-pipe: one wake-up carries every message
    that arrived in the meantime, and the router gets them as one burst (the SensorThings
    ingest stores a burst as one submission). At most `capacity` messages are being handled
    at once; each is acknowledged once it and every message before it are done (MQTT 3.1.1,
    4.6: PUBACKs in the order of the PUBLISHes), so a message that waits for its commit does
    not hold up the handling of those behind it, only their acknowledgement.

    At most `backlog` messages wait between paho's thread and the event loop: beyond that,
    paho's thread waits for room and reads no more from the broker. With QoS 1 the broker's
    in-flight window (Mosquitto's `max_inflight_messages`) bounds the unacknowledged
    messages of the session anyway; the bound holds for QoS 0 floods too, and keeps the
    memory of a platform that cannot keep up capped.
    """

    def __init__(
        self,
        *,
        router: InboundRouter,
        acknowledge: Callable[[Sequence[Received]], None],
        call_in_loop: Callable[..., None],
        capacity: int,
        backlog: int,
    ) -> None:
        self._router = router
        self._acknowledge = acknowledge
        self._call_in_loop = call_in_loop
        self.capacity = capacity
        self.backlog = max(backlog, 1)
        self._waiting: collections.deque[Received] = collections.deque()
        self._lock = threading.Lock()
        self._room = threading.Condition(self._lock)
        self._scheduled = False
        self._paho_waits = False
        self._closed = False
        self._ready = asyncio.Event()
        self._freed = asyncio.Event()
        self._in_hand = 0  # taken from the hand-over, not yet acknowledged or given up

    @property
    def in_hand(self) -> int:
        """Messages being handled or waiting for those before them (event loop only)."""
        return self._in_hand

    @property
    def waiting(self) -> int:
        """Messages handed over by paho's thread and not yet taken."""
        return len(self._waiting)

    def arrive(self, message: Received) -> None:
        """Called in paho's thread for every message; waits while the hand-over is full."""
        with self._room:
            while len(self._waiting) >= self.backlog and not self._closed:
                self._paho_waits = True
                self._room.wait(ROOM_WAIT_SECONDS)
            self._paho_waits = False
            if self._closed:
                return  # not acknowledged: the broker delivers it again
            self._waiting.append(message)
            if self._scheduled:
                return
            self._scheduled = True
        self._call_in_loop(self._wake)

    def close(self) -> None:
        """Take nothing more; release paho's thread if it waits for room."""
        with self._room:
            self._closed = True
            self._waiting.clear()
            self._room.notify_all()

    def _wake(self) -> None:
        with self._lock:
            self._scheduled = False
        self._ready.set()

    def _take(self, most: int) -> list[Received]:
        with self._room:
            count = min(most, len(self._waiting))
            burst = [self._waiting.popleft() for _ in range(count)]
            if burst and self._paho_waits:
                self._room.notify_all()
            return burst

    async def run(self) -> None:
        """Route bursts until cancelled; what is unfinished then stays unacknowledged."""
        order: collections.deque[tuple[list[Received], asyncio.Task[list[bool]]]]
        order = collections.deque()

        def flush(_done: object) -> None:
            acknowledged: list[Received] = []
            while order and order[0][1].done():
                burst, task = order.popleft()
                self._in_hand -= len(burst)
                verdicts = _verdicts(task, len(burst))
                acknowledged += [m for m, ok in zip(burst, verdicts, strict=True) if ok]
            if acknowledged:
                self._acknowledge(acknowledged)
            self._freed.set()

        try:
            while True:
                room = self.capacity - self._in_hand
                if room <= 0:
                    self._freed.clear()
                    await self._freed.wait()
                    continue
                self._ready.clear()
                burst = self._take(room)
                if not burst:
                    await self._ready.wait()
                    continue
                self._in_hand += len(burst)
                task = asyncio.create_task(self._router.route_burst(burst))
                order.append((burst, task))
                task.add_done_callback(flush)
        finally:
            for _burst, task in order:
                task.cancel()


def _verdicts(task: asyncio.Task[list[bool]], count: int) -> list[bool]:
    """Which of the `count` messages of a finished burst may be acknowledged."""
    if task.cancelled():
        return [False] * count
    error = task.exception()
    if error is not None:
        logger.error("MQTT burst failed; its messages stay unacknowledged", exc_info=error)
        return [False] * count
    return task.result()

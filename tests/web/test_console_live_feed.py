"""A live stream's watcher: one pending value per Datastream, its filter, and slow clients."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

from stadtkern.web.live_data import LiveValue
from stadtkern.web.live_feed import SLOW_SECONDS, Watcher

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def _run(test: Callable[[], Coroutine[Any, Any, None]]) -> None:
    """Run the test's coroutine on a loop of its own thread: the session's Playwright keeps an
    event loop running in the main thread once a browser test has started."""
    with ThreadPoolExecutor(1) as pool:
        pool.submit(lambda: asyncio.run(test())).result()


def _value(stream: int, thing: int, observation: int) -> LiveValue:
    return LiveValue(stream, thing, observation, float(observation), "°C", NOW)


def test_a_watcher_keeps_the_newest_value_per_datastream_of_its_things() -> None:
    async def run() -> None:
        watcher = Watcher(1, frozenset({7}))
        watcher.offer([_value(1, 7, 10), _value(2, 8, 11), _value(1, 7, 12)], 12, now=0.0)
        taken = await watcher.take(1.0)
        assert taken == [_value(1, 7, 12)]  # the older value of stream 1 was replaced
        assert watcher.cursor == 12
        assert await watcher.take(0.01) == []  # nothing new: a heartbeat's turn

    _run(run)


def test_a_watcher_that_takes_nothing_for_long_is_dropped() -> None:
    async def run() -> None:
        watcher = Watcher(1, None)
        watcher.offer([_value(1, 7, 10)], 10, now=0.0)
        watcher.offer([_value(2, 7, 11)], 11, now=SLOW_SECONDS / 2)
        assert not watcher.closed  # slow, but not yet too slow
        watcher.offer([_value(3, 7, 12)], 12, now=SLOW_SECONDS + 1)
        assert watcher.closed
        assert await watcher.take(1.0) is None  # the stream ends; the browser catches up

    _run(run)


def test_memory_is_bounded_by_the_datastreams() -> None:
    async def run() -> None:
        watcher = Watcher(1, None)
        for observation in range(10_000):
            watcher.offer([_value(observation % 3, 7, observation)], observation, now=1.0)
        taken = await watcher.take(1.0)
        assert taken is not None
        assert [value.observation_id for value in taken] == [9_997, 9_998, 9_999]

    _run(run)

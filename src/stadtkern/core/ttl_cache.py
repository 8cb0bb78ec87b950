"""A small thread-safe cache whose entries expire: remembered answers for a few seconds.

Used where every request would otherwise repeat the same lookup (which tenant a slug names,
whom an API key belongs to). The price is staleness up to the time to live: a tenant
disabled or a key revoked in another process stops working within that time; this process
forgets at once (`forget`, `clear`).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class TtlCache(Generic[K, V]):
    """At most `size` entries, each kept for `ttl` seconds; `ttl` 0 keeps nothing."""

    def __init__(
        self, ttl: float, size: int = 10_000, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.ttl = ttl
        self.size = size
        self._clock = clock
        self._entries: OrderedDict[K, tuple[float, V]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: K) -> V | None:
        """The remembered value, or None when unknown or expired."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            if entry[0] <= self._clock():
                del self._entries[key]
                return None
            return entry[1]

    def put(self, key: K, value: V) -> None:
        """Remember a value for the time to live (the oldest entry goes when full)."""
        if self.ttl <= 0:
            return
        with self._lock:
            self._entries[key] = (self._clock() + self.ttl, value)
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def forget(self, key: K) -> None:
        """Drop one entry."""
        with self._lock:
            self._entries.pop(key, None)

    def clear(self) -> None:
        """Drop everything (after a change this process made, e.g. a revoked key)."""
        with self._lock:
            self._entries.clear()

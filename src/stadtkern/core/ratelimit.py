"""Rate limit for failed authentications, per client address."""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable

from stadtkern.errors import TooManyRequests


class FailureLimiter:
    """Allows `limit` failures per client within `window` seconds, then refuses until they age.

    It lives in the process: with several platform processes each counts for itself, which
    still bounds guessing to limit times processes per window (documented in operations.md).
    """

    def __init__(
        self,
        *,
        limit: int,
        window: float,
        clock: Callable[[], float] = time.monotonic,
        max_clients: int = 100_000,
    ) -> None:
        self.limit = limit
        self.window = window
        self._clock = clock
        self._max_clients = max_clients
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, client: str, now: float) -> deque[float]:
        failures = self._failures.get(client)
        if failures is None:
            return deque()
        while failures and failures[0] <= now - self.window:
            failures.popleft()
        if not failures:
            del self._failures[client]
        return failures

    def check(self, client: str) -> None:
        """Raise TooManyRequests while the client has used up its failures."""
        now = self._clock()
        with self._lock:
            failures = self._recent(client, now)
            if len(failures) >= self.limit:
                retry = max(1, math.ceil(failures[0] + self.window - now))
                raise TooManyRequests(
                    "too many failed authentication attempts; try again later", retry_after=retry
                )

    def fail(self, client: str) -> None:
        """Count one failed authentication of the client."""
        now = self._clock()
        with self._lock:
            if len(self._failures) >= self._max_clients:
                # Bounded memory under a spray of addresses: forget the oldest client.
                self._failures.pop(next(iter(self._failures)))
            self._failures.setdefault(client, deque()).append(now)

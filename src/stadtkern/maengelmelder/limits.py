"""How many reports one client may send in a window, counted in the process."""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable

from stadtkern.errors import TooManyRequests


class PostLimiter:
    """Allows `limit` reports per client within `window` seconds.

    Like the platform's failure limiter it lives in the process, so with several processes a
    client gets `limit` per process; enough to stop a script flooding a department's inbox.
    """

    def __init__(
        self, *, limit: int, window: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limit = limit
        self.window = window
        self._clock = clock
        self._seen: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def take(self, client: str) -> None:
        """Count one report of the client, or raise TooManyRequests when it used up its share."""
        now = self._clock()
        with self._lock:
            seen = self._seen.setdefault(client, deque())
            while seen and seen[0] <= now - self.window:
                seen.popleft()
            if len(seen) >= self.limit:
                retry = max(1, math.ceil(seen[0] + self.window - now))
                raise TooManyRequests(
                    "too many reports from this client; try later", retry_after=retry
                )
            seen.append(now)
            if len(self._seen) > 100_000:
                self._seen.pop(next(iter(self._seen)))

"""Sliding-window rate limits kept in memory (per process) for the public forms."""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable


class SlidingWindowLimiter:
    """At most ``limit`` hits per ``window`` seconds for each key.

    Memory is bounded: at most ``max_keys`` keys are tracked, the least recently used
    dropped first, so a flood of distinct keys cannot exhaust the process.
    """

    def __init__(
        self,
        limit: int,
        window: float,
        *,
        max_keys: int = 100_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limit = limit
        self.window = window
        self.max_keys = max_keys
        self.clock = clock
        self._hits: OrderedDict[str, deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    def retry_after(self, key: str) -> float | None:
        """Seconds until ``key`` may hit again, or None if it may now (counts nothing)."""
        now = self.clock()
        with self._lock:
            hits = self._hits.get(key)
            live = [t for t in hits or () if t > now - self.window]
            if len(live) < self.limit:
                return None
            return max(1.0, math.ceil(live[0] + self.window - now))

    def hit(self, key: str) -> float | None:
        """Count one hit for ``key``; return None if allowed, else seconds until allowed."""
        now = self.clock()
        with self._lock:
            hits = self._hits.pop(key, None) or deque()
            while hits and hits[0] <= now - self.window:
                hits.popleft()
            if len(hits) >= self.limit:
                self._hits[key] = hits
                return max(1.0, math.ceil(hits[0] + self.window - now))
            hits.append(now)
            self._hits[key] = hits
            while len(self._hits) > self.max_keys:
                self._hits.popitem(last=False)
            return None

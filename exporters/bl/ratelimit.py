"""A token bucket shared by every thread of one client: BL has no documented limit, so we keep our own."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class TokenBucket:
    """Blocks callers so that at most ``burst + rate * t`` acquisitions happen in any span ``t``.

    Each caller reserves its slot under the lock and sleeps outside it, so waiting threads
    queue fairly in reservation order without holding the lock while asleep.
    """

    def __init__(
        self,
        rate_per_s: float,
        burst: int = 1,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if rate_per_s <= 0 or burst < 1:
            raise ValueError("rate must be positive and burst at least 1")
        self._interval = 1.0 / rate_per_s
        self._tolerance = (burst - 1) * self._interval
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        # GCRA: the theoretical arrival time of the next request.
        self._tat = clock()

    @property
    def rate_per_s(self) -> float:
        return 1.0 / self._interval

    def reserve(self) -> float:
        """Reserve the next slot; return how long the caller must wait before using it."""
        with self._lock:
            now = self._clock()
            tat = max(self._tat, now)
            self._tat = tat + self._interval
            return max(0.0, tat - self._tolerance - now)

    def acquire(self) -> None:
        wait = self.reserve()
        if wait > 0:
            self._sleep(wait)

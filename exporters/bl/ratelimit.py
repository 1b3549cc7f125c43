"""Token buckets shared by every thread of one client: BL documents no limit, so we keep our own.

Two of them guard every request (:mod:`exporters.bl.transport`): one per BL company (User-Key), then one for the
whole client. Which one binds depends on how BL counts: if it limits our client id, the client's bucket holds
whatever the companies do; if it limits each company, the per-company bucket keeps each under its limit while
the client's may be raised, so more pods book a midnight faster (docs/performance.md, capacity model).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


def _slot(tat: float, now: float, interval: float, tolerance: float) -> tuple[float, float]:
    """GCRA: (the next theoretical arrival time, how long this caller waits) for one request at ``now``."""
    start = max(tat, now)
    return start + interval, max(0.0, start - tolerance - now)


class _Gcra:
    """What both buckets are built from: at most ``burst + rate * t`` acquisitions in any span ``t``, a clock and a
    sleep (injected by tests), and the one lock their callers reserve under; ``_start`` sets up the arrival times."""

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
        self._start()

    def _start(self) -> None:
        raise NotImplementedError

    @property
    def rate_per_s(self) -> float:
        return 1.0 / self._interval


class TokenBucket(_Gcra):
    """Blocks callers so that at most ``burst + rate * t`` acquisitions happen in any span ``t``.

    Each caller reserves its slot under the lock and sleeps outside it, so waiting threads
    queue fairly in reservation order without holding the lock while asleep.
    """

    def _start(self) -> None:
        # GCRA: the theoretical arrival time of the next request.
        self._tat = self._clock()

    def reserve(self) -> float:
        """Reserve the next slot; return how long the caller must wait before using it."""
        with self._lock:
            self._tat, wait = _slot(self._tat, self._clock(), self._interval, self._tolerance)
            return wait

    def acquire(self) -> None:
        wait = self.reserve()
        if wait > 0:
            self._sleep(wait)


class KeyedTokenBucket(_Gcra):
    """One :class:`TokenBucket` per key (a BL company's User-Key), in one lock and one float per key.

    A key whose bucket has refilled is no different from a key never seen, so it is dropped when the map grows:
    memory follows the companies booking right now, not every company ever booked.
    """

    #: Drop refilled keys once the map holds this many (then twice the keys kept, at least this).
    PRUNE_AT = 1024

    def _start(self) -> None:
        self._tat: dict[str, float] = {}
        self._prune_at = self.PRUNE_AT

    def __len__(self) -> int:
        with self._lock:
            return len(self._tat)

    def reserve(self, key: str) -> float:
        """Reserve ``key``'s next slot; return how long the caller must wait before using it."""
        with self._lock:
            now = self._clock()
            self._tat[key], wait = _slot(self._tat.get(key, now), now, self._interval, self._tolerance)
            if len(self._tat) > self._prune_at:
                self._tat = {k: tat for k, tat in self._tat.items() if tat > now}
                self._prune_at = max(self.PRUNE_AT, 2 * len(self._tat))
            return wait

    def acquire(self, key: str) -> None:
        wait = self.reserve(key)
        if wait > 0:
            self._sleep(wait)

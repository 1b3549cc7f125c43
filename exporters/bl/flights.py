"""Single flight inside one process: threads asking the same question at once wait for one answer (or its
failure) instead of each asking BL. Across processes, :mod:`storage.company_facts` does the same with a lock."""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
T = TypeVar("T")


class _Flight(Generic[T]):
    def __init__(self) -> None:
        self.done = threading.Event()
        self.value: T | None = None
        self.error: BaseException | None = None


class Flights(Generic[K, T]):
    """``run(key, work)``: ``work()``'s answer, computed once for every thread asking about ``key`` meanwhile."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._flights: dict[K, _Flight[T]] = {}

    def run(self, key: K, work: Callable[[], T]) -> tuple[T, bool]:
        """(the answer, whether this thread computed it). ``work``'s exception is raised in every thread."""
        with self._lock:
            flight = self._flights.get(key)
            leader = flight is None
            if flight is None:
                flight = self._flights[key] = _Flight()
        if leader:
            try:
                flight.value = work()  # outside the lock: a slow BL must not hold up other questions
            except BaseException as exc:  # noqa: BLE001 - shared with the waiters, then raised below
                flight.error = exc
            finally:
                with self._lock:
                    if self._flights.get(key) is flight:
                        del self._flights[key]
                flight.done.set()
        else:
            flight.done.wait()  # the leader's work is bounded by the BL client's timeouts and retries
        if flight.error is not None:
            raise flight.error
        return flight.value, leader  # type: ignore[return-value]  # set by the leader when no error

    def in_flight(self, key: K) -> _Flight[T] | None:
        """The flight in progress for ``key``, if any (tests: who waits on it)."""
        with self._lock:
            return self._flights.get(key)

    def detach(self, keys: Callable[[K], bool]) -> None:
        """Flights in progress for the matching keys finish for those already waiting; new askers start anew."""
        with self._lock:
            for key in [k for k in self._flights if keys(k)]:
                del self._flights[key]

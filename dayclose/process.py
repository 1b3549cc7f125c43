"""The consumer process at run time: the Kafka loop, the export workers and the outbox relay, and their bounded
shutdown. :mod:`dayclose.bootstrap` builds it; ``dayclose run`` (:mod:`dayclose.run`) runs it.

    Kafka (sales, commands) ─▶ KafkaLoops ─▶ PostgreSQL (sales, jobs, outbox) ─▶ export workers ─▶ BL
                                              └──▶ OutboxRelay ─▶ Kafka (outcomes, dead letters, commands)

SIGTERM/SIGINT stop the loop (offsets of written batches are committed on close), let workers
finish the export in hand, flush the relay and exit 0, all within DAYCLOSE_SHUTDOWN_TIMEOUT_SECONDS:
a step that does not finish in time (Kafka, PostgreSQL or BL gone or hanging) is cut off and the
process exits 1 at the deadline (:mod:`dayclose.shutdown`). Anything not finished is redone on
restart: jobs are rows, exports have durable identities, the outbox is a table.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any, Protocol

import structlog
from confluent_kafka import Consumer
from prometheus_client.registry import Collector

from dayclose.settings import Settings
from dayclose.shutdown import Deadline, bounded
from storage.backlog import Backlog

log = structlog.get_logger("dayclose.service")


class BoundedCloseConsumer(Consumer):
    """A consumer whose ``close()`` gives up after ``close_timeout()`` seconds: librdkafka's close commits
    the stored offsets and leaves the group, and waits for a coordinator that may be gone. Giving up
    loses nothing: uncommitted offsets are redelivered and ingest is idempotent."""

    close_timeout: Callable[[], float] = staticmethod(lambda: 30.0)
    closed_in_time = True

    def close(self) -> None:
        self.closed_in_time = bounded(super().close, self.close_timeout(), "kafka-consumer-close")


class WorkerPool:
    """N worker threads running export jobs; woken when new jobs are queued, else polling every half second."""

    def __init__(self, run_next_job: Callable[[], bool], threads: int) -> None:
        self.run_next_job = run_next_job
        self.threads = threads
        self._wake = threading.Condition()
        self._stop = threading.Event()
        self._running: list[threading.Thread] = []
        self.last_beat = time.monotonic()

    def wake(self) -> None:
        with self._wake:
            self._wake.notify_all()

    def start(self) -> None:
        for i in range(self.threads):
            t = threading.Thread(target=self._loop, name=f"export-worker-{i}", daemon=True)
            t.start()
            self._running.append(t)

    def stop(self, timeout: float = 30.0) -> bool:
        """Stop taking jobs; wait up to ``timeout`` for the exports in hand. True if every worker ended."""
        self._stop.set()
        self.wake()
        deadline = time.monotonic() + timeout
        for t in self._running:
            t.join(max(0.0, deadline - time.monotonic()))
        return not any(t.is_alive() for t in self._running)

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.last_beat = time.monotonic()
            try:
                did_work = self.run_next_job()
            except Exception:  # noqa: BLE001 - a worker must survive a lost DB connection and try again
                log.exception("worker.error")
                self._stop.wait(1.0)
                continue
            if not did_work:
                with self._wake:
                    self._wake.wait(timeout=0.5)


class _Loops(Protocol):
    """The process's Kafka loops (:class:`dayclose.loops.KafkaLoops`)."""

    @property
    def consumers(self) -> list[Any]: ...

    @property
    def last_beat(self) -> float: ...

    def run(self, stop: threading.Event) -> None: ...

    def join(self, timeout: float) -> bool: ...


class _Relay(Protocol):
    last_beat: float

    def start(self) -> None: ...

    def stop(self, timeout: float = 10.0) -> bool: ...


class _Pool(Protocol):
    def connection(self, timeout: float | None = None) -> AbstractContextManager[Any]: ...

    def close(self, timeout: float = 5.0) -> None: ...


@dataclass
class Service:
    settings: Settings
    pool: _Pool
    loop: _Loops
    workers: WorkerPool
    relay: _Relay
    stop_event: threading.Event
    #: Starts the thread that wakes the workers when jobs are queued (:func:`storage.notify.listen_for_jobs`);
    #: without one, the workers poll.
    listen_for_jobs: Callable[[Callable[[], None], threading.Event], object] | None = None
    deadline: Deadline | None = field(default=None, init=False)
    #: For ``/metrics`` (set by the bootstrap): (unsent outbox rows, age of the oldest), the export backlog, and
    #: the consumer lag fed by librdkafka's statistics.
    outbox_depth: Callable[[], tuple[int, float]] | None = field(default=None, init=False)
    backlog: Callable[[], Backlog] | None = field(default=None, init=False)
    lag: Collector | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        for consumer in self.loop.consumers:
            if isinstance(consumer, BoundedCloseConsumer):
                # Half the deadline at most: the export in hand and the outbox matter more than the commit.
                consumer.close_timeout = lambda: self._deadline().remaining(reserve=self._budget(0.5))

    def run(self) -> bool:
        """Run until :meth:`stop`. True when the shutdown finished every step within the deadline."""
        self.relay.start()
        self.workers.start()
        if self.listen_for_jobs is not None:
            self.listen_for_jobs(self.workers.wake, self.stop_event)
        log.info("service.started", workers=self.workers.threads, group_id=self.settings.kafka.group_id)
        try:
            self.loop.run(self.stop_event)
        finally:
            clean = self._shut_down()
        return clean

    def stop(self) -> None:
        """Start the shutdown (SIGTERM/SIGINT): the loop stops polling and the workers take no new job,
        at once; :meth:`run` then winds down within ``DAYCLOSE_SHUTDOWN_TIMEOUT_SECONDS``."""
        self._deadline()
        self.stop_event.set()
        self.workers.stop(timeout=0)

    def _deadline(self) -> Deadline:
        if self.deadline is None:
            self.deadline = Deadline(self.settings.shutdown_timeout_s)
        return self.deadline

    def _budget(self, share: float) -> float:
        return self.settings.shutdown_timeout_s * share

    def _shut_down(self) -> bool:
        """Each step gets what is left of the deadline, less a reserve for the steps after it."""
        self.stop_event.set()
        deadline = self._deadline()
        loops_ended = self.loop.join(deadline.remaining(reserve=self._budget(0.5)))
        closed = all(getattr(consumer, "closed_in_time", True) for consumer in self.loop.consumers)
        steps = {"kafka-consumer-close": loops_ended and closed}
        steps["export-workers"] = self.workers.stop(deadline.remaining(reserve=self._budget(0.3)))
        steps["outbox-relay"] = self.relay.stop(deadline.remaining(reserve=self._budget(0.15)))
        steps["database-pool"] = bounded(
            lambda: self.pool.close(timeout=1.0), deadline.remaining(reserve=self._budget(0.1)), "database-pool"
        )
        cut_short = sorted(name for name, done in steps.items() if not done)
        took = round(deadline.seconds - deadline.remaining(), 2)
        if cut_short:
            log.warning(
                "service.stopped",
                clean=False,
                cut_short=cut_short,
                took_s=took,
                hint="what was in flight is finished after a restart",
            )
        else:
            log.info("service.stopped", clean=True, took_s=took)
        return not cut_short

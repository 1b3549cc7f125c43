"""The outbox relay: publishes committed outbox rows with an idempotent producer, then marks them sent.

Rows are locked (``FOR UPDATE SKIP LOCKED``) while they are produced, so two replicas never send the
same row at once; a crash between delivery and marking re-sends it (at least once: consumers of the
outcomes topic deduplicate on ``event_id``). It wakes on ``NOTIFY dayclose_outbox``, which PostgreSQL
delivers at commit, so an outcome leaves within milliseconds of being recorded.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import psycopg
import structlog
from confluent_kafka import KafkaError, KafkaException, Message, Producer
from psycopg_pool import ConnectionPool

from dayclose import metrics
from dayclose.db import outbox

log = structlog.get_logger("dayclose.relay")
#: Attempts before an outbox row Kafka keeps refusing is set aside (see the runbook: stuck outbox rows).
MAX_ATTEMPTS = 5
#: Refusals no retry can fix; anything else is transient and never counts against a row.
_PERMANENT = frozenset({KafkaError.MSG_SIZE_TOO_LARGE, KafkaError.INVALID_RECORD, KafkaError.INVALID_MSG,
                        KafkaError.INVALID_MSG_SIZE})
_RELAY_LOCK = 0x6463_6f62  # "dcob": one publishing relay at a time


class OutboxRelay:
    def __init__(self, pool: ConnectionPool[Any], database_url: str, producer_config: dict[str, Any],
                 batch_size: int = 500) -> None:
        self.pool = pool
        self.database_url = database_url
        self._producer_config = {
            **producer_config,
            "enable.idempotence": True,
            "acks": "all",
            "linger.ms": 2,
        }
        self.producer = Producer(self._producer_config)
        self.batch_size = batch_size
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._threads: list[threading.Thread] = []
        self.last_beat = time.monotonic()
        self.sent_total = 0

    def start(self) -> None:
        loop = threading.Thread(target=self._loop, name="outbox-relay", daemon=True)
        loop.start()
        listener = listen(self.database_url, outbox.CHANNEL, self._wake.set, self._stop, "outbox-listener")
        self._threads += [loop, listener]

    def stop(self, timeout: float = 10.0) -> bool:
        """Stop publishing and deliver what is queued, within ``timeout``. True when the threads ended and
        every queued message was delivered; rows not delivered stay unsent and go out after a restart."""
        deadline = time.monotonic() + timeout
        self._stop.set()
        self._wake.set()
        for t in self._threads:
            t.join(max(0.0, deadline - time.monotonic()))
        if any(t.is_alive() for t in self._threads):
            return False
        return self.producer.flush(max(0.0, deadline - time.monotonic())) == 0

    def publish_pending(self) -> int:
        """Send one batch of unsent rows; returns how many were delivered and marked sent.

        Only one relay publishes at a time (a transaction-scoped advisory lock), so outcome events
        leave in outbox order even with several replicas. A row Kafka refuses *for good* (too large,
        invalid) gets its attempt counted and its error kept; past ``MAX_ATTEMPTS`` it is set aside (and
        alerted on) so it cannot block the rows behind it. Anything else (broker down, timeouts) is
        retried on the next pass without counting; a fatal producer error replaces the producer."""
        with self.pool.connection() as conn, conn.transaction():
            leader = conn.execute("SELECT pg_try_advisory_xact_lock(%s)", (_RELAY_LOCK,)).fetchone()
            if not leader or not leader[0]:
                return 0
            rows = conn.execute(
                "SELECT id, topic, key, value FROM outbox WHERE sent_at IS NULL AND attempts < %s "
                "ORDER BY id LIMIT %s FOR UPDATE SKIP LOCKED",
                (MAX_ATTEMPTS, self.batch_size),
            ).fetchall()
            if not rows:
                return 0
            delivered: list[int] = []
            refused: dict[int, str] = {}
            failed = 0
            fatal: list[KafkaError] = []

            def on_delivery(err: KafkaError | None, _msg: Message, row_id: int) -> None:
                nonlocal failed
                if err is None:
                    delivered.append(row_id)
                elif err.code() in _PERMANENT:
                    refused[row_id] = str(err)
                else:
                    failed += 1
                    if err.fatal():
                        fatal.append(err)

            for row_id, topic, key, value in rows:
                try:
                    self.producer.produce(
                        topic, key=bytes(key) if key is not None else None, value=bytes(value),
                        on_delivery=lambda err, msg, rid=row_id: on_delivery(err, msg, rid),
                    )
                except BufferError:
                    break  # local queue full: send what is queued, the rest goes next pass
                except KafkaException as exc:
                    err = exc.args[0] if exc.args else None
                    if isinstance(err, KafkaError) and err.code() not in _PERMANENT:
                        failed += 1
                        if err.fatal():
                            fatal.append(err)
                        break
                    refused[row_id] = str(err or exc)
            remaining = self._flush(30.0)
            if refused or remaining or failed:
                log.warning("relay.delivery_failed", refused=len(refused), undelivered=remaining, failed=failed,
                            error=next(iter(refused.values()), None))
            if fatal:
                log.error("relay.producer_fatal", error=str(fatal[0]))
                self.producer = Producer(self._producer_config)
            if refused:
                conn.execute(
                    "UPDATE outbox SET attempts = attempts + 1, last_error = data.error FROM "
                    "(SELECT unnest(%s::bigint[]) AS id, unnest(%s::text[]) AS error) AS data "
                    "WHERE outbox.id = data.id",
                    (list(refused), [e[:1000] for e in refused.values()]),
                )
            if delivered:
                outbox.mark_sent(conn, delivered)
            self.sent_total += len(delivered)
            metrics.relay_published(len(delivered), len(refused) + remaining + failed)
            return len(delivered)

    def _flush(self, timeout: float) -> int:
        """Wait for deliveries like ``producer.flush(timeout)``, but give up as soon as the relay is told
        to stop (a broker that is gone would otherwise hold the shutdown for the whole timeout)."""
        deadline = time.monotonic() + timeout
        while True:
            remaining: int = self.producer.flush(min(0.5, max(0.0, deadline - time.monotonic())))
            if not remaining or self._stop.is_set() or time.monotonic() >= deadline:
                return remaining

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.last_beat = time.monotonic()
            try:
                sent = self.publish_pending()
            except Exception:  # noqa: BLE001 - lost DB or broker: keep the relay alive and retry
                log.exception("relay.error")
                self._stop.wait(1.0)
                continue
            if sent < self.batch_size:
                self._wake.wait(timeout=1.0)
                self._wake.clear()


def listen(database_url: str, channel: str, on_notify: Callable[[], None], stop: threading.Event,
           name: str) -> threading.Thread:
    """A thread that calls ``on_notify`` on every ``NOTIFY channel`` (from any process; PostgreSQL sends it at
    commit), once after (re)connecting to catch up on what was committed meanwhile, until ``stop``."""

    def run() -> None:
        while not stop.is_set():
            try:
                with psycopg.connect(database_url, autocommit=True) as conn:
                    conn.execute(f"LISTEN {channel}")
                    on_notify()
                    while not stop.is_set():
                        for _ in conn.notifies(timeout=0.5, stop_after=1):
                            on_notify()
            except psycopg.OperationalError:
                log.warning("listener.reconnecting", channel=channel)
                stop.wait(1.0)

    thread = threading.Thread(target=run, name=name, daemon=True)
    thread.start()
    return thread


def listen_for_jobs(database_url: str, on_notify: Callable[[], None], stop: threading.Event) -> threading.Thread:
    """Calls ``on_notify`` whenever export jobs are queued (in any process)."""
    from dayclose.db.sales import JOBS_CHANNEL

    return listen(database_url, JOBS_CHANNEL, on_notify, stop, "jobs-listener")

"""The outbox relay: publishes committed outbox rows with an idempotent producer, then marks them sent.

Rows are locked (``FOR UPDATE SKIP LOCKED``) while they are produced, so two replicas never send the
same row at once; a crash between delivery and marking re-sends it (at least once: consumers of the
outcomes topic deduplicate on ``event_id``). It wakes on ``NOTIFY dayclose_outbox``, which PostgreSQL
delivers at commit, so an outcome leaves within milliseconds of being recorded.
"""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import structlog
from confluent_kafka import KafkaError, KafkaException, Message, Producer

from consumer import metrics
from service.ports import OutboxRow, UnitOfWork

log = structlog.get_logger("dayclose.relay")
#: Starts a thread that calls its first argument whenever outbox rows are committed, until the event is set
#: (:func:`storage.notify.listen_for_outbox`).
Listen = Callable[[Callable[[], None], threading.Event], threading.Thread]
#: Attempts before an outbox row Kafka keeps refusing is set aside (see the runbook: stuck outbox rows).
MAX_ATTEMPTS = 5
#: Refusals no retry can fix; anything else is transient and never counts against a row.
_PERMANENT = frozenset(
    {KafkaError.MSG_SIZE_TOO_LARGE, KafkaError.INVALID_RECORD, KafkaError.INVALID_MSG, KafkaError.INVALID_MSG_SIZE}
)


@dataclass
class _Outcome:
    """What one pass's rows came to: delivered, refused for good (with Kafka's error), failed for now (and the
    fatal errors among those, which replace the producer). Filled in by the delivery callbacks, which run inside
    the relay's own ``flush``, on its thread."""

    delivered: list[int] = field(default_factory=list)
    refused: dict[int, str] = field(default_factory=dict)
    failed: int = 0
    fatal: list[KafkaError] = field(default_factory=list)

    def on_delivery(self, row_id: int, err: KafkaError | None, _msg: Message) -> None:
        if err is None:
            self.delivered.append(row_id)
        elif err.code() in _PERMANENT:
            self.refused[row_id] = str(err)
        else:
            self.transient(err)

    def transient(self, err: KafkaError) -> None:
        self.failed += 1
        if err.fatal():
            self.fatal.append(err)


class OutboxRelay:
    def __init__(
        self, uow: Callable[[], UnitOfWork], listen: Listen, producer_config: dict[str, Any], batch_size: int = 500
    ) -> None:
        self.uow = uow
        self.listen = listen
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
        listener = self.listen(self._wake.set, self._stop)
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
        with self.uow() as uow:
            if not uow.outbox.lock_publisher():
                return 0
            rows = uow.outbox.unsent(self.batch_size, MAX_ATTEMPTS)
            if not rows:
                return 0
            outcome = _Outcome()
            self._produce(rows, outcome)
            remaining = self._flush(30.0)
            if outcome.refused or remaining or outcome.failed:
                log.warning(
                    "relay.delivery_failed",
                    refused=len(outcome.refused),
                    undelivered=remaining,
                    failed=outcome.failed,
                    error=next(iter(outcome.refused.values()), None),
                )
            if outcome.fatal:
                log.error("relay.producer_fatal", error=str(outcome.fatal[0]))
                self.producer = Producer(self._producer_config)
            uow.outbox.count_refusals(outcome.refused)
            if outcome.delivered:
                uow.outbox.mark_sent(outcome.delivered)
            uow.commit()
            self.sent_total += len(outcome.delivered)
            metrics.relay_published(len(outcome.delivered), len(outcome.refused) + remaining + outcome.failed)
            return len(outcome.delivered)

    def _flush(self, timeout: float) -> int:
        """Wait for deliveries like ``producer.flush(timeout)``, but give up as soon as the relay is told
        to stop (a broker that is gone would otherwise hold the shutdown for the whole timeout)."""
        deadline = time.monotonic() + timeout
        while True:
            remaining: int = self.producer.flush(min(0.5, max(0.0, deadline - time.monotonic())))
            if not remaining or self._stop.is_set() or time.monotonic() >= deadline:
                return remaining

    def _produce(self, rows: Sequence[OutboxRow], outcome: _Outcome) -> None:
        """Queue ``rows`` on the producer until its local queue is full or it fails; ``outcome`` hears of each."""
        for row in rows:
            try:
                self.producer.produce(
                    row.topic,
                    key=row.key,
                    value=row.value,
                    on_delivery=functools.partial(outcome.on_delivery, row.id),
                )
            except BufferError:
                break  # local queue full: send what is queued, the rest goes next pass
            except KafkaException as exc:
                err = exc.args[0] if exc.args else None
                if isinstance(err, KafkaError) and err.code() not in _PERMANENT:
                    outcome.transient(err)
                    break
                outcome.refused[row.id] = str(err or exc)

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

"""The Kafka loop: at-least-once consumption with offsets stored only after the database commit.

Each batch from the consumer is decoded, then written in ONE transaction (:mod:`consumer.ingest`): new sales
(idempotent), day closes and commands as export jobs, and for poison messages and conflicting re-sends a
dead-letter record plus a failure event in the outbox. Only after that commit are the batch's offsets stored
(auto-commit then sends them). A crash before the commit redelivers the batch, and the idempotent writes make that
harmless. BL is never called from here (export workers do that from the job queue), so a slow BL cannot push this
loop past ``max.poll.interval.ms``.

Each thread owns its state, and nothing else touches it:

- **the poll thread** (:class:`IngestLoop`): the consumer and every Kafka call, the batch handed to the writer until
  its offsets are stored, the partitions paused while the database is away (:mod:`consumer.pausing`). librdkafka
  runs the rebalance listener (:meth:`~IngestLoop.on_assign`, :meth:`~IngestLoop.on_revoke`,
  :meth:`~IngestLoop.on_lost`) on this thread, inside ``poll()``; it waits a bounded time and does no database work;
- **the writer thread** (:mod:`consumer.writer`): the unit of work, the running totals and the batch being written.

Batches are written while the next are fetched and decoded (psycopg waits on the server without the GIL, so the
database's work overlaps ours). Up to ``max_in_flight`` (2) batches are handed to the writer at once, so that it starts
the next one the moment one commits instead of waiting for this thread to hand it over (measured: ingest ÷ the lean peer
0.870 → 0.948 in ``make bench``, docs/performance.md). Batches commit in order (one writer, taking its work in the order
handed over) and their offsets are stored in that order, each only after its own commit, so a stored offset never
passes an unwritten batch. A write that fails is written again, partitions paused and still polled, before anything
after it: never a skip. The writer refuses to write a batch handed over after one that failed until that one is written
(:class:`~consumer.writer.BatchSkipped`), and each attempt at the failed batch is followed by the batches after it
again, in order, so the database sees them in the order they were consumed (a day's receipts before its day close).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Sequence
from concurrent.futures import Future, wait
from dataclasses import dataclass

import structlog
from confluent_kafka import KafkaException, Message, TopicPartition

from consumer.decode import Decoder
from consumer.ingest import BatchResult
from consumer.kafka_types import ConsumerLike, MessageLike, names
from consumer.pausing import Hold
from consumer.report import report_batch
from consumer.writer import Batch, Writer
from service.ports import StorageUnavailable

log = structlog.get_logger("dayclose.consumer")

#: How long a revocation waits, inside librdkafka's callback, for the batch being written and then for the running
#: totals' flush. A cooperative rebalance waits for every member's callback; a batch of 500 commits in tens of ms,
#: a flush of thousands of store-days in about a second. What takes longer finishes after the callback.
REVOKE_WAIT_S = 5.0
#: The first wait before a write the database could not take is tried again; it doubles up to the second.
RETRY_FIRST_S, RETRY_MAX_S = 0.5, 30.0
#: Batches handed to the writer at once: the one it writes, and the next, ready the moment that one commits.
MAX_IN_FLIGHT = 2


@dataclass
class InFlight:
    """A batch handed to the writer, and its outcome to come (replaced when the write is tried again)."""

    batch: Batch
    future: Future[BatchResult]


class IngestLoop:
    def __init__(
        self,
        consumer: ConsumerLike,
        writer: Writer,
        decoder: Decoder,
        topics: Sequence[str],
        *,
        batch_size: int = 500,
        revoke_wait_s: float = REVOKE_WAIT_S,
        max_in_flight: int = MAX_IN_FLIGHT,
    ) -> None:
        self.consumer = consumer
        self.writer = writer
        self.decoder = decoder
        self.topics = list(topics)
        self.batch_size = batch_size
        self.revoke_wait_s = revoke_wait_s
        self.max_in_flight = max(1, max_in_flight)
        self.last_beat = time.monotonic()
        #: The batches handed to the writer, oldest first: each is finished (its offsets stored) in this order.
        self._in_flight: deque[InFlight] = deque()
        self._hold: Hold | None = None

    def run(self, stop: threading.Event) -> None:
        """Consume until ``stop``; then finish the batch in flight (without retries: bounded by the shutdown's
        deadline), leave the group (committing stored offsets) and end the writer once it has done what it has."""
        self.consumer.subscribe(self.topics, on_assign=self.on_assign, on_revoke=self.on_revoke, on_lost=self.on_lost)
        try:
            while not stop.is_set():
                self._beat()
                messages = self._next_batch()
                if messages:
                    batch = self._prepare(messages)  # while the batches before it are being written
                    if len(self._in_flight) >= self.max_in_flight and not self._finish_oldest(stop):
                        break
                    self._in_flight.append(InFlight(batch, self.writer.write(batch)))
                elif not self._finish_in_flight(stop):
                    break
        finally:
            try:
                self._finish_in_flight(stop, retry=False)
            finally:
                self.consumer.close()  # revokes what is left (on_revoke) and commits the stored offsets
                # Not waited for: what the writer still has is the revocation's flush of the running totals, already
                # given the revocation's time; were it cut off with the process, a claim reads the rows instead.
                self.writer.stop(timeout=0.0)

    def handle(self, messages: Sequence[MessageLike], stop: threading.Event | None = None) -> BatchResult | None:
        """Decode and write one batch, then store its offsets (what :meth:`run` does, one batch at a time). None when
        stopped while the database was away: nothing stored, all of it will be redelivered."""
        batch = self._prepare(messages)
        self._in_flight.append(InFlight(batch, self.writer.write(batch)))
        return self._complete(stop, retry=True)

    def _beat(self) -> None:
        self.last_beat = time.monotonic()

    def _next_batch(self) -> list[Message]:
        """Wait up to 0.5 s for the first message, then take what is already fetched without waiting:
        consume(n, timeout) alone waits the whole timeout unless n messages arrive, which would hold a
        lone day close for half a second."""
        first = self.consumer.poll(0.5)
        if first is None:
            return []
        return [first, *self.consumer.consume(num_messages=self.batch_size - 1, timeout=0)]

    def _prepare(self, messages: Sequence[MessageLike]) -> Batch:
        started = time.monotonic()
        usable = self.decoder.usable(messages)
        return Batch(usable, self.writer.prepare(self.decoder.decode(usable)), started)

    # --- a batch's outcome (poll thread) -----------------------------------------------------------------------

    def _finish_in_flight(self, stop: threading.Event | None, *, retry: bool = True) -> bool:
        """Every batch in flight written and its offsets stored, oldest first (a failed write done again first, unless
        ``retry`` is off: then it and those after it are left unstored, to be redelivered). False when stopping before
        they could be written."""
        while self._in_flight:
            if not self._finish_oldest(stop, retry=retry):
                return False
        return True

    def _finish_oldest(self, stop: threading.Event | None, *, retry: bool = True) -> bool:
        return self._complete(stop, retry=retry) is not None

    def _complete(self, stop: threading.Event | None, *, retry: bool) -> BatchResult | None:
        """The oldest batch in flight: its outcome, then its offsets stored. Not written (stopping): every batch in
        flight is let go, unstored, to be redelivered."""
        flight = self._in_flight[0]
        try:
            result = self._outcome(flight, stop, retry=retry)
        except BaseException:
            self._in_flight.clear()
            raise
        if result is None:
            self._in_flight.clear()
            return None
        self._in_flight.popleft()
        self._written(flight.batch, result)
        return result

    def _hand_over_again(self) -> None:
        """The failed batch to the writer again, then every batch after it (which the writer refused meanwhile), in
        the order they were consumed."""
        for each in self._in_flight:  # the failed batch is the oldest (finished in order)
            each.future = self.writer.write(each.batch)

    def _outcome(self, flight: InFlight, stop: threading.Event | None, *, retry: bool) -> BatchResult | None:
        """Wait for the write. While PostgreSQL is away, pause every partition, keep polling (staying in the group),
        and hand the same batch (and those after it) to the writer again, backing off, until it commits or ``stop``."""
        delay = RETRY_FIRST_S
        try:
            while True:
                try:
                    if self._hold is not None:
                        self._hold.until(flight.future.done, self._beat)
                    return flight.future.result()
                except StorageUnavailable as exc:
                    if not retry:
                        log.warning("batch.not_written", error=str(exc), messages=len(flight.batch.messages))
                        return None
                    log.warning("batch.db_unavailable", error=str(exc), retry_in_s=delay)
                    if self._hold is None:
                        self._hold = Hold(self.consumer)
                    if not self._hold.wait(delay, stop, self._beat):
                        return None
                    delay = min(delay * 2, RETRY_MAX_S)
                    self._hand_over_again()
        finally:
            if self._hold is not None:
                self._hold.release()
                self._hold = None

    def _written(self, batch: Batch, result: BatchResult) -> None:
        """A batch committed: store its offsets, then say what it did."""
        self._store_offsets(batch.messages)
        report_batch(batch.messages, batch.decoded, result, batch.started)

    def _store_offsets(self, batch: Sequence[MessageLike]) -> None:
        highest: dict[tuple[str, int], int] = {}
        for msg in batch:
            tp = (msg.topic() or "", msg.partition() or 0)
            highest[tp] = max(highest.get(tp, -1), msg.offset() or 0)
        if not highest:
            return
        try:
            self.consumer.store_offsets(offsets=[TopicPartition(t, p, o + 1) for (t, p), o in highest.items()])
        except KafkaException as exc:
            # Partitions revoked or lost meanwhile: their new owner re-reads from the last commit; harmless.
            log.warning("kafka.store_offsets_failed", error=str(exc))

    # --- the rebalance listener (librdkafka calls these on the poll thread, inside poll() or close()) ----------

    def on_assign(self, _consumer: object, partitions: list[TopicPartition]) -> None:
        log.info("kafka.partitions_assigned", partitions=names(partitions))

    def on_revoke(self, _consumer: object, partitions: list[TopicPartition]) -> None:
        """Partitions leave (a rebalance, or ``close()``). Wait up to ``revoke_wait_s`` for the batches being written
        and store the offsets of those that committed, oldest first (the revoked partitions' last chance); then hand
        the writer a flush of the running totals (so their new owner's day closes find them flushed) and wait what is
        left of that time.

        Whatever takes longer carries on after the callback: the batches stay in flight for the loop to finish (they
        may hold messages of partitions this process keeps, which no later batch's offsets may pass), the flush on the
        writer thread (exactness never depends on it: a claim reads the rows it finds unflushed)."""
        log.info("kafka.partitions_revoked", partitions=names(partitions))
        deadline = time.monotonic() + self.revoke_wait_s
        if self._hold is not None:
            self._hold.forget(partitions)  # a batch waits for the database: the loop finishes it, with retries
        else:
            self._settle_in_flight(deadline)
        done, _ = wait([self.writer.flush_totals()], timeout=max(0.0, deadline - time.monotonic()))
        if not done:
            log.info("totals.flush_continues_after_revoke", waited_s=self.revoke_wait_s)

    def on_lost(self, _consumer: object, partitions: list[TopicPartition]) -> None:
        """Partitions lost (the group went on without this process: a session timeout). Their offsets can no longer
        be committed and another process may own them already: nothing is waited for. The batches in flight are finished
        by the loop as usual (their offsets for these partitions are then refused, harmlessly); the running totals are
        handed to the writer to flush."""
        log.warning("kafka.partitions_lost", partitions=names(partitions))
        if self._hold is not None:
            self._hold.forget(partitions)
        self.writer.flush_totals()

    def _settle_in_flight(self, deadline: float) -> None:
        """The batches in flight that commit by ``deadline``, oldest first, their offsets stored; the first that does
        not (still writing, or failed) and those after it stay in flight for the loop."""
        while self._in_flight:
            flight = self._in_flight[0]
            try:
                result = flight.future.result(timeout=max(0.0, deadline - time.monotonic()))
            except TimeoutError:
                log.warning("batch.still_writing_at_revoke", messages=len(flight.batch.messages))
                return
            except Exception as exc:  # noqa: BLE001 - left in flight: the loop writes it again (or raises it) first
                log.warning("batch.not_written_yet", error=str(exc), messages=len(flight.batch.messages))
                return
            self._in_flight.popleft()
            self._written(flight.batch, result)

"""The writer: the one thread that writes a Kafka loop's batches to PostgreSQL.

It alone owns the unit of work it writes through, the running totals (:class:`~consumer.accumulator.Accumulator`,
which has no lock and needs none: no other thread touches it) and the batch being written. The poll loop
(:mod:`consumer.loop`) hands it work and gets a ``Future``: a batch to write, a flush of the totals when partitions
are revoked. The periodic flush of the totals is work of this thread too, looked at after each batch and when idle.
Work runs in the order it was handed over, one at a time, so batches commit in the order they were consumed. What is
made from a batch alone (the insert's rows, the totals' sums) the poll loop makes before handing it over
(:meth:`Writer.prepare`), while this thread writes the batch before: this thread waits on PostgreSQL in between, and it
bounded ingest while it made them itself.

A batch PostgreSQL refuses whole (a value it will not store got past decoding) is written again a message at a
time here, the refused messages dead-lettered. The database going away, before or during that, fails the
``Future`` with :class:`~service.ports.StorageUnavailable`: the loop pauses its partitions and hands the same batch
back, which is then isolated again (every write is idempotent) rather than written whole.

The loop hands over a batch before the one before it has committed (:mod:`consumer.loop`). So that batches reach the
database in the order they were consumed, a batch whose write failed holds back every batch handed over after it: those
fail with :class:`BatchSkipped`, unwritten, until the failed one is handed back and written; the loop hands them back
after it, in order.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any, Protocol

import structlog

from consumer import poison
from consumer.accumulator import Accumulator
from consumer.ingest import BatchResult, Decoded, IngestWork, write_batch
from consumer.kafka_types import MessageLike
from consumer.poison import Poison
from service.messages import SalesEnvelope
from service.ports import Flushed, StorageRefused, StorageUnavailable
from service.reasons import ReasonCode

log = structlog.get_logger("dayclose.consumer")


class BatchSkipped(StorageUnavailable):
    """Not written: a batch handed over before it failed and has not been written since."""


#: Idle this long, the writer looks whether the running totals are due for their periodic flush.
IDLE_TICK_S = 1.0
_COUNTS = ("new_events", "duplicates", "jobs", "dead_letters", "commands", "conflicts", "conflicts_coalesced")


@dataclass(frozen=True)
class Batch:
    """A batch on its way to the database: its messages (their offsets are stored once it commits), what they
    decoded to, and when it was taken from Kafka."""

    messages: Sequence[MessageLike]
    decoded: Decoded
    started: float


_Work = tuple[Callable[[], Any], "Future[Any]"]


class PreparedBatch(Protocol):
    """What the storage adapter makes of a batch beforehand (``prepare_rows``): opaque to this module but for the
    batch's events each id once, day closes left out (the rows it will insert), which the running totals sum."""

    @property
    def items(self) -> Sequence[SalesEnvelope]: ...


class Writer:
    def __init__(
        self,
        uow: Callable[[], IngestWork],
        totals: Accumulator | None = None,
        name: str = "ingest-writer",
        prepare_rows: Callable[[Sequence[SalesEnvelope]], PreparedBatch] | None = None,
    ) -> None:
        self._uow = uow
        self._totals = totals
        self._name = name
        self._prepare_rows = prepare_rows
        self._work: queue.SimpleQueue[_Work | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        #: The batch PostgreSQL refused whole, while it is being written a message at a time.
        self._refused: Batch | None = None
        #: The batch whose write failed last, until it is written: no batch handed over after it is written before it.
        self._failed: Batch | None = None

    # --- called by the poll loop -------------------------------------------------------------------------------

    def prepare(self, decoded: Decoded) -> Decoded:
        """Before the batch is handed over, on the poll thread while this thread writes the batch before: what is made
        from the batch alone (the storage adapter's rows, the running totals' sums), so that this thread, which waits
        on PostgreSQL in between and bounds ingest, only sends them. Writes nothing this thread owns."""
        if decoded.sales:
            rows = self._prepare_rows(decoded.sales) if self._prepare_rows is not None else None
            decoded.rows = rows
            if self._totals is not None:
                decoded.sums = self._totals.presum(decoded.sales, rows.items if rows is not None else None)
        return decoded

    def write(self, batch: Batch) -> Future[BatchResult]:
        """Write ``batch`` after the work handed over before it; the ``Future`` holds what it did."""
        return self._submit(lambda: self._write_batch(batch))

    def flush_totals(self) -> Future[Flushed | None]:
        """Flush every pending store-day's running totals, after the work handed over before."""
        return self._submit(self._flush_all)

    def stop(self, timeout: float) -> bool:
        """Finish the work handed over, then end the thread; wait at most ``timeout``. True when it ended (else it is
        left to the process's exit: a daemon thread, whose unfinished write is redelivered and written again)."""
        thread = self._thread
        if thread is None:
            return True
        self._work.put(None)
        thread.join(timeout)
        return not thread.is_alive()

    def _submit(self, job: Callable[[], Any]) -> Future[Any]:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
            self._thread.start()
        future: Future[Any] = Future()
        self._work.put((job, future))
        return future

    # --- the writer thread -------------------------------------------------------------------------------------

    def _run(self) -> None:
        while True:
            try:
                item = self._work.get(timeout=IDLE_TICK_S)
            except queue.Empty:
                self._flush_if_due()
                continue
            if item is None:
                return
            job, future = item
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(job())
            except Exception as exc:  # noqa: BLE001 - handed to the poll loop, which decides (pause, or end)
                future.set_exception(exc)
            self._flush_if_due()

    def _flush_if_due(self) -> None:
        if self._totals is None or not self._totals.due():
            return
        try:
            self._flush_all()
        except Exception:  # noqa: BLE001 - the writer outlives a failed flush: the sums stay pending or a claim reads rows
            log.exception("totals.flush_crashed")

    def _flush_all(self) -> Flushed | None:
        if self._totals is None or not self._totals.pending:
            return None
        return self._totals.flush_all(self._uow)  # a lost database keeps them pending; logged there

    def store(self, decoded: Decoded) -> BatchResult:
        """One transaction: the batch's writes, and the running totals of what it inserted."""
        with self._uow() as uow:
            return write_batch(uow, decoded, self._totals)

    def _write_batch(self, batch: Batch) -> BatchResult:
        if self._failed is not None and self._failed is not batch:
            raise BatchSkipped("not written: a batch consumed before it is to be written first")
        try:
            result = self._write_in_full(batch)
        except BaseException:
            self._failed = batch
            raise
        self._failed = None
        return result

    def _write_in_full(self, batch: Batch) -> BatchResult:
        if self._refused is not batch:
            try:
                return self.store(batch.decoded)
            except StorageRefused as exc:
                # Something in the batch PostgreSQL will not store (e.g. a NUL in a text field that got past
                # decoding): find the culprit(s) instead of failing the batch forever.
                log.warning("batch.data_error", error=str(exc))
                self._refused = batch
        result = self._isolating(batch.decoded)
        self._refused = None
        return result

    def _isolating(self, decoded: Decoded) -> BatchResult:
        """Write the batch one message at a time; a message the database refuses is dead-lettered. A refusal of the
        dead letter itself is a bug, not bad input: it fails the batch (and ends the loop)."""
        total = BatchResult()
        for msg, obj in decoded.handled:
            single = Decoded(handled=[(msg, obj)])
            if isinstance(obj, SalesEnvelope):
                single.sales.append(obj)
            else:
                single.commands.append(obj)
            try:
                part = self.store(single)
            except StorageRefused as exc:
                store = obj.store_id if isinstance(obj, SalesEnvelope) else None
                refused = Poison(
                    msg,
                    ReasonCode.INVALID_EVENT,
                    f"refused by the database: {exc}",
                    poison.identifier(obj.organization_id),
                    poison.identifier(store),
                )
                part = self.store(Decoded(poison=[refused]))
            _add(total, part)
        if decoded.poison:
            _add(total, self.store(Decoded(poison=decoded.poison)))
        return total


def _add(total: BatchResult, part: BatchResult) -> None:
    for name in _COUNTS:
        setattr(total, name, getattr(total, name) + getattr(part, name))

"""The Kafka loop: at-least-once consumption with offsets stored only after the database commit.

Each batch from ``consume()`` is decoded, then written in ONE transaction: new sales (idempotent),
day closes and commands as export jobs, and for poison messages and conflicting re-sends (an id seen
before with other content) a dead-letter record plus a failure event in the outbox. Only after that
commit are the batch's offsets stored (auto-commit then sends them). A crash before the commit
redelivers the batch, and the idempotent writes make that harmless.

The loop reaches PostgreSQL only through the unit of work it is given (:mod:`storage.uow` in production),
which reports a lost database as :class:`~service.ports.StorageUnavailable`. BL is never called from here —
export workers do that from the job queue — so a slow BL cannot
push this loop past ``max.poll.interval.ms``. While PostgreSQL is unreachable the loop pauses its
partitions and keeps polling (staying in the group) until the batch is written: it never skips.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Protocol

import structlog
from confluent_kafka import KafkaError, KafkaException, Message, TopicPartition

import schemas
from consumer import metrics, poison, records
from consumer.accumulator import Accumulator
from consumer.codec import AvroCodec, DecodeError, SchemaRegistry
from consumer.ingest import BatchResult, Decoded, write_batch
from consumer.poison import Poison as _Poison
from service.messages import DayClosed, SalesEnvelope
from service.ports import StorageRefused, StorageUnavailable, UnitOfWork
from service.reasons import ReasonCode

log = structlog.get_logger("dayclose.consumer")


class MessageLike(Protocol):
    """What the loop needs of ``confluent_kafka.Message`` (which Python code cannot construct)."""

    def error(self) -> KafkaError | None: ...
    def topic(self) -> str | None: ...
    def partition(self) -> int | None: ...
    def offset(self) -> int | None: ...
    def key(self) -> bytes | None: ...
    def value(self) -> bytes | None: ...


class ConsumerLike(Protocol):
    """What the loop needs of ``confluent_kafka.Consumer``, with its signatures (mypy checks the real one
    against this where :mod:`dayclose.bootstrap` wires it, and the tests' stub too)."""

    def subscribe(self, topics: list[str], on_assign: Any = ..., on_revoke: Any = ..., on_lost: Any = ...) -> None: ...

    def consume(self, num_messages: int = 1, timeout: float = -1) -> list[Message]: ...

    def store_offsets(self, message: Message | None = None, offsets: list[TopicPartition] | None = None) -> None: ...

    def assignment(self) -> list[TopicPartition]: ...

    def pause(self, partitions: list[TopicPartition]) -> None: ...

    def resume(self, partitions: list[TopicPartition]) -> None: ...

    def poll(self, timeout: float = -1) -> Message | None: ...

    def seek(self, partition: TopicPartition) -> None: ...

    def close(self) -> None: ...


@dataclass
class InFlight:
    """A batch handed to the writer thread, with what storing its offsets and reporting it needs."""

    messages: Sequence[MessageLike]
    decoded: Decoded
    started: float
    future: Future[BatchResult]


class SalesLoop:
    def __init__(
        self,
        consumer: ConsumerLike,
        uow: Callable[[], UnitOfWork],
        sales_topic: str,
        commands_topic: str,
        registry: SchemaRegistry | None = None,
        batch_size: int = 500,
        on_batch: Callable[[BatchResult], None] = lambda _r: None,
        totals: Accumulator | None = None,
    ) -> None:
        self.consumer = consumer
        self.uow = uow
        self.sales_topic = sales_topic
        self.commands_topic = commands_topic
        self.sales_codec = AvroCodec(schemas.SALES_EVENT, sales_topic, registry)
        self.command_codec = AvroCodec(schemas.COMMAND, commands_topic, registry)
        self.batch_size = batch_size
        self.on_batch = on_batch
        self.totals = totals if totals is not None else Accumulator()
        self.last_beat = time.monotonic()
        self._in_flight: InFlight | None = None
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ingest-writer")

    def run(self, stop: threading.Event) -> None:
        """Consume until ``stop``. One batch is written on the writer thread while the next is fetched and decoded
        here (psycopg waits on the server without the GIL, so the database's work overlaps ours). Every Kafka call
        stays on this thread, and a batch's offsets are stored here only after its transaction committed; batches
        commit in order (one writer, at most one in flight), so a stored offset never passes an unwritten batch."""
        self.consumer.subscribe(
            [self.sales_topic, self.commands_topic], on_assign=self._on_assign, on_revoke=self._on_revoke
        )
        try:
            while not stop.is_set():
                self.last_beat = time.monotonic()
                batch = self._next_batch()
                if batch:
                    started = time.monotonic()
                    usable = [m for m in batch if not self._is_error(m)]
                    decoded = self.decode(usable)  # while the previous batch is being written
                    if not self._finish_in_flight(stop):
                        break
                    self._in_flight = InFlight(usable, decoded, started, self._writer.submit(self._write, decoded))
                elif not self._finish_in_flight(stop):
                    break
                if self.totals.due() and self._finish_in_flight(stop):
                    self.totals.flush_all(self.uow)
        finally:
            try:
                self._finish_in_flight(stop, retry=False)  # bounded by the shutdown watchdog
            finally:
                self._writer.shutdown(wait=False)
                self.consumer.close()  # commits stored offsets and leaves the group cleanly

    def _finish_in_flight(self, stop: threading.Event | None, *, retry: bool = True) -> bool:
        """Wait for the batch being written and store its offsets. A write that failed is done again here, with
        the pauses and retries of :meth:`_write_until_done` (or, without ``retry``, left unstored: it will be
        redelivered). False when stopping before that batch could be written."""
        flight, self._in_flight = self._in_flight, None
        if flight is None:
            return True
        try:
            result: BatchResult | None = flight.future.result()
        except (StorageRefused, StorageUnavailable) as exc:
            if not retry:
                log.warning("batch.not_written", error=str(exc), messages=len(flight.messages))
                return False
            result = self._write_until_done(flight.decoded, stop, first_error=exc)
        if result is None:
            return False
        self._written(flight.messages, flight.decoded, result, flight.started)
        return True

    def _on_assign(self, _consumer: object, partitions: list[TopicPartition]) -> None:
        log.info("kafka.partitions_assigned", partitions=_names(partitions))

    def _on_revoke(self, _consumer: object, partitions: list[TopicPartition]) -> None:
        """Partitions leave: finish the batch in flight, then flush what this process summed, so their new owner's
        day closes find it flushed (were it lost, a claim would read the rows instead: slower, as exact)."""
        log.info("kafka.partitions_revoked", partitions=_names(partitions))
        flight = self._in_flight
        if flight is not None:
            try:
                result = flight.future.result()
            except (StorageRefused, StorageUnavailable) as exc:
                # Left in flight: the loop writes it again, with its retries, before anything after it. It may hold
                # messages of partitions this process keeps (a cooperative rebalance revokes only some), whose
                # offsets must not be passed by a later batch.
                log.warning("batch.not_written_yet", error=str(exc), messages=len(flight.messages))
            else:
                self._in_flight = None
                self._written(flight.messages, flight.decoded, result, flight.started)
        if not self.totals.pending:
            return
        try:
            self.totals.flush_all(self.uow)
        except Exception:  # noqa: BLE001 - inside librdkafka's callback; forgetting the sums is always safe
            log.exception("totals.revoke_flush_failed", dropped_store_days=len(self.totals.pending))
            self.totals.pending.clear()

    def _next_batch(self) -> list[Message]:
        """Wait up to 0.5 s for the first message, then take what is already fetched without waiting:
        consume(n, timeout) alone waits the whole timeout unless n messages arrive, which would hold a
        lone day close for half a second."""
        first = self.consumer.poll(0.5)
        if first is None:
            return []
        return [first, *self.consumer.consume(num_messages=self.batch_size - 1, timeout=0)]

    def handle(self, batch: Sequence[MessageLike], stop: threading.Event | None = None) -> BatchResult | None:
        """Decode and write one batch, then store its offsets (what :meth:`run` does, without the overlap)."""
        started = time.monotonic()
        usable = [m for m in batch if not self._is_error(m)]
        decoded = self.decode(usable)
        result = self._write_until_done(decoded, stop)
        if result is None:
            return None  # stopping while the database was down: nothing stored, all will be redelivered
        self._written(usable, decoded, result, started)
        return result

    def _written(self, usable: Sequence[MessageLike], decoded: Decoded, result: BatchResult, started: float) -> None:
        """A batch committed: store its offsets, then say what it did."""
        self._store_offsets(usable)
        log.info(
            "batch.ingested",
            messages=len(usable),
            new=result.new_events,
            duplicates=result.duplicates,
            jobs=result.jobs,
            commands=result.commands,
            dead_letters=result.dead_letters,
            took_ms=round((time.monotonic() - started) * 1000, 1),
        )
        self._log_messages(decoded)
        metrics.batch_ingested(
            decoded.sales, decoded.commands, [p.code for p in decoded.poison], result.duplicates, result.conflicts
        )
        self.on_batch(result)

    def _log_messages(self, decoded: Decoded) -> None:
        """One line per handled message: day closes and commands at info, the many receipts at debug."""
        verbose = logging.getLogger("dayclose.consumer").isEnabledFor(logging.DEBUG)
        for msg, obj in decoded.handled:
            if not verbose and isinstance(obj, SalesEnvelope) and not isinstance(obj.item, DayClosed):
                continue  # checked first: this runs for every receipt
            context: dict[str, Any] = {
                "topic": msg.topic(),
                "partition": msg.partition(),
                "offset": msg.offset(),
                "organization_id": obj.organization_id,
            }
            if isinstance(obj, SalesEnvelope):
                context.update(
                    kind=obj.kind, store_id=obj.store_id, business_date=str(obj.business_date), event_key=obj.event_key
                )
                (log.info if isinstance(obj.item, DayClosed) else log.debug)("message.handled", **context)
            else:
                context.update(kind=type(obj).__name__, store_id=obj.store_id, command_id=obj.command_id)
                log.info("message.handled", **context)

    def _is_error(self, msg: MessageLike) -> bool:
        err = msg.error()
        if err is None:
            return False
        if err.code() != KafkaError._PARTITION_EOF:
            log.warning("kafka.message_error", error=str(err))
        return True

    def decode(self, batch: Sequence[MessageLike]) -> Decoded:
        """Poison that could not be decoded names no organization (its key is unverified); poison that
        decoded names its payload's (see consumer/poison.py)."""
        out = Decoded()
        for msg in batch:
            is_command = msg.topic() == self.commands_topic
            try:
                record = (self.command_codec if is_command else self.sales_codec).decode(msg.value())
            except DecodeError as exc:
                out.poison.append(_Poison(msg, exc.code, str(exc)))
                continue
            except (ValueError, KeyError, TypeError) as exc:
                out.poison.append(_Poison(msg, ReasonCode.INVALID_EVENT, f"{type(exc).__name__}: {exc}"))
                continue
            try:
                obj = records.command(record) if is_command else records.sales_envelope(record)
            except (records.InvalidEventError, ValueError, KeyError, TypeError) as exc:
                out.poison.append(poison.invalid(msg, f"{type(exc).__name__}: {exc}", record))
                continue
            if isinstance(obj, SalesEnvelope):
                out.sales.append(obj)
            else:
                out.commands.append(obj)
            out.handled.append((msg, obj))
        return out

    def _write_until_done(
        self, decoded: Decoded, stop: threading.Event | None, first_error: Exception | None = None
    ) -> BatchResult | None:
        """Write the batch; one PostgreSQL refuses is written again a message at a time. The database going away
        during either pauses the partitions and retries (isolating again: every write is idempotent), never exits."""
        delay = 0.5
        paused: list[TopicPartition] = []
        isolating = False
        try:
            while True:
                try:
                    if first_error is not None:
                        error, first_error = first_error, None
                        raise error
                    return self._write_isolating_bad_messages(decoded) if isolating else self._write(decoded)
                except StorageRefused as exc:
                    if isolating:
                        raise  # refused outside any message (its dead letter): a bug, not bad input
                    # Something in the batch PostgreSQL will not store (e.g. a NUL in a text field that
                    # got past decoding): find the culprit(s) instead of failing the batch forever.
                    log.warning("batch.data_error", error=str(exc))
                    isolating = True
                except StorageUnavailable as exc:
                    log.warning("batch.db_unavailable", error=str(exc), retry_in_s=delay)
                    if not paused:
                        paused = list(self.consumer.assignment())
                        self.consumer.pause(paused)
                    # Polling paused partitions returns nothing but keeps us in the group.
                    deadline = time.monotonic() + delay
                    while time.monotonic() < deadline:
                        self.last_beat = time.monotonic()  # waiting on the database is not being stuck
                        msg = self.consumer.poll(min(0.2, max(0.0, deadline - time.monotonic())))
                        if msg is not None and not msg.error():
                            # A partition assigned by a rebalance during the wait is not paused: put the
                            # message back (seek) and pause it too, so nothing is skipped.
                            tp = TopicPartition(msg.topic() or "", msg.partition() or 0, msg.offset() or 0)
                            self.consumer.seek(tp)
                            self.consumer.pause([tp])
                            paused.append(tp)
                        if stop is not None and stop.is_set():
                            return None
                    delay = min(delay * 2, 30.0)
        finally:
            if paused:
                self.consumer.resume(paused)

    def _write_isolating_bad_messages(self, decoded: Decoded) -> BatchResult:
        """Write the batch one message at a time; a message the database refuses is dead-lettered."""
        total = BatchResult()
        for msg, obj in decoded.handled:
            single = Decoded(handled=[(msg, obj)])
            if isinstance(obj, SalesEnvelope):
                single.sales.append(obj)
            else:
                single.commands.append(obj)
            try:
                part = self._write(single)
            except StorageRefused as exc:
                store = obj.store_id if isinstance(obj, SalesEnvelope) else None
                refused = _Poison(
                    msg,
                    ReasonCode.INVALID_EVENT,
                    f"refused by the database: {exc}",
                    poison.identifier(obj.organization_id),
                    poison.identifier(store),
                )
                part = self._write(Decoded(poison=[refused]))
            for name in ("new_events", "duplicates", "jobs", "dead_letters", "commands", "conflicts"):
                setattr(total, name, getattr(total, name) + getattr(part, name))
        if decoded.poison:
            part = self._write(Decoded(poison=decoded.poison))
            total.dead_letters += part.dead_letters
        return total

    def _write(self, decoded: Decoded) -> BatchResult:
        with self.uow() as uow:
            return write_batch(uow, decoded, self.totals)

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
            # Partitions revoked meanwhile: their new owner re-reads from the last commit; harmless.
            log.warning("kafka.store_offsets_failed", error=str(exc))


def _names(partitions: Sequence[TopicPartition]) -> list[str]:
    return [f"{tp.topic}[{tp.partition}]" for tp in partitions]

"""The Kafka loop against a stub consumer (confluent_kafka.Message cannot be built from Python): offsets move only after
the database commit, a lost database pauses instead of skipping, and each thread keeps to its own state (the poll
thread: Kafka and the batch's offsets; the writer thread: the database and the running totals)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from confluent_kafka import TopicPartition

import schemas
from consumer.codec import AvroCodec
from consumer.decode import Decoder
from consumer.ingest import BatchResult, Decoded
from consumer.loop import InFlight, IngestLoop
from consumer.writer import Batch, BatchSkipped, Writer
from service.ports import Flushed, StorageRefused, StorageUnavailable
from tests.waiting import wait_until


@dataclass
class StubMessage:
    _topic: str
    _partition: int
    _offset: int
    _value: bytes = b"\xc3\x01garbage"
    _key: bytes | None = b"org/s1"

    def error(self) -> None:
        return None

    def topic(self) -> str:
        return self._topic

    def partition(self) -> int:
        return self._partition

    def offset(self) -> int:
        return self._offset

    def key(self) -> bytes | None:
        return self._key

    def value(self) -> bytes:
        return self._value


@dataclass
class StubConsumer:
    assigned: list[TopicPartition] = field(default_factory=lambda: [TopicPartition("sales", 0)])
    calls: list[tuple[str, Any]] = field(default_factory=list)
    pending: list[Any] = field(default_factory=list)
    during_poll: list[Callable[[], None]] = field(default_factory=list)

    def subscribe(self, topics: list[str], **listener: Any) -> None:
        self.calls.append(("subscribe", topics))
        self.listener = listener

    def consume(self, num_messages: int = 1, timeout: float = -1) -> list[Any]:
        return []

    def store_offsets(self, message: Any = None, offsets: list[TopicPartition] | None = None) -> None:
        self.calls.append(("store_offsets", sorted((tp.topic, tp.partition, tp.offset) for tp in offsets or [])))

    def assignment(self) -> list[TopicPartition]:
        return self.assigned

    def pause(self, partitions: list[TopicPartition]) -> None:
        self.calls.append(("pause", [tp.partition for tp in partitions]))

    def resume(self, partitions: list[TopicPartition]) -> None:
        self.calls.append(("resume", [tp.partition for tp in partitions]))

    def poll(self, timeout: float = -1) -> Any:
        self.calls.append(("poll", None))
        if self.during_poll:
            self.during_poll.pop(0)()  # what librdkafka runs inside poll(): a rebalance callback
        return self.pending.pop(0) if self.pending else None

    def seek(self, partition: TopicPartition) -> None:
        self.calls.append(("seek", (partition.topic, partition.partition, partition.offset)))

    def close(self) -> None:
        self.calls.append(("close", None))


def new_loop(consumer: StubConsumer, writer: Writer | None = None, **options: Any) -> IngestLoop:
    writer = writer or Writer(None)  # type: ignore[arg-type]
    return IngestLoop(consumer, writer, Decoder("sales", "commands"), ["sales"], **options)  # type: ignore[arg-type]


def make_loop(consumer: StubConsumer, writes: list[Any], **options: Any) -> IngestLoop:
    """A loop whose writer's transactions have these outcomes, in order (a BatchResult, or an error raised)."""
    loop = new_loop(consumer, **options)

    def fake_store(_decoded: Any) -> BatchResult:
        outcome = writes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    loop.writer.store = fake_store  # type: ignore[method-assign]
    return loop


def key(record: dict[str, Any]) -> str:
    from consumer import records

    return records.sales_envelope(record).event_key


def encoded(record: dict[str, Any]) -> bytes:
    return AvroCodec(schemas.SALES_EVENT, "sales").encode(record)


def test_offsets_are_stored_after_the_write_one_past_the_highest_per_partition() -> None:
    consumer = StubConsumer()
    loop = make_loop(consumer, [BatchResult()])
    batch = [StubMessage("sales", 0, 5), StubMessage("sales", 0, 7), StubMessage("sales", 1, 3)]
    loop.handle(batch)
    assert consumer.calls == [("store_offsets", [("sales", 0, 8), ("sales", 1, 4)])]


def test_a_lost_database_pauses_the_partitions_and_retries_without_skipping() -> None:
    consumer = StubConsumer()
    down = StorageUnavailable("connection refused")
    loop = make_loop(consumer, [down, down, BatchResult(new_events=1)])
    loop.handle([StubMessage("sales", 0, 9)])
    kinds = [c[0] for c in consumer.calls]
    assert kinds[0] == "pause" and "poll" in kinds
    assert kinds.index("resume") < kinds.index("store_offsets")  # offsets only after the write succeeded
    assert consumer.calls[-1] == ("store_offsets", [("sales", 0, 10)])


def test_stopping_while_the_database_is_down_stores_no_offsets() -> None:
    consumer = StubConsumer()
    stop = threading.Event()
    stop.set()
    loop = make_loop(consumer, [StorageUnavailable("down")])
    assert loop.handle([StubMessage("sales", 0, 9)], stop) is None
    assert not any(c[0] == "store_offsets" for c in consumer.calls)
    assert ("resume", [0]) in consumer.calls


def test_undecodable_messages_become_poison_addressed_to_no_organization() -> None:
    """Finding 4: the Kafka key is unverified; an undecodable value names nobody (see consumer/poison.py)."""
    loop = make_loop(StubConsumer(), [])
    decoded = loop.decoder.decode([StubMessage("sales", 0, 1, _value=b"\x00junk", _key=b"org-7/s3")])
    assert decoded.sales == [] and len(decoded.poison) == 1
    (p,) = decoded.poison
    assert p.code == "UNDECODABLE" and (p.organization_id, p.store_id) == (None, None)
    assert p.reason_code == "POISON_MESSAGE"


def test_a_decoded_but_invalid_event_is_addressed_to_its_payloads_organization_and_store() -> None:
    from consumer.codec import AvroCodec
    from tests.unit.consumer.samples import sales_records

    record = sales_records()[0]
    name, payload = record["payload"]
    bad = {**record, "organization_id": "org-payload", "payload": (name, {**payload, "tip_ore": 99})}
    value = AvroCodec(schemas.SALES_EVENT, "sales").encode(bad)
    loop = make_loop(StubConsumer(), [])
    (p,) = loop.decoder.decode([StubMessage("sales", 0, 1, _value=value, _key=b"org-key/s9")]).poison
    assert p.code == p.reason_code == "INVALID_EVENT"
    assert (p.organization_id, p.store_id, p.business_date) == ("org-payload", "s1", record["business_date"])


def test_a_partition_assigned_while_the_database_is_down_is_rewound_and_paused_not_skipped() -> None:
    consumer = StubConsumer(pending=[StubMessage("sales", 5, 42)])  # arrives from a newly assigned partition
    down = StorageUnavailable("connection refused")
    loop = make_loop(consumer, [down, BatchResult()])
    loop.handle([StubMessage("sales", 0, 9)])
    assert ("seek", ("sales", 5, 42)) in consumer.calls
    assert ("pause", [5]) in consumer.calls
    assert consumer.calls[-2] == ("resume", [0, 5])  # resumed together once the batch is written


def test_a_message_the_database_refuses_is_dead_lettered_alone() -> None:
    from tests.unit.consumer.samples import sales_records

    consumer = StubConsumer()
    good, bad = sales_records()[:2]
    written: list[Any] = []
    loop = new_loop(consumer)

    def fake_store(decoded: Any) -> BatchResult:
        if len(decoded.sales) > 1 or any(e.event_key == key(bad) for e in decoded.sales):
            raise StorageRefused("invalid byte sequence")
        written.append(decoded)
        return BatchResult(new_events=len(decoded.sales), dead_letters=len(decoded.poison))

    loop.writer.store = fake_store  # type: ignore[method-assign]
    msgs = [StubMessage("sales", 0, 1, encoded(good)), StubMessage("sales", 0, 2, encoded(bad))]
    result = loop.handle(msgs)
    assert result is not None and result.new_events == 1 and result.dead_letters == 1
    (poison,) = [p for d in written for p in d.poison]
    assert poison.code == "INVALID_EVENT" and poison.msg is msgs[1]
    assert consumer.calls[-1] == ("store_offsets", [("sales", 0, 3)])


def test_the_database_going_away_while_a_refused_batch_is_isolated_pauses_instead_of_exiting() -> None:
    """#24: a StorageUnavailable raised while the batch PostgreSQL refused is written one message at a time used to
    escape the loop (the process exited). It pauses the partitions, waits, and isolates the batch again."""
    from tests.unit.consumer.samples import sales_records

    consumer = StubConsumer()
    good, bad = sales_records()[:2]
    lost_once: list[bool] = []
    written: list[Any] = []
    loop = new_loop(consumer)

    def fake_store(decoded: Any) -> BatchResult:
        if len(decoded.sales) > 1 or any(e.event_key == key(bad) for e in decoded.sales):
            raise StorageRefused("invalid byte sequence")
        if decoded.sales and not lost_once:  # the first message written alone: PostgreSQL goes away
            lost_once.append(True)
            raise StorageUnavailable("server closed the connection unexpectedly")
        written.append(decoded)
        return BatchResult(new_events=len(decoded.sales), dead_letters=len(decoded.poison))

    loop.writer.store = fake_store  # type: ignore[method-assign]
    msgs = [StubMessage("sales", 0, 1, encoded(good)), StubMessage("sales", 0, 2, encoded(bad))]
    result = loop.handle(msgs)
    assert result is not None and (result.new_events, result.dead_letters) == (1, 1)
    assert [[e.event_key for e in d.sales] for d in written if d.sales] == [[key(good)]]
    (poison,) = [p for d in written for p in d.poison]
    assert poison.msg is msgs[1]
    kinds = [c[0] for c in consumer.calls]
    assert kinds.index("pause") < kinds.index("poll") < kinds.index("resume")


def run_over(consumer: StubConsumer, write: Any, done: Any = lambda: True) -> tuple[IngestLoop, threading.Event]:
    """The loop's :meth:`run` over the stub's pending messages (one batch each), stopped once they are used up
    and ``done()``."""
    stop = threading.Event()
    loop = new_loop(consumer)
    loop.writer.store = write  # type: ignore[method-assign]
    poll = consumer.poll

    def poll_then_stop(timeout: float = -1) -> Any:
        msg = poll(timeout)
        if msg is None and done():
            stop.set()
        return msg

    consumer.poll = poll_then_stop  # type: ignore[method-assign]
    return loop, stop


def test_the_next_batch_is_decoded_while_one_is_written_and_offsets_follow_the_commits_in_order() -> None:
    consumer = StubConsumer(pending=[StubMessage("sales", 0, 1), StubMessage("sales", 0, 2)])
    second_decoded = threading.Event()
    overlapped: list[bool] = []

    def write(decoded: Any) -> BatchResult:
        if not overlapped:  # the first batch: wait until the loop has decoded the second meanwhile
            overlapped.append(second_decoded.wait(timeout=30))
        consumer.calls.append(("committed", None))
        return BatchResult()

    loop, stop = run_over(consumer, write)
    decode = loop.decoder.decode

    def decode_and_tell(batch: Any) -> Any:
        out = decode(batch)
        if any(m.offset() == 2 for m in batch):
            second_decoded.set()
        return out

    loop.decoder.decode = decode_and_tell  # type: ignore[method-assign]
    loop.run(stop)
    assert overlapped == [True]
    done = [c for c in consumer.calls if c[0] in ("committed", "store_offsets")]
    commits = [i for i, c in enumerate(done) if c[0] == "committed"]
    stores = [i for i, c in enumerate(done) if c[0] == "store_offsets"]
    assert [done[i][1] for i in stores] == [[("sales", 0, 2)], [("sales", 0, 3)]]  # in order
    assert len(commits) == 2 and all(commit < store for commit, store in zip(commits, stores, strict=True))
    assert consumer.calls[-1] == ("close", None)  # after the last batch's offsets


def test_the_next_batch_is_handed_to_the_writer_before_the_one_before_it_commits() -> None:
    """The writer starts the next batch the moment one commits: it is handed over while the one before is written."""
    consumer = StubConsumer(pending=[StubMessage("sales", 0, 1), StubMessage("sales", 0, 2)])
    queued_meanwhile: list[bool] = []
    writes: list[int] = []

    def write(decoded: Any) -> BatchResult:
        if not writes:  # the first batch: wait until the second is in the writer's queue
            wait_until(lambda: not loop.writer._work.empty(), 30, "the second batch handed over")
            queued_meanwhile.append(True)
        writes.append(len(writes))
        return BatchResult()

    loop, stop = run_over(consumer, write)
    loop.run(stop)
    assert queued_meanwhile == [True] and writes == [0, 1]
    assert [c[1] for c in consumer.calls if c[0] == "store_offsets"] == [[("sales", 0, 2)], [("sales", 0, 3)]]


def test_a_failed_batch_is_written_again_before_the_batch_handed_over_after_it() -> None:
    """Two batches in flight, the first's write fails: the second is not written before it (a day's receipts before
    its day close), both are written in the order consumed, and their offsets are stored in that order."""
    consumer = StubConsumer(pending=[StubMessage("sales", 0, 1), StubMessage("sales", 0, 2)])
    first_failed = threading.Event()
    written: list[int] = []
    attempts: list[int] = []

    def write(decoded: Any) -> BatchResult:
        offset = decoded.handled[0][0].offset() if decoded.handled else decoded.poison[0].msg.offset()
        attempts.append(offset)
        if offset == 1 and not first_failed.is_set():
            wait_until(lambda: not loop.writer._work.empty(), 30, "the second batch handed over meanwhile")
            first_failed.set()
            raise StorageUnavailable("server closed the connection unexpectedly")
        written.append(offset)
        return BatchResult()

    loop, stop = run_over(consumer, write, done=lambda: len(written) >= 2)
    loop.run(stop)
    assert written == [1, 2] and attempts == [1, 1, 2]  # the second was refused unwritten, not attempted
    assert [c[1] for c in consumer.calls if c[0] == "store_offsets"] == [[("sales", 0, 2)], [("sales", 0, 3)]]


def test_a_write_that_fails_on_the_writer_thread_is_retried_before_anything_after_it_is_stored() -> None:
    consumer = StubConsumer(pending=[StubMessage("sales", 0, 1)])
    outcomes: list[BatchResult | Exception] = [StorageUnavailable("connection refused"), BatchResult()]

    def write(_decoded: Any) -> BatchResult:
        outcome = outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    loop, stop = run_over(consumer, write, done=lambda: not outcomes)
    loop.run(stop)
    stored = [c[1] for c in consumer.calls if c[0] == "store_offsets"]
    assert stored == [[("sales", 0, 2)]] and not outcomes
    kinds = [c[0] for c in consumer.calls]
    assert kinds.index("pause") < kinds.index("resume") < kinds.index("store_offsets")


def test_stopping_while_a_failed_write_waits_stores_nothing_for_it() -> None:
    consumer = StubConsumer(pending=[StubMessage("sales", 0, 1)])
    loop, stop = run_over(consumer, lambda _d: (_ for _ in ()).throw(StorageUnavailable("down")))
    loop.run(stop)
    assert not any(c[0] == "store_offsets" for c in consumer.calls)
    assert consumer.calls[-1] == ("close", None)


def in_flight(loop: IngestLoop, msg: StubMessage, future: Future[BatchResult]) -> None:
    loop._in_flight.append(InFlight(Batch([msg], Decoded(), 0.0), future))


def test_a_revocation_while_the_write_failed_leaves_the_batch_to_be_written_before_anything_after_it() -> None:
    """A cooperative rebalance revokes some partitions; the batch in flight may hold messages of others this process
    keeps: it must not be dropped (a later batch's offsets would pass it)."""
    consumer = StubConsumer()
    loop = make_loop(consumer, [BatchResult(new_events=1)])
    failed: Future[BatchResult] = Future()
    failed.set_exception(StorageUnavailable("connection refused"))
    in_flight(loop, StubMessage("sales", 1, 4), failed)
    loop.on_revoke(None, [TopicPartition("sales", 0)])
    assert loop._in_flight and not any(c[0] == "store_offsets" for c in consumer.calls)
    assert loop._finish_in_flight(None)  # the loop's next turn writes it again
    assert consumer.calls[-1] == ("store_offsets", [("sales", 1, 5)])


def test_a_revocation_stores_the_offsets_of_the_batch_written_meanwhile() -> None:
    consumer = StubConsumer()
    loop = make_loop(consumer, [])
    done: Future[BatchResult] = Future()
    done.set_result(BatchResult(new_events=1))
    in_flight(loop, StubMessage("sales", 0, 7), done)
    loop.on_revoke(None, [TopicPartition("sales", 0)])
    assert not loop._in_flight and consumer.calls == [("store_offsets", [("sales", 0, 8)])]


def in_a_thread(call: Callable[[], None]) -> threading.Thread:
    thread = threading.Thread(target=call, daemon=True)
    thread.start()
    thread.join(timeout=30)  # generous: the bound under test is 0.05 s; an unbounded wait never returns
    return thread


def test_a_revocation_waits_a_bounded_time_for_a_write_that_hangs_and_the_loop_finishes_it_after() -> None:
    """Issue #23: the revocation used to wait for the batch in flight without a bound, inside librdkafka's callback
    (stalling the whole group's rebalance while PostgreSQL hung)."""
    consumer = StubConsumer()
    release = threading.Event()
    loop = new_loop(consumer, revoke_wait_s=0.05)
    loop.writer.store = lambda _d: BatchResult(new_events=int(release.wait(timeout=60)))  # type: ignore[method-assign]
    batch = Batch([StubMessage("sales", 0, 7)], Decoded(), 0.0)
    loop._in_flight.append(InFlight(batch, loop.writer.write(batch)))
    callback = in_a_thread(lambda: loop.on_revoke(None, [TopicPartition("sales", 0)]))
    assert not callback.is_alive()
    assert loop._in_flight and not any(c[0] == "store_offsets" for c in consumer.calls)
    release.set()
    assert loop._finish_in_flight(None)
    assert consumer.calls[-1] == ("store_offsets", [("sales", 0, 8)])
    loop.writer.stop(30)


@dataclass
class ThreadRecordingTotals:
    """Running totals that record which thread touches them (the writer's alone may)."""

    block: threading.Event | None = None
    threads: set[str] = field(default_factory=set)
    flushed: threading.Event = field(default_factory=threading.Event)
    pending: dict[Any, Any] = field(default_factory=lambda: {("org", "s1", None): object()})
    is_due: bool = False

    def due(self) -> bool:
        self.threads.add(threading.current_thread().name)
        return self.is_due

    def flush_all(self, _uow: Any) -> Flushed:
        self.threads.add(threading.current_thread().name)
        if self.block is not None:
            self.block.wait(timeout=60)
        self.is_due = False
        self.flushed.set()
        return Flushed(1, 1, 0, 0)


def test_a_revocation_hands_the_totals_flush_to_the_writer_thread_and_does_no_database_work_itself() -> None:
    """Issue #23: the revocation flushed the running totals inside librdkafka's callback (up to ~30 s a step)."""
    totals = ThreadRecordingTotals()
    writer = Writer(None, totals, name="writer-sales")  # type: ignore[arg-type]
    loop = new_loop(StubConsumer(), writer, revoke_wait_s=25)
    in_a_thread(lambda: loop.on_revoke(None, [TopicPartition("sales", 0)]))
    assert totals.flushed.is_set()  # waited for, within the bound
    assert totals.threads == {"writer-sales"}
    loop.writer.stop(30)


def test_a_flush_that_hangs_does_not_hold_the_revocation() -> None:
    release = threading.Event()
    totals = ThreadRecordingTotals(block=release)
    loop = new_loop(StubConsumer(), Writer(None, totals), revoke_wait_s=0.05)  # type: ignore[arg-type]
    callback = in_a_thread(lambda: loop.on_revoke(None, [TopicPartition("sales", 0)]))
    assert not callback.is_alive() and not totals.flushed.is_set()
    release.set()  # it carries on, on the writer thread
    assert totals.flushed.wait(timeout=30)
    loop.writer.stop(30)


def test_the_running_totals_are_touched_by_the_writer_thread_alone() -> None:
    """Issue #23: the accumulator has no lock, and the poll thread read ``due()`` while the writer mutated it. The
    periodic flush is now the writer's own work, looked at after each batch and when idle."""
    totals = ThreadRecordingTotals(is_due=True)
    consumer = StubConsumer(pending=[StubMessage("sales", 0, 1), StubMessage("sales", 0, 2)])
    stop = threading.Event()
    loop = new_loop(consumer, Writer(None, totals, name="writer-sales"))  # type: ignore[arg-type]
    loop.writer.store = lambda _d: BatchResult()  # type: ignore[method-assign]
    poll = consumer.poll

    def poll_until_flushed(timeout: float = -1) -> Any:
        msg = poll(timeout)
        if msg is None and totals.flushed.is_set():
            stop.set()
        return msg

    consumer.poll = poll_until_flushed  # type: ignore[method-assign]
    loop.run(stop)
    assert totals.flushed.is_set() and totals.threads == {"writer-sales"}


def test_lost_partitions_are_neither_waited_for_nor_stored() -> None:
    """on_lost: the group went on without this process; its offsets can no longer be committed."""
    consumer = StubConsumer()
    release = threading.Event()
    loop = new_loop(consumer)
    loop.writer.store = lambda _d: BatchResult(new_events=int(release.wait(timeout=60)))  # type: ignore[method-assign]
    batch = Batch([StubMessage("sales", 0, 7)], Decoded(), 0.0)
    loop._in_flight.append(InFlight(batch, loop.writer.write(batch)))
    callback = in_a_thread(lambda: loop.on_lost(None, [TopicPartition("sales", 0)]))
    assert not callback.is_alive() and not any(c[0] == "store_offsets" for c in consumer.calls)
    release.set()
    loop.writer.stop(30)


def test_the_loop_subscribes_with_the_whole_rebalance_listener() -> None:
    consumer = StubConsumer()
    stop = threading.Event()
    stop.set()
    loop = new_loop(consumer)
    loop.run(stop)
    assert set(consumer.listener) == {"on_assign", "on_revoke", "on_lost"}
    assert consumer.listener["on_lost"] == loop.on_lost


def test_partitions_revoked_while_the_database_is_down_are_not_resumed() -> None:
    consumer = StubConsumer(assigned=[TopicPartition("sales", 0), TopicPartition("sales", 1)])
    loop = make_loop(consumer, [StorageUnavailable("connection refused"), BatchResult()])
    consumer.during_poll.append(lambda: loop.on_revoke(None, [TopicPartition("sales", 0)]))
    loop.handle([StubMessage("sales", 1, 9)])
    assert ("pause", [0, 1]) in consumer.calls
    assert consumer.calls[-2:] == [("resume", [1]), ("store_offsets", [("sales", 1, 10)])]


def test_a_batch_s_rows_and_sums_are_made_on_the_poll_thread_and_the_writer_gets_them_made() -> None:
    """What is made from a batch alone (the storage adapter's rows, the running totals' sums) is made before the batch
    is handed to the writer, which bounds ingest; the writer thread then only sends it."""
    from datetime import date

    from consumer.accumulator import Accumulator
    from devstack import sampledata

    made_on: list[str] = []

    class Rows(NamedTuple):
        what: str
        items: Any  # the batch's events each once, without day closes: what the running totals sum

    def prepare_rows(sales: Any) -> Rows:
        made_on.append(threading.current_thread().name)
        return Rows("rows", list(sales))

    receipts = sampledata.store_day("org", "s1", date(2026, 4, 1), 3).receipts
    messages = [StubMessage("sales", 0, i, encoded(r)) for i, r in enumerate(receipts)]
    writer = Writer(None, Accumulator(), name="writer-sales", prepare_rows=prepare_rows)  # type: ignore[arg-type]
    got: list[Decoded] = []
    writer.store = lambda decoded: got.append(decoded) or BatchResult()  # type: ignore[method-assign]
    new_loop(StubConsumer(), writer).handle(messages)
    writer.stop(30)
    assert made_on == [threading.current_thread().name]  # the poll thread's (here: the test's), not the writer's
    assert got[0].rows is not None and got[0].rows.what == "rows" and len(got[0].rows.items) == 3
    assert got[0].sums is not None
    assert sum(p.rows for p in got[0].sums.values()) == 3


def test_the_writer_refuses_a_batch_handed_over_after_a_failed_one_until_that_one_is_written() -> None:
    writer = Writer(None)  # type: ignore[arg-type]
    outcomes: list[BatchResult | Exception] = [StorageUnavailable("down"), BatchResult(new_events=1)]
    stored: list[Decoded] = []

    def store(decoded: Decoded) -> BatchResult:
        stored.append(decoded)
        outcome = outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    writer.store = store  # type: ignore[method-assign]
    first = Batch([StubMessage("sales", 0, 1)], Decoded(), 0.0)
    second = Batch([StubMessage("sales", 0, 2)], Decoded(), 0.0)
    failed, skipped = writer.write(first), writer.write(second)
    assert isinstance(failed.exception(timeout=30), StorageUnavailable)
    assert isinstance(skipped.exception(timeout=30), BatchSkipped) and [id(d) for d in stored] == [id(first.decoded)]
    assert isinstance(writer.write(second).exception(timeout=30), BatchSkipped)  # still before the failed one
    assert writer.write(first).result(timeout=30).new_events == 1
    outcomes.append(BatchResult(new_events=2))
    assert writer.write(second).result(timeout=30).new_events == 2
    assert [id(d) for d in stored] == [id(first.decoded), id(first.decoded), id(second.decoded)]
    writer.stop(30)


def test_a_revocation_stores_the_batches_written_meanwhile_oldest_first_and_none_past_one_that_failed() -> None:
    consumer = StubConsumer()
    loop = make_loop(consumer, [])
    outcomes: list[Future[BatchResult]] = [Future(), Future(), Future()]
    outcomes[0].set_result(BatchResult(new_events=1))
    outcomes[1].set_exception(StorageUnavailable("connection refused"))
    outcomes[2].set_result(BatchResult(new_events=1))
    for offset, future in zip((3, 5, 7), outcomes, strict=True):
        in_flight(loop, StubMessage("sales", 0, offset), future)
    loop.on_revoke(None, [TopicPartition("sales", 0)])
    assert consumer.calls == [("store_offsets", [("sales", 0, 4)])]  # not 8: the batch at 5 is not written
    assert [f.batch.messages[0].offset() for f in loop._in_flight] == [5, 7]

"""The Kafka loop against a stub consumer (confluent_kafka.Message cannot be built from Python):
offsets move only after the database commit, and a lost database pauses instead of skipping."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from confluent_kafka import TopicPartition

import schemas
from consumer.loop import BatchResult, SalesLoop
from service.ports import StorageRefused, StorageUnavailable


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

    def subscribe(self, topics: list[str], **_: Any) -> None:
        self.calls.append(("subscribe", topics))

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
        return self.pending.pop(0) if self.pending else None

    def seek(self, partition: TopicPartition) -> None:
        self.calls.append(("seek", (partition.topic, partition.partition, partition.offset)))

    def close(self) -> None:
        self.calls.append(("close", None))


def make_loop(consumer: StubConsumer, writes: list[Any]) -> SalesLoop:
    loop = SalesLoop(consumer, uow=None, sales_topic="sales", commands_topic="commands")  # type: ignore[arg-type]

    def fake_write(_decoded: Any) -> BatchResult:
        outcome = writes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    loop._write = fake_write  # type: ignore[method-assign]
    return loop


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
    decoded = loop.decode([StubMessage("sales", 0, 1, _value=b"\x00junk", _key=b"org-7/s3")])
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
    (p,) = loop.decode([StubMessage("sales", 0, 1, _value=value, _key=b"org-key/s9")]).poison
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
    from consumer import records
    from tests.unit.consumer.samples import sales_records

    consumer = StubConsumer()
    good, bad = (records.sales_envelope(r) for r in sales_records()[:2])
    refused = StorageRefused("invalid byte sequence")
    written: list[Any] = []

    loop = SalesLoop(consumer, uow=None, sales_topic="sales", commands_topic="commands")  # type: ignore[arg-type]

    def fake_write(decoded: Any) -> BatchResult:
        if len(decoded.sales) > 1 or any(e is bad for e in decoded.sales):
            raise refused
        written.append(decoded)
        return BatchResult(new_events=len(decoded.sales), dead_letters=len(decoded.poison))

    loop._write = fake_write  # type: ignore[method-assign]
    msgs = [StubMessage("sales", 0, 1), StubMessage("sales", 0, 2)]
    decoded = loop.decode([])
    decoded.sales += [good, bad]
    decoded.handled += [(msgs[0], good), (msgs[1], bad)]
    result = loop._write_until_done(decoded, None)
    assert result is not None and result.new_events == 1 and result.dead_letters == 1
    (poison,) = [p for d in written for p in d.poison]
    assert poison.code == "INVALID_EVENT" and poison.msg is msgs[1]


def test_the_database_going_away_while_a_refused_batch_is_isolated_pauses_instead_of_exiting() -> None:
    """#24: a StorageUnavailable raised while the batch PostgreSQL refused is written one message at a time used to
    escape the loop (the process exited). It pauses the partitions, waits, and isolates the batch again."""
    from consumer import records
    from tests.unit.consumer.samples import sales_records

    consumer = StubConsumer()
    good, bad = (records.sales_envelope(r) for r in sales_records()[:2])
    lost_once: list[bool] = []
    written: list[Any] = []
    loop = SalesLoop(consumer, uow=None, sales_topic="sales", commands_topic="commands")  # type: ignore[arg-type]

    def fake_write(decoded: Any) -> BatchResult:
        if len(decoded.sales) > 1 or any(e is bad for e in decoded.sales):
            raise StorageRefused("invalid byte sequence")
        if decoded.sales and not lost_once:  # the first message written alone: PostgreSQL goes away
            lost_once.append(True)
            raise StorageUnavailable("server closed the connection unexpectedly")
        written.append(decoded)
        return BatchResult(new_events=len(decoded.sales), dead_letters=len(decoded.poison))

    loop._write = fake_write  # type: ignore[method-assign]
    msgs = [StubMessage("sales", 0, 1), StubMessage("sales", 0, 2)]
    decoded = loop.decode([])
    decoded.sales += [good, bad]
    decoded.handled += [(msgs[0], good), (msgs[1], bad)]
    result = loop._write_until_done(decoded, None)
    assert result is not None and (result.new_events, result.dead_letters) == (1, 1)
    assert [d.sales for d in written if d.sales] == [[good]]
    (poison,) = [p for d in written for p in d.poison]
    assert poison.msg is msgs[1]
    kinds = [c[0] for c in consumer.calls]
    assert kinds.index("pause") < kinds.index("poll") < kinds.index("resume")


def run_over(consumer: StubConsumer, write: Any, done: Any = lambda: True) -> tuple[SalesLoop, threading.Event]:
    """The loop's :meth:`run` over the stub's pending messages (one batch each), stopped once they are used up
    and ``done()``."""
    stop = threading.Event()
    loop = SalesLoop(consumer, uow=None, sales_topic="sales", commands_topic="commands")  # type: ignore[arg-type]
    loop._write = write  # type: ignore[method-assign]
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
    decode = loop.decode

    def decode_and_tell(batch: Any) -> Any:
        out = decode(batch)
        if any(m.offset() == 2 for m in batch):
            second_decoded.set()
        return out

    loop.decode = decode_and_tell  # type: ignore[method-assign]
    loop.run(stop)
    assert overlapped == [True]
    done = [c for c in consumer.calls if c[0] in ("committed", "store_offsets")]
    assert done == [
        ("committed", None),
        ("store_offsets", [("sales", 0, 2)]),
        ("committed", None),
        ("store_offsets", [("sales", 0, 3)]),
    ]
    assert consumer.calls[-1] == ("close", None)  # after the last batch's offsets


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


def test_a_revocation_while_the_write_failed_leaves_the_batch_to_be_written_before_anything_after_it() -> None:
    """A cooperative rebalance revokes some partitions; the batch in flight may hold messages of others this process
    keeps: it must not be dropped (a later batch's offsets would pass it)."""
    from concurrent.futures import Future

    from consumer.loop import InFlight

    consumer = StubConsumer()
    loop = make_loop(consumer, [BatchResult(new_events=1)])
    failed: Future[BatchResult] = Future()
    failed.set_exception(StorageUnavailable("connection refused"))
    loop._in_flight = InFlight([StubMessage("sales", 1, 4)], loop.decode([]), 0.0, failed)
    loop._on_revoke(None, [TopicPartition("sales", 0)])
    assert loop._in_flight is not None and not any(c[0] == "store_offsets" for c in consumer.calls)
    assert loop._finish_in_flight(None)  # the loop's next turn writes it again
    assert consumer.calls[-1] == ("store_offsets", [("sales", 1, 5)])


def test_a_revocation_stores_the_offsets_of_the_batch_written_meanwhile() -> None:
    from concurrent.futures import Future

    from consumer.loop import InFlight

    consumer = StubConsumer()
    loop = make_loop(consumer, [])
    done: Future[BatchResult] = Future()
    done.set_result(BatchResult(new_events=1))
    loop._in_flight = InFlight([StubMessage("sales", 0, 7)], loop.decode([]), 0.0, done)
    loop._on_revoke(None, [TopicPartition("sales", 0)])
    assert loop._in_flight is None and consumer.calls == [("store_offsets", [("sales", 0, 8)])]

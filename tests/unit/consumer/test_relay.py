"""One pass of the outbox relay sorts each row by what Kafka said: delivered rows are marked sent, a row refused for
good has its refusal counted, a transient failure counts nothing (the row goes next pass), a full local queue
leaves the rest for the next pass, and a fatal producer error replaces the producer. The producer is a stand-in
whose ``flush`` answers each queued row as told."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import pytest
from confluent_kafka import KafkaError, KafkaException

from consumer import relay as relay_module
from consumer.relay import OutboxRelay
from service.ports import OutboxRow

ROWS = [OutboxRow(i, "outcomes", b"k", b"v") for i in (1, 2, 3, 4)]


class Producer:
    """Answers row i with ``answers[i]`` (None: delivered); ``raises[i]`` is raised by ``produce`` instead."""

    def __init__(self, answers: dict[int, KafkaError | None], raises: dict[int, BaseException] | None = None) -> None:
        self.answers, self.raises = answers, raises or {}
        self.queued: list[tuple[int, Callable[..., None]]] = []

    def produce(self, topic: str, *, key: bytes, value: bytes, on_delivery: Callable[..., None]) -> None:
        row_id = on_delivery.args[0]  # type: ignore[attr-defined]  # a functools.partial over the row's id
        if row_id in self.raises:
            raise self.raises[row_id]
        self.queued.append((row_id, on_delivery))

    def flush(self, _timeout: float) -> int:
        for row_id, callback in self.queued:
            callback(self.answers.get(row_id), None)
        self.queued = []
        return 0


class Outbox:
    def __init__(self) -> None:
        self.sent: list[int] = []
        self.refusals: dict[int, str] = {}

    def lock_publisher(self) -> bool:
        return True

    def unsent(self, limit: int, max_attempts: int) -> list[OutboxRow]:
        return ROWS[:limit]

    def mark_sent(self, ids: Sequence[int]) -> None:
        self.sent += ids

    def count_refusals(self, refused: dict[int, str]) -> None:
        self.refusals.update(refused)


class Uow:
    def __init__(self) -> None:
        self.outbox = Outbox()
        self.commits = 0

    def commit(self) -> None:
        self.commits += 1


def relay_with(producer: Producer, monkeypatch: pytest.MonkeyPatch) -> tuple[OutboxRelay, Uow]:
    uow = Uow()
    monkeypatch.setattr(relay_module, "Producer", lambda _config: producer)

    @contextmanager
    def open_uow() -> Iterator[Any]:
        yield uow

    return OutboxRelay(open_uow, lambda *_: None, {}), uow  # type: ignore[arg-type, return-value]


def test_each_row_is_sorted_by_what_kafka_answered(monkeypatch: pytest.MonkeyPatch) -> None:
    too_large = KafkaError(KafkaError.MSG_SIZE_TOO_LARGE)
    producer = Producer({2: too_large, 3: KafkaError(KafkaError._MSG_TIMED_OUT)})
    relay, uow = relay_with(producer, monkeypatch)

    assert relay.publish_pending() == 2
    assert uow.outbox.sent == [1, 4]
    assert uow.outbox.refusals == {2: str(too_large)}  # the timed-out row 3 counts nothing: it goes next pass
    assert uow.commits == 1
    assert relay.sent_total == 2


def test_a_full_local_queue_leaves_the_rest_for_the_next_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    relay, uow = relay_with(Producer({}, raises={3: BufferError()}), monkeypatch)

    assert relay.publish_pending() == 2
    assert uow.outbox.sent == [1, 2] and uow.outbox.refusals == {}


def test_a_row_the_producer_refuses_for_good_is_counted_and_the_rows_after_it_still_go(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    refusal = KafkaException(KafkaError(KafkaError.INVALID_MSG_SIZE))
    relay, uow = relay_with(Producer({}, raises={2: refusal}), monkeypatch)

    assert relay.publish_pending() == 3
    assert uow.outbox.sent == [1, 3, 4] and list(uow.outbox.refusals) == [2]


def test_a_fatal_producer_error_stops_the_pass_and_replaces_the_producer(monkeypatch: pytest.MonkeyPatch) -> None:
    fatal = KafkaException(KafkaError(KafkaError._FENCED, fatal=True))
    first = Producer({}, raises={2: fatal})
    relay, uow = relay_with(first, monkeypatch)
    second = Producer({})
    monkeypatch.setattr(relay_module, "Producer", lambda _config: second)

    assert relay.publish_pending() == 1
    assert uow.outbox.sent == [1] and uow.outbox.refusals == {}
    assert relay.producer is second

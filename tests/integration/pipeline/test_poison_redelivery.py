"""A poison message redelivered after a crash (killed between the database commit and the offset commit)
must not be dead-lettered — nor shown to the merchant as a banner — a second time. Found by the fault
suite (#8): seed 102 of the long run dead-lettered 2 of its poison messages twice."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest
from psycopg_pool import ConnectionPool

from consumer.accumulator import Accumulator
from consumer.decode import Decoder
from consumer.events import AvroEvents
from consumer.loop import IngestLoop
from consumer.writer import Writer
from dayclose.keys import KeyVault
from service.secrets import Secret
from storage.uow import unit_of_work

pytestmark = pytest.mark.integration


class _Message:
    def __init__(self, offset: int, value: bytes) -> None:
        self._offset, self._value = offset, value

    def error(self) -> None:
        return None

    def topic(self) -> str:
        return "sales"

    def partition(self) -> int:
        return 0

    def offset(self) -> int:
        return self._offset

    def key(self) -> bytes:
        return b"org-cafe/s1"

    def value(self) -> bytes:
        return self._value


class _Consumer:
    """Stands in for confluent_kafka.Consumer: the loop only stores offsets here."""

    def store_offsets(self, message: Any = None, offsets: Any = None) -> None:
        pass


def test_a_redelivered_poison_message_is_dead_lettered_once(database_url: str) -> None:
    pool: ConnectionPool[Any] = ConnectionPool(database_url, min_size=1, max_size=2, open=True)
    try:
        uow = unit_of_work(
            pool, KeyVault(Secret(KeyVault.generate_key())), AvroEvents("outcomes", "dead-letters", "commands")
        )
        loop = IngestLoop(_Consumer(), Writer(uow, Accumulator()), Decoder("sales", "commands"), ["sales"])  # type: ignore[arg-type]
        poison = _Message(41, b"\x00 not avro")
        loop.handle([poison])
        loop.handle([poison])  # redelivered: the offset commit was lost with the process
        with psycopg.connect(database_url) as conn:
            per_topic = dict(conn.execute("SELECT topic, count(*) FROM outbox GROUP BY topic").fetchall())
        assert per_topic == {"dead-letters": 1, "outcomes": 1}
    finally:
        pool.close()


def test_a_redelivered_conflicting_receipt_is_dead_lettered_once(database_url: str) -> None:
    import schemas
    from consumer.codec import AvroCodec
    from devstack import sampledata
    from tests.unit.consumer.samples import sales_records

    codec = AvroCodec(schemas.SALES_EVENT, "sales")
    original = next(r for r in sales_records() if r["payload"][0] == sampledata.RECEIPT)
    name, payload = original["payload"]
    other = {**original, "event_id": "resent", "payload": (name, {**payload, "receipt_number": "9"})}
    lines = payload["lines"]
    other_amounts = {
        **other,
        "event_id": "corrected",
        "payload": (name, {**payload, "lines": [{**lines[0], "discount_ore": 1}, *lines[1:]]}),
    }
    pool: ConnectionPool[Any] = ConnectionPool(database_url, min_size=1, max_size=2, open=True)
    try:
        uow = unit_of_work(
            pool, KeyVault(Secret(KeyVault.generate_key())), AvroEvents("outcomes", "dead-letters", "commands")
        )
        loop = IngestLoop(_Consumer(), Writer(uow, Accumulator()), Decoder("sales", "commands"), ["sales"])  # type: ignore[arg-type]
        loop.handle([_Message(1, codec.encode(original))])
        identical = loop.handle([_Message(2, codec.encode(other))])  # a label changed, not what is booked
        conflict = _Message(3, codec.encode(other_amounts))
        first = loop.handle([conflict])
        loop.handle([conflict])  # redelivered: the offset commit was lost with the process
        with psycopg.connect(database_url) as conn:
            per_topic = dict(conn.execute("SELECT topic, count(*) FROM outbox GROUP BY topic").fetchall())
        assert identical is not None and (identical.duplicates, identical.conflicts) == (1, 0)
        assert first is not None and (first.conflicts, first.dead_letters, first.duplicates) == (1, 1, 0)
        assert per_topic == {"dead-letters": 1, "outcomes": 1}
    finally:
        pool.close()

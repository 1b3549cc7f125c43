"""``dayclose dead-letters show|replay``: read the dead-letter topic, and send chosen originals back.

``show`` reads the whole dead-letter topic (it is small: one record per poison message) with a consumer
that joins no group and commits nothing, decodes each record and, where it can, the original message
(with the codec of its source topic). ``replay`` produces the chosen originals, byte for byte with their
key, to their source topic. Replaying is safe because ingest is idempotent (sales on their event key,
day closes on their Z number, commands on their id): an event already stored is ignored, one still bad
is dead-lettered again, with a new record.
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol, TextIO

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, Producer, TopicPartition

import schemas
from consumer.codec import AvroCodec, DecodeError, SchemaRegistry


class KafkaSettings(Protocol):
    """What these helpers need of the settings (:class:`dayclose.settings.KafkaSettings`)."""

    @property
    def sales_topic(self) -> str: ...
    @property
    def commands_topic(self) -> str: ...
    @property
    def dead_letter_topic(self) -> str: ...
    def client_config(self) -> dict[str, str]: ...
    def producer_config(self) -> dict[str, str]: ...


#: Header on a replayed message: where in the dead-letter topic it came from.
REPLAYED_FROM_HEADER = "dayclose-replayed-from"


@dataclass(frozen=True)
class DeadLetter:
    """One record of the dead-letter topic, at ``partition``/``offset`` of that topic."""

    partition: int
    offset: int
    record: dict[str, Any]
    original: dict[str, Any] | None
    original_problem: str | None

    @property
    def id(self) -> str:
        return str(self.record["dead_letter_id"])

    @property
    def organization_id(self) -> str | None:
        """The organization the decoded original names (what it would be booked under); None when it was not
        decoded. Never the Kafka key: anyone who can write to a topic chooses that."""
        org = self.original.get("organization_id") if self.original else None
        return org if isinstance(org, str) else None

    @property
    def source(self) -> str:
        r = self.record
        return f"{r['source_topic']}/{r['source_partition']}/{r['source_offset']}"

    def to_json(self) -> dict[str, Any]:
        r = self.record
        return {
            "dead_letter_id": self.id,
            "position": f"{self.partition}:{self.offset}",
            "source_topic": r["source_topic"],
            "source_partition": r["source_partition"],
            "source_offset": r["source_offset"],
            "key": _text(r["original_key"]),
            "error_code": r["error_code"],
            "error_message": r["error_message"],
            "failed_at": r["failed_at"],
            "original": self.original,
            "original_problem": self.original_problem,
            "original_value_base64": (
                base64.b64encode(r["original_value"]).decode() if r["original_value"] is not None else None
            ),
        }


def read(
    kafka: KafkaSettings,
    registry: SchemaRegistry | None = None,
    timeout_s: float = 10.0,
    client_overrides: Mapping[str, Any] | None = None,
) -> list[DeadLetter]:
    """Every record of the dead-letter topic, oldest first per partition (``client_overrides``: more client
    settings, e.g. the ``logger`` that routes librdkafka's lines through structlog)."""
    codec = AvroCodec(schemas.DEAD_LETTER, kafka.dead_letter_topic, registry)
    originals = {
        kafka.sales_topic: AvroCodec(schemas.SALES_EVENT, kafka.sales_topic, registry),
        kafka.commands_topic: AvroCodec(schemas.COMMAND, kafka.commands_topic, registry),
    }
    consumer = Consumer(
        {
            **kafka.client_config(),
            "group.id": f"dayclose-dead-letters-{uuid.uuid4().hex[:8]}",
            "enable.auto.commit": False,
            "enable.partition.eof": True,
            **(client_overrides or {}),
        }
    )
    try:
        ends = _ends(consumer, kafka.dead_letter_topic, timeout_s)
        consumer.assign([TopicPartition(kafka.dead_letter_topic, p, OFFSET_BEGINNING) for p in ends])
        letters: list[DeadLetter] = []
        pending = {p for p, end in ends.items() if end > 0}
        while pending:
            msg = consumer.poll(timeout_s)
            if msg is None:
                raise TimeoutError(f"no message from {kafka.dead_letter_topic} within {timeout_s} s")
            err = msg.error()
            if err is not None and err.code() != KafkaError._PARTITION_EOF:
                raise RuntimeError(f"reading {kafka.dead_letter_topic}: {err}")
            partition, offset = msg.partition() or 0, msg.offset() or 0
            if err is None:
                letters.append(_decode(partition, offset, codec.decode(msg.value()), originals))
            if err is not None or offset + 1 >= ends[partition]:
                pending.discard(partition)
        return sorted(letters, key=lambda d: (d.partition, d.offset))
    finally:
        consumer.close()


def _ends(consumer: Consumer, topic: str, timeout_s: float) -> dict[int, int]:
    metadata = consumer.list_topics(topic, timeout=timeout_s).topics.get(topic)
    if metadata is None or metadata.error is not None:
        raise RuntimeError(f"topic {topic} not found: {metadata.error if metadata else 'no metadata'}")
    return {
        p: consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=timeout_s)[1]
        for p in sorted(metadata.partitions)
    }


def _decode(partition: int, offset: int, record: dict[str, Any], originals: dict[str, AvroCodec]) -> DeadLetter:
    codec = originals.get(record["source_topic"])
    original, problem = None, None
    if record["original_value"] is None:
        problem = "value not kept (too large or a tombstone): read it at its source offset"
    elif codec is None:
        problem = f"no codec for topic {record['source_topic']}"
    else:
        try:
            original = codec.decode(record["original_value"])
        except DecodeError as exc:
            problem = f"not decodable: {exc.code}: {exc}"
    return DeadLetter(partition, offset, record, original, problem)


def select(
    letters: Sequence[DeadLetter],
    ids: Iterable[str] = (),
    error_code: str | None = None,
    everything: bool = False,
    organization_id: str | None = None,
) -> list[DeadLetter]:
    """The letters named by id (or position ``partition:offset``), or all of them with ``everything``,
    narrowed to ``error_code`` and to the organization their decoded original names when given (ids, positions and
    everything else of one organization are those of another too: an operator replays one merchant's letters
    without touching another's). Raises ``KeyError`` naming ids that match nothing."""
    wanted = set(ids)
    chosen = [d for d in letters if everything or d.id in wanted or f"{d.partition}:{d.offset}" in wanted]
    unknown = wanted - {d.id for d in chosen} - {f"{d.partition}:{d.offset}" for d in chosen}
    if unknown:
        raise KeyError(f"no dead letter with id or position {', '.join(sorted(unknown))}")
    return [
        d
        for d in chosen
        if (error_code is None or d.record["error_code"] == error_code)
        and (organization_id is None or d.organization_id == organization_id)
    ]


def replay(
    letters: Sequence[DeadLetter],
    kafka: KafkaSettings,
    timeout_s: float = 30.0,
    client_overrides: Mapping[str, Any] | None = None,
) -> list[str]:
    """Produce each original to its source topic, unchanged; returns the problems (empty when all went)."""
    producer = Producer(
        {**kafka.producer_config(), "enable.idempotence": True, "acks": "all", **(client_overrides or {})}
    )
    problems: list[str] = []

    def on_delivery(err: KafkaError | None, msg: Any) -> None:
        if err is not None:
            problems.append(f"{msg.topic()}: {err}")

    for letter in letters:
        r = letter.record
        if r["original_value"] is None:
            problems.append(f"{letter.id}: the original was not kept; read it at {letter.source}")
            continue
        origin = f"{kafka.dead_letter_topic}/{letter.partition}/{letter.offset}"
        producer.produce(
            r["source_topic"],
            key=r["original_key"],
            value=r["original_value"],
            on_delivery=on_delivery,
            headers={REPLAYED_FROM_HEADER: origin},
        )
    if producer.flush(timeout_s):
        problems.append(f"not acknowledged within {timeout_s} s")
    return problems


def print_text(letters: Sequence[DeadLetter], out: TextIO) -> None:
    for d in letters:
        r = d.record
        print(f"dead letter {d.partition}:{d.offset}  id {d.id}  failed {r['failed_at'].isoformat()}", file=out)
        print(f"  source  {d.source}  key {_text(r['original_key'])!r}", file=out)
        print(f"  error   {r['error_code']}: {r['error_message']}", file=out)
        shown = json.dumps(d.original, default=_json_default, ensure_ascii=False) if d.original else d.original_problem
        print(f"  original {shown}", file=out)


def print_json(letters: Sequence[DeadLetter], out: TextIO) -> None:
    for d in letters:
        print(json.dumps(d.to_json(), default=_json_default, ensure_ascii=False), file=out)


def _text(key: bytes | None) -> str | None:
    return key.decode(errors="backslashreplace") if key is not None else None


def _json_default(value: object) -> object:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    raise TypeError(f"not JSON: {type(value).__name__}")

"""Kafka messages to typed messages, on the poll thread (while the writer thread writes the batch before): the one place
the loop turns wire bytes into :mod:`service.messages`. What cannot be decoded or validated becomes poison, addressed
as :mod:`consumer.poison` decides."""

from __future__ import annotations

from collections.abc import Sequence

import structlog
from confluent_kafka import KafkaError

import schemas
from consumer import poison, records
from consumer.codec import AvroCodec, DecodeError, SchemaRegistry
from consumer.ingest import Decoded
from consumer.kafka_types import MessageLike
from consumer.poison import Poison
from service.messages import SalesEnvelope
from service.reasons import ReasonCode

log = structlog.get_logger("dayclose.consumer")


class Decoder:
    def __init__(self, sales_topic: str, commands_topic: str, registry: SchemaRegistry | None = None) -> None:
        self.commands_topic = commands_topic
        self.sales_codec = AvroCodec(schemas.SALES_EVENT, sales_topic, registry)
        self.command_codec = AvroCodec(schemas.COMMAND, commands_topic, registry)
        # Which reader the sales events get (the C extension, or the slower one with a warning saying why).
        log.info("codec.reader", schema=schemas.SALES_EVENT, reader=self.sales_codec.reader)

    def usable(self, batch: Sequence[MessageLike]) -> list[MessageLike]:
        """The batch without librdkafka's error events (the end of a partition, a broker's error: logged)."""
        return [m for m in batch if not _is_error(m)]

    def decode(self, batch: Sequence[MessageLike]) -> Decoded:
        """Poison that could not be decoded names no organization (its key is unverified); poison that
        decoded names its payload's (see consumer/poison.py)."""
        out = Decoded()
        for msg in batch:
            is_command = msg.topic() == self.commands_topic
            try:
                record = (self.command_codec if is_command else self.sales_codec).decode(msg.value())
            except DecodeError as exc:
                out.poison.append(Poison(msg, exc.code, str(exc)))
                continue
            except (ValueError, KeyError, TypeError) as exc:
                out.poison.append(Poison(msg, ReasonCode.INVALID_EVENT, f"{type(exc).__name__}: {exc}"))
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


def _is_error(msg: MessageLike) -> bool:
    err = msg.error()
    if err is None:
        return False
    if err.code() != KafkaError._PARTITION_EOF:
        log.warning("kafka.message_error", error=str(err))
    return True

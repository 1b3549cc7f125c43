"""Writes outbound events into the outbox, inside the caller's transaction, encoded for the wire."""

from __future__ import annotations

from typing import Any

import psycopg

import schemas
from consumer.codec import AvroCodec, SchemaRegistry
from consumer.outcomes import Outcome
from dayclose.db import outbox


class EventWriter:
    def __init__(self, outcomes_topic: str, dead_letter_topic: str, registry: SchemaRegistry | None = None) -> None:
        self.outcomes = AvroCodec(schemas.EXPORT_OUTCOME, outcomes_topic, registry)
        self.dead_letters = AvroCodec(schemas.DEAD_LETTER, dead_letter_topic, registry)

    def outcome(self, conn: psycopg.Connection[Any], event: Outcome) -> None:
        record = event.to_record()
        key = event.organization_id.encode() if event.organization_id else None
        outbox.enqueue(conn, self.outcomes.topic, schemas.EXPORT_OUTCOME, key, self.outcomes.encode(record))

    def dead_letter(self, conn: psycopg.Connection[Any], record: dict[str, Any]) -> None:
        outbox.enqueue(conn, self.dead_letters.topic, schemas.DEAD_LETTER, record["original_key"],
                       self.dead_letters.encode(record))

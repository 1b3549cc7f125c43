"""The transactional outbox: events (outcomes, dead letters, BackOffice's commands) are written in the
transaction of the state change they report, encoded for the wire, and published later by the relay
(:mod:`consumer.relay`)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import psycopg

from service.messages import Command, DeadLetter, Outcome
from service.ports import EventEncoder, OutboxMessage, OutboxRow
from storage.notifications import PostgresNotifications

CHANNEL = "dayclose_outbox"
_RELAY_LOCK = 0x6463_6F62  # "dcob": one publishing relay at a time
#: How long the scrape-time depth query may take before it gives up.
DEPTH_TIMEOUT_MS = 2000
#: A conflicting version of an event is dead-lettered and notified at most once this often
#: (``DAYCLOSE_CONFLICT_NOTICE_WINDOW_SECONDS``).
CONFLICT_NOTICE_WINDOW = timedelta(days=1)


class PostgresOutbox:
    def __init__(self, conn: psycopg.Connection[Any], encoder: EventEncoder) -> None:
        self.conn = conn
        self.encoder = encoder

    def outcome(self, event: Outcome) -> None:
        """The outcome event, and the organization's notification of it (BackOffice's list), together."""
        self._enqueue(self.encoder.outcome(event))
        PostgresNotifications(self.conn).record(event)

    def dead_letter(self, letter: DeadLetter) -> None:
        self._enqueue(self.encoder.dead_letter(letter))

    def command(self, command: Command) -> None:
        self._enqueue(self.encoder.command(command))

    def _enqueue(self, message: OutboxMessage) -> None:
        self.conn.execute(
            "INSERT INTO outbox (topic, schema_name, key, value) VALUES (%s, %s, %s, %s)",
            (message.topic, message.schema_name, message.key, message.value),
        )
        # NOTIFY is delivered at commit (and folded into one per transaction): the relay wakes exactly
        # when the row becomes visible, in this process or another.
        self.conn.execute(f"NOTIFY {CHANNEL}")

    # --- the relay's side ---------------------------------------------------------------------------

    def lock_publisher(self) -> bool:
        """A transaction-scoped advisory lock: only one relay publishes at a time, so events leave in order."""
        row = self.conn.execute("SELECT pg_try_advisory_xact_lock(%s)", (_RELAY_LOCK,)).fetchone()
        return bool(row and row[0])

    def unsent(self, limit: int, max_attempts: int) -> list[OutboxRow]:
        """The oldest unsent rows not yet set aside, locked until the transaction ends."""
        rows = self.conn.execute(
            "SELECT id, topic, key, value FROM outbox WHERE sent_at IS NULL AND attempts < %s "
            "ORDER BY id LIMIT %s FOR UPDATE SKIP LOCKED",
            (max_attempts, limit),
        ).fetchall()
        return [OutboxRow(r[0], r[1], bytes(r[2]) if r[2] is not None else None, bytes(r[3])) for r in rows]

    def mark_sent(self, ids: Sequence[int]) -> None:
        self.conn.execute("UPDATE outbox SET sent_at = now() WHERE id = ANY(%s)", (list(ids),))

    def count_refusals(self, refused: dict[int, str]) -> None:
        """Rows Kafka refused for good: count the attempt and keep the error (set aside after too many)."""
        if not refused:
            return
        self.conn.execute(
            "UPDATE outbox SET attempts = attempts + 1, last_error = data.error FROM "
            "(SELECT unnest(%s::bigint[]) AS id, unnest(%s::text[]) AS error) AS data "
            "WHERE outbox.id = data.id",
            (list(refused), [e[:1000] for e in refused.values()]),
        )

    def depth(self) -> tuple[int, float]:
        """(unsent rows, age in seconds of the oldest unsent row)."""
        self.conn.execute(f"SET LOCAL statement_timeout = {DEPTH_TIMEOUT_MS}")
        row = self.conn.execute(
            "SELECT count(*), coalesce(extract(epoch FROM now() - min(created_at)), 0) FROM outbox "
            "WHERE sent_at IS NULL"
        ).fetchone()
        return (int(row[0]), float(row[1])) if row else (0, 0.0)


class PostgresDeadLetters:
    def __init__(self, conn: psycopg.Connection[Any], conflict_window: timedelta = CONFLICT_NOTICE_WINDOW) -> None:
        self.conn = conn
        self.conflict_window = conflict_window

    def first_conflict_notice(self, org: str, event_key: str, version: str) -> bool:
        """True when this conflicting version of the organization's event was not dead-lettered and notified within
        the window (then it is now); False for a copy within the window (counted only)."""
        row = self.conn.execute(
            "SELECT notified_at > now() - %s FROM conflict_notices "
            "WHERE organization_id = %s AND event_key = %s AND version = %s FOR UPDATE",
            (self.conflict_window, org, event_key, version),
        ).fetchone()
        if row is None:
            inserted = self.conn.execute(
                """INSERT INTO conflict_notices (organization_id, event_key, version) VALUES (%s, %s, %s)
                   ON CONFLICT (organization_id, event_key, version) DO UPDATE SET copies = conflict_notices.copies + 1
                   RETURNING xmax = 0""",
                (org, event_key, version),
            ).fetchone()
            return bool(inserted and inserted[0])
        self.conn.execute(
            """UPDATE conflict_notices SET copies = copies + 1,
                      notified_at = CASE WHEN %s THEN notified_at ELSE now() END
               WHERE organization_id = %s AND event_key = %s AND version = %s""",
            (bool(row[0]), org, event_key, version),
        )
        return not row[0]

    def record_once(self, topic: str, partition: int, offset: int, error_code: str) -> bool:
        row = self.conn.execute(
            "INSERT INTO dead_letters (source_topic, source_partition, source_offset, error_code) "
            "VALUES (%s, %s, %s, %s) ON CONFLICT DO NOTHING RETURNING 1",
            (topic, partition, offset, str(error_code)),
        ).fetchone()
        return row is not None

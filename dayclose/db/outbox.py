"""The transactional outbox: events are written with the state change they report, sent later."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import psycopg

CHANNEL = "dayclose_outbox"


@dataclass(frozen=True)
class OutboxRow:
    id: int
    topic: str
    key: bytes | None
    value: bytes


def enqueue(conn: psycopg.Connection[Any], topic: str, schema_name: str, key: bytes | None, value: bytes) -> None:
    conn.execute(
        "INSERT INTO outbox (topic, schema_name, key, value) VALUES (%s, %s, %s, %s)",
        (topic, schema_name, key, value),
    )
    # NOTIFY is delivered at commit (and folded into one per transaction): the relay wakes exactly
    # when the row becomes visible, in this process or another.
    conn.execute(f"NOTIFY {CHANNEL}")


def unsent(conn: psycopg.Connection[Any], limit: int = 500) -> list[OutboxRow]:
    rows = conn.execute(
        "SELECT id, topic, key, value FROM outbox WHERE sent_at IS NULL ORDER BY id LIMIT %s", (limit,)
    ).fetchall()
    return [OutboxRow(r[0], r[1], bytes(r[2]) if r[2] is not None else None, bytes(r[3])) for r in rows]


def mark_sent(conn: psycopg.Connection[Any], ids: list[int]) -> None:
    conn.execute("UPDATE outbox SET sent_at = now() WHERE id = ANY(%s)", (ids,))


def depth(conn: psycopg.Connection[Any]) -> tuple[int, float]:
    """(unsent rows, age in seconds of the oldest unsent row)."""
    row = conn.execute(
        "SELECT count(*), coalesce(extract(epoch FROM now() - min(created_at)), 0) FROM outbox WHERE sent_at IS NULL"
    ).fetchone()
    assert row is not None
    return int(row[0]), float(row[1])

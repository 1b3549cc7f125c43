"""The batch writers the prototypes time: today's ingest, the naive peer's, and the lean set-based shapes.

Every writer takes a connection inside an open transaction and one batch of pre-built rows, and returns
its statement's result rows: per store-day (organization, store, date, new rows, …) and per id that was
not new (…, event key, stored payload, …, differs). The runner checks the new rows against the events, so
a writer that drops rows fails loudly.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import psycopg
from psycopg.adapt import Dumper
from psycopg.pq import Format

from bench import peer
from bench.prototypes import ingest_schema as sql
from mapping.totals import item_rows
from service.messages import SalesEnvelope
from storage.codecs import item_to_json

StagingRow = tuple[str, str, date, str, str, str]
BucketStage = tuple[str, str, str, date, str, str, int, int, int, int, int]


@dataclass
class Batch:
    envelopes: Sequence[SalesEnvelope]
    rows: Sequence[StagingRow]  # organization, store, date, kind, event key, payload JSON
    buckets: Sequence[BucketStage]  # organization, event key, store, date, then the bucket row
    peer_rows: Sequence[tuple[Any, ...]]


def staging_row(env: SalesEnvelope) -> StagingRow:
    payload = json.dumps(item_to_json(env.item), separators=(",", ":"))  # type: ignore[arg-type]
    return (env.organization_id, env.store_id, env.business_date, env.kind, env.event_key, payload)


def bucket_stage(env: SalesEnvelope) -> list[BucketStage]:
    """The event's bucket rows (:func:`mapping.totals.item_rows`), keyed by the event so only new ones count."""
    head = (env.organization_id, env.event_key, env.store_id, env.business_date)
    return [(*head, *row) for row in item_rows(env.item)]  # type: ignore[arg-type]


class _PreEncodedJsonb(Dumper):
    """Binary jsonb from JSON text already built: version byte 1, then the text (what PostgreSQL parses)."""

    format = Format.BINARY

    def dump(self, obj: Any) -> bytes:
        return b"\x01" + (obj.encode() if isinstance(obj, str) else bytes(obj))


def prepare(conn: psycopg.Connection[Any]) -> None:
    """Per connection (in autocommit mode, so that every ``conn.transaction()`` is a transaction of its own,
    not a savepoint): the temp staging tables, and binary COPY taking pre-built JSON text for jsonb."""
    if not conn.autocommit:
        raise ValueError("the prototypes' connections run in autocommit mode")
    jsonb = psycopg.adapters.types["jsonb"].oid
    dumper = type("PreEncodedJsonb", (_PreEncodedJsonb,), {"oid": jsonb})
    conn.adapters.register_dumper(type("PreEncoded", (str,), {}), dumper)
    conn.execute(sql.STAGING)


def _copy(
    cur: psycopg.Cursor[Any], table: str, columns: str, rows: Sequence[Sequence[Any]], types: list[str] | None
) -> None:
    binary = " (FORMAT BINARY)" if types else ""
    with cur.copy(f"COPY {table} ({columns}) FROM STDIN{binary}") as copy:  # noqa: S608 - constants
        if types:
            copy.set_types(types)
        for row in rows:
            copy.write_row(row)


Result = list[tuple[Any, ...]]
Writer = Callable[[psycopg.Connection[Any], Batch], Result]


def new_rows(result: Result) -> int:
    return sum(r[3] for r in result if r[3] is not None)


def copy_writer(*, binary: bool, totals: bool | str, partitioned: bool, probe_partitions: bool = True) -> Writer:
    statement = sql.insert_statement(
        source="staging", totals=totals, partitioned=partitioned, probe_partitions=probe_partitions
    )

    def write(conn: psycopg.Connection[Any], batch: Batch) -> Result:
        with conn.cursor() as cur:
            _copy(cur, "staging", sql.STAGING_COLUMNS, batch.rows, sql.STAGING_TYPES if binary else None)
            if totals:
                _copy(cur, "staged_buckets", sql.BUCKET_COLUMNS, batch.buckets, sql.BUCKET_TYPES if binary else None)
            cur.execute(sql.LOCK_STORE_DAYS)
            return cur.execute(statement).fetchall()

    return write


def _columns(rows: Sequence[Sequence[Any]], n: int) -> list[list[Any]]:
    return [[r[i] for r in rows] for i in range(n)]


def unnest_writer(*, totals: bool, partitioned: bool) -> Writer:
    statement = sql.insert_statement(
        source=sql.UNNEST_SOURCE, totals=totals, partitioned=partitioned, buckets=sql.UNNEST_BUCKETS
    )

    def write(conn: psycopg.Connection[Any], batch: Batch) -> Result:
        columns = _columns(batch.rows, 6)
        conn.execute(sql.UNNEST_LOCK, columns[:3])
        params = columns + (_columns(batch.buckets, 11) if totals else [])
        return conn.execute(statement, params).fetchall()

    return write


# Today's statement (dayclose/db/sales.py, _insert_items), with the payload JSON built before the clock starts
# like every other writer's; the store upsert and the late-sales query are called from the product itself.
TODAY = """WITH input AS (
       SELECT * FROM unnest(%b::text[], %b::text[], %b::date[], %b::text[], %b::text[], %b::text[])
           AS t(o, s, d, k, e, p)),
   ins AS (
       INSERT INTO sales_events (organization_id, store_id, business_date, kind, event_key, payload)
       SELECT o, s, d, k, e, p::jsonb FROM input
       ON CONFLICT (organization_id, event_key) DO NOTHING
       RETURNING organization_id, store_id, business_date, event_key),
   again AS MATERIALIZED (
       SELECT * FROM input i
       WHERE NOT EXISTS (SELECT 1 FROM ins WHERE ins.organization_id = i.o AND ins.event_key = i.e))
   SELECT organization_id, store_id, business_date, count(*), NULL::text, NULL::jsonb
   FROM ins GROUP BY 1, 2, 3
   UNION ALL
   SELECT a.o, x.store_id, x.business_date, NULL, a.e, x.payload
   FROM again a JOIN sales_events x ON x.organization_id = a.o AND x.event_key = a.e
   WHERE (x.store_id, x.business_date, x.payload) IS DISTINCT FROM (a.s, a.d, a.p::jsonb)"""


# The store upsert and the late-sales query of that version (storage/sales.py before issue #16's phase 2).
TODAY_STORES = """INSERT INTO stores (organization_id, store_id, name) VALUES (%s, %s, %s)
    ON CONFLICT (organization_id, store_id) DO UPDATE SET name = coalesce(excluded.name, stores.name)
    WHERE excluded.name IS NOT NULL AND excluded.name IS DISTINCT FROM stores.name"""
TODAY_LATE = """SELECT t.o, t.s, t.d, (SELECT count(*) FROM sales_events e
                                      WHERE e.organization_id = t.o AND e.store_id = t.s AND e.business_date = t.d)
    FROM unnest(%b::text[], %b::text[], %b::date[]) AS t(o, s, d)
    WHERE EXISTS (SELECT 1 FROM day_closes c
                  WHERE c.organization_id = t.o AND c.store_id = t.s AND c.business_date = t.d)
    ORDER BY 1, 2, 3"""


def today_writer(conn: psycopg.Connection[Any], batch: Batch) -> Result:
    stores = sorted({(e.organization_id, e.store_id) for e in batch.envelopes})
    with conn.cursor() as cur:
        cur.executemany(TODAY_STORES, [(o, s, None) for o, s in stores])
    result = conn.execute(TODAY, _columns(batch.rows, 6)).fetchall()
    days = sorted({(r[0], r[1], r[2]) for r in result if r[3] is not None})
    if days:
        conn.execute(TODAY_LATE, ([d[0] for d in days], [d[1] for d in days], [d[2] for d in days])).fetchall()
    return result


def peer_writer(conn: psycopg.Connection[Any], batch: Batch) -> Result:
    with conn.cursor() as cur:
        with cur.copy(peer.COPY) as copy:
            for row in batch.peer_rows:
                copy.write_row(row)
        cur.execute(peer.INSERT)
        return [(None, None, None, cur.rowcount)]

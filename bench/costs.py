"""Per-event costs of ingest, one step at a time, single-threaded in the benchmark process: the inputs of
the capacity model in docs/performance.md. Also ``python -m bench --only costs``.

Steps (µs per event, median of three passes over the same receipts):
  decode       AvroCodec.decode (what the raw baseline pays)
  typed        consumer.records.sales_envelope: typed, validated receipt objects
  row_json     the stored row's JSON (storage.codecs.item_row_json, msgspec), part of db_write
  buckets      the running totals' buckets of each event, summed in memory (consumer/accumulator.py)
  db_write     storage.sales.ingest_sales per batch of 500 in its own durable transaction (client + server)
  peer_row     the lean peer's row: event key and its compact stored form (dayclose's row shape)
  peer_write   the lean peer's COPY + INSERT … ON CONFLICT per batch of 500, durable (rows built before)
and per event of db_write: WAL bytes and records; per stored row: bytes including indexes.
"""

from __future__ import annotations

import statistics
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import psycopg

import schemas
from bench import peer, workload
from bench.measures import DAY, Sizes, table_sizes
from bench.report import Figure
from bench.stack import ORG, Stack
from consumer.codec import AvroCodec
from consumer.records import sales_envelope
from mapping.buckets import Buckets, add_item
from service.messages import DayClosed, SalesEnvelope, SalesItem
from storage.codecs import item_row_json
from storage.sales import ingest_sales

BATCH = 500


def _per_event_us(fn: Callable[[], Any], n: int, passes: int = 3) -> float:
    times = []
    for _ in range(passes):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times) / n * 1e6


def _batches(items: Sequence[Any]) -> list[Sequence[Any]]:
    return [items[i : i + BATCH] for i in range(0, len(items), BATCH)]


def costs(stack: Stack, sizes: Sizes) -> list[Figure]:
    per_store = 400
    msgs = workload.receipts(ORG, max(1, sizes.cost_events // per_store), per_store, DAY)
    n = len(msgs)
    codec = AvroCodec(schemas.SALES_EVENT, "bench")
    values = [v for _, v in msgs]
    records = [codec.decode(v) for v in values]
    envelopes = [sales_envelope(r) for r in records]
    items = [e.item for e in envelopes if not isinstance(e.item, DayClosed)]
    us = {
        "decode": _per_event_us(lambda: [codec.decode(v) for v in values], n),
        "typed": _per_event_us(lambda: [sales_envelope(r) for r in records], n),
        "row_json": _per_event_us(lambda: [item_row_json(i) for i in items], n),
        "buckets": _per_event_us(lambda: _buckets(items), n),
    }
    ours = _db_cost(stack, n, lambda conn: _each(_ingest_in_tx, conn, _batches(envelopes)), "sales", migrated=True)
    rows = [peer.row(r) for r in (codec.decode(v) for v in values)]
    peer_records = [codec.decode(v) for v in values]
    us["peer_row"] = _per_event_us(lambda: [peer.row(r) for r in peer_records], n)
    theirs = _db_cost(
        stack, n, lambda conn: _each(_peer_batch, conn, _batches(rows)), "peer_sales", migrated=False, setup=peer.SETUP
    )
    us["db_write"], us["peer_write"] = ours.pop("us"), theirs.pop("us")
    detail = {
        "events": n,
        "batch": BATCH,
        "us_per_event": {k: round(v, 1) for k, v in us.items()},
        "dayclose_db": ours,
        "peer_db": theirs,
    }
    return [
        Figure("cost: Avro decode", us["decode"], "µs/ev", None, False, detail),
        Figure("cost: typed + validated receipt", us["typed"], "µs/ev", None, False, {}),
        Figure("cost: running totals' buckets, summed in memory", us["buckets"], "µs/ev", None, False, {}),
        Figure(
            "cost: database write, dayclose (incl. row JSON)",
            us["db_write"],
            "µs/ev",
            None,
            False,
            {"row_json_us": round(us["row_json"], 1)},
        ),
        Figure(
            "cost: database write, lean COPY peer (excl. row JSON)",
            us["peer_write"],
            "µs/ev",
            None,
            False,
            {"row_json_us": round(us["peer_row"], 1)},
        ),
        Figure("cost: stored bytes per row incl. indexes, dayclose", ours["bytes_per_row"], "B", None, False, {}),
        Figure("cost: WAL bytes per event, dayclose", ours["wal_bytes_per_event"], "B", None, False, {}),
    ]


def _buckets(items: Sequence[SalesItem]) -> Buckets:
    """What the consumer adds to its in-memory running totals per event (consumer/accumulator.py)."""
    buckets: Buckets = defaultdict(lambda: [0, 0, 0, 0])
    for item in items:
        add_item(buckets, item)
    return buckets


def _ingest_in_tx(conn: psycopg.Connection[Any], batch: Sequence[SalesEnvelope]) -> None:
    with conn.transaction():
        ingest_sales(conn, batch)


def _each(
    write: Callable[[psycopg.Connection[Any], Any], None], conn: psycopg.Connection[Any], batches: Iterable[Any]
) -> None:
    for batch in batches:
        write(conn, batch)


def _peer_batch(conn: psycopg.Connection[Any], rows: Sequence[tuple[Any, ...]]) -> None:
    with conn.transaction(), conn.cursor() as cur:
        with cur.copy(peer.COPY) as copy:
            for r in rows:
                copy.write_row(r)
        cur.execute(peer.INSERT)


def _db_cost(
    stack: Stack,
    n: int,
    write: Callable[[psycopg.Connection[Any]], Any],
    table: str,
    *,
    migrated: bool,
    setup: str = "",
) -> dict[str, Any]:
    """One durable pass into a fresh database: µs per event, WAL per event, bytes per row."""
    db = stack.database() if migrated else stack.empty_database()
    try:
        with psycopg.connect(db, autocommit=True) as conn:
            if setup:
                conn.execute(setup)
            stack.checkpoint()
            start = stack.wal_lsn()
            started = time.perf_counter()
            write(conn)
            took = time.perf_counter() - started
            wal = stack.wal_between(start, stack.wal_lsn())
            row = conn.execute(
                f"SELECT count(*), {table_sizes(table)} FROM {table}"  # noqa: S608 - constant
            ).fetchone()
    finally:
        stack.drop(db)
    if row is None or row[0] != n:
        raise RuntimeError(f"{table}: {row and row[0]} rows for {n} events")
    return {
        "us": took / n * 1e6,
        "bytes_per_row": row[1] / n,
        "heap_bytes_per_row": row[2] / n,
        "index_bytes_per_row": row[3] / n,
    } | {f"wal_{k}_per_event": v / n for k, v in wal.items()}

"""Ingest shapes for issue #16, measured on the benchmark's data: ``python -m bench.prototypes.ingest_sql``.

The same pre-built rows (by default 200,000 receipts of 500 stores from :mod:`devstack.sampledata`,
interleaved as tills publish them, decoded and typed before the clock starts) are written in batches of
500, one durable transaction each (fsync and synchronous commit on, as ``make bench``), into a fresh
database per variant, after a CHECKPOINT. Per event: µs of wall time (client + server), WAL bytes and
records between the two WAL positions (``pg_walinspect``), and stored bytes. Variants:

* ``peer``: the naive COPY peer's statements (:mod:`bench.peer`) — the yardstick;
* ``today``: today's ingest statement on today's schema (five indexes, a store upsert per store);
* ``unnest`` / ``copy-text`` / ``copy-binary``: the lean schema and one set-based statement
  (:mod:`bench.prototypes.ingest_schema`), rows sent as binary arrays, text COPY or binary COPY;
  ``+totals`` adds the running totals of the new rows (:mod:`mapping.totals` buckets) in the same statement,
  ``INSERT … ON CONFLICT DO UPDATE`` per bucket, or ``by update`` (``UPDATE … FROM``, then inserting the
  buckets that did not exist); ``unlogged`` keeps them in an UNLOGGED table;
* deferred totals (:mod:`bench.prototypes.fold`): the lean statement alone, and every 20 (or 100) batches the
  store-days written are ``folded`` (their new rows read back and summed, in Python or in SQL) or, for
  totals accumulated ``in memory`` from the rows the statement reported new, ``flushed`` (checked against
  the rows' count, then added); the fold or flush time is a column of its own, its WAL is in the row's WAL;
* ``partitioned``: ``sales`` in monthly partitions (14, as a 400-day retention keeps); an id stored under any
  business date is found by one index probe per partition before the insert.

The totals table starts with 30 earlier days of 500 stores (210,000 buckets), as a running service has it.
Then the day-close claim by watermark (:mod:`bench.prototypes.claim`) for a 5,000- and a 50,000-receipt day.
Prints a table; ``--json FILE`` writes the figures. Takes about ten minutes on the 2-core VM.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import signal
import statistics
import sys
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import psycopg

from bench import peer, workload
from bench.measures import DAY
from bench.progress import Progress
from bench.prototypes import claim, fold
from bench.prototypes import ingest_schema as sql
from bench.prototypes import ingest_writers as w
from consumer import records
from devstack.postgres import LocalPostgres, create_database, drop_database
from storage.migrate import migrate

ORG = "org-proto"
BATCH = 500
MONTHS = (date(2025, 11, 1), date(2026, 12, 1))  # 14 monthly partitions (5 quarterly), as a 400-day retention keeps


#: The totals of the 30 days before, as a running service holds them (500 stores × 14 buckets × 30 days), so
#: the upserts probe an index of realistic depth.
HISTORY = f"""INSERT INTO day_totals (organization_id, store_id, business_date, kind, key, rate, a, b, n, m)
    SELECT '{ORG}', 's' || lpad(s::text, 5, '0'), DATE '{DAY}' - d, 'line', 'group' || g, 600, 10000, 566, 3, 1
    FROM generate_series(0, 499) s, generate_series(1, 30) d, generate_series(1, 14) g"""  # noqa: S608


@dataclass(frozen=True)
class Variant:
    name: str
    write: w.Writer
    schema: str  # "today", "peer" or the lean DDL
    table: str = "sales"
    deferred: str = ""  # totals kept apart from the ingest statement: "python" / "sql" (folds), "memory" (flushes)
    every: int = 0  # … folded or flushed for every store-day written after this many batches


def variants() -> list[Variant]:
    lean = sql.schema(partitioned=False)
    unlogged = sql.schema(partitioned=False, unlogged_totals=True)
    parts = sql.schema(partitioned=True, months=MONTHS)
    folded = lean + ";\n" + fold.FOLDS
    lean_writer = w.copy_writer(binary=True, totals=False, partitioned=False)
    return [
        Variant("peer", w.peer_writer, "peer", peer.TABLE),
        Variant("today", w.today_writer, "today", "sales_events"),
        Variant("unnest", w.unnest_writer(totals=False, partitioned=False), lean),
        Variant("unnest +totals", w.unnest_writer(totals=True, partitioned=False), lean),
        Variant("copy-text", w.copy_writer(binary=False, totals=False, partitioned=False), lean),
        Variant("copy-text +totals", w.copy_writer(binary=False, totals=True, partitioned=False), lean),
        Variant("copy-binary", w.copy_writer(binary=True, totals=False, partitioned=False), lean),
        Variant("copy-binary +totals", w.copy_writer(binary=True, totals=True, partitioned=False), lean),
        Variant("copy-binary +totals by update", w.copy_writer(binary=True, totals="update", partitioned=False), lean),
        Variant(
            "copy-binary, totals folded in Python every 20 batches", lean_writer, folded, deferred="python", every=20
        ),
        Variant("copy-binary, totals folded in SQL every 20 batches", lean_writer, folded, deferred="sql", every=20),
        Variant(
            "copy-binary, totals in memory, flushed every 20 batches", lean_writer, folded, deferred="memory", every=20
        ),
        Variant(
            "copy-binary, totals in memory, flushed every 100 batches",
            lean_writer,
            folded,
            deferred="memory",
            every=100,
        ),
        Variant("copy-binary +totals unlogged", w.copy_writer(binary=True, totals=True, partitioned=False), unlogged),
        Variant("partitioned copy-binary", w.copy_writer(binary=True, totals=False, partitioned=True), parts),
        Variant(
            "partitioned copy-binary, no global id probe (unsafe)",
            w.copy_writer(binary=True, totals=False, partitioned=True, probe_partitions=False),
            parts,
        ),
        Variant(
            "partitioned by quarter copy-binary",
            w.copy_writer(binary=True, totals=False, partitioned=True),
            sql.schema(partitioned=True, months=MONTHS, step=3),
        ),
        Variant(
            "partitioned copy-binary +totals by update",
            w.copy_writer(binary=True, totals="update", partitioned=True),
            parts,
        ),
    ]


def prebuild(stores: int, per_store: int) -> tuple[list[w.Batch], dict[str, float]]:
    """Encode, decode and type the workload, then build every writer's rows; µs per event of each step."""
    encoded = workload.receipts(ORG, stores, per_store, DAY)
    codec = workload.codec()
    decoded = [codec.decode(v) for _, v in encoded]
    envelopes = [records.sales_envelope(r) for r in decoded]
    # The prebuilt rows are far more live objects than a running service holds: keep the collector from
    # scanning them again and again while the per-event Python steps are timed.
    gc.collect()
    gc.freeze()
    started = time.perf_counter()
    rows = [w.staging_row(e) for e in envelopes]
    row_s = time.perf_counter() - started
    started = time.perf_counter()
    buckets = [w.bucket_stage(e) for e in envelopes]
    bucket_s = time.perf_counter() - started
    peer_rows = [peer.row(r) for r in decoded]
    batches = [
        w.Batch(
            envelopes[i : i + BATCH],
            rows[i : i + BATCH],
            [b for per in buckets[i : i + BATCH] for b in per],
            peer_rows[i : i + BATCH],
        )
        for i in range(0, len(envelopes), BATCH)
    ]
    n = len(envelopes)
    return batches, {
        "row_json_us": row_s / n * 1e6,
        "bucket_rows_us": bucket_s / n * 1e6,
        "bucket_rows_per_event": sum(len(b) for b in buckets) / n,
    }


class Server:
    """A durable private PostgreSQL and the WAL/size probes the benchmark uses (bench/stack.py)."""

    def __init__(self) -> None:
        self.pg = LocalPostgres(durable=True).start()
        with psycopg.connect(self.pg.url, autocommit=True) as conn:
            conn.execute("CREATE EXTENSION IF NOT EXISTS pg_walinspect")

    def database(self, schema: str) -> str:
        url = create_database(self.pg.url, f"proto_{uuid.uuid4().hex[:10]}")
        if schema == "today":
            migrate(url)
        elif schema == "peer":
            pass  # bench.peer.SETUP runs on the writer's connection (it creates its temp staging table too)
        else:
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute(schema.encode())
                conn.execute(HISTORY)
                conn.execute("VACUUM ANALYZE day_totals")
        return url

    def drop(self, url: str) -> None:
        drop_database(self.pg.url, url.rsplit("/", 1)[-1])

    def lsn(self) -> int:
        with psycopg.connect(self.pg.url, autocommit=True) as conn:
            return int(conn.execute("SELECT pg_current_wal_lsn() - '0/0'::pg_lsn").fetchone()[0])  # type: ignore[index]

    def wal(self, start: int, end: int) -> dict[str, int]:
        if end <= start:  # nothing written (pg_walinspect refuses an empty range)
            return {"bytes": 0, "records": 0, "fpi_bytes": 0}
        with psycopg.connect(self.pg.url, autocommit=True) as conn:
            row = conn.execute(
                "SELECT sum(count), sum(fpi_size) FROM pg_get_wal_stats('0/0'::pg_lsn + %s::numeric, "
                "'0/0'::pg_lsn + %s::numeric)",
                (start, end),
            ).fetchone()
        return {"bytes": end - start, "records": int(row[0] or 0), "fpi_bytes": int(row[1] or 0)}  # type: ignore[index]

    def checkpoint(self) -> None:
        with psycopg.connect(self.pg.url, autocommit=True) as conn:
            conn.execute("CHECKPOINT")

    def stop(self) -> None:
        self.pg.stop()


def run(server: Server, variant: Variant, batches: Sequence[w.Batch]) -> dict[str, Any]:
    url = server.database(variant.schema)
    n = sum(len(b.rows) for b in batches)
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            if variant.schema == "peer":
                conn.execute(peer.SETUP)
            else:
                w.prepare(conn)
            server.checkpoint()
            start, stored = server.lsn(), 0
            folding = fold.Folding(variant.deferred, variant.every, server.lsn)
            started = time.perf_counter()
            with Progress(variant.name, len(batches), "batches") as bar:
                for i, batch in enumerate(batches):
                    with conn.transaction():
                        result = variant.write(conn, batch)
                    stored += w.new_rows(result)
                    bar.update(i + 1)
                    folding.after(conn, batch, result, last=i == len(batches) - 1)
            took = time.perf_counter() - started - folding.seconds
            wal = server.wal(start, server.lsn())
            conn.execute("SELECT pg_stat_force_next_flush()")
            hot = conn.execute(
                "SELECT coalesce(sum(n_tup_upd), 0), coalesce(sum(n_tup_hot_upd), 0) "
                "FROM pg_stat_user_tables WHERE relname = 'day_totals'"
            ).fetchone()
            assert hot is not None
            sizes = conn.execute(f"""SELECT count(*), pg_total_relation_size('{variant.table}'),
                                     (SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0)
                                      FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
                                      WHERE i.inhparent = '{variant.table}'::regclass),
                                     to_regclass('day_totals') IS NOT NULL
                                     FROM {variant.table}""").fetchone()  # noqa: S608 - constants
            assert sizes is not None
            totals_bytes = conn.execute("SELECT pg_total_relation_size('day_totals')").fetchone()[0] if sizes[3] else 0  # type: ignore[index]
            if stored != n or sizes[0] != n:
                raise RuntimeError(f"{variant.name}: stored {stored} new rows ({sizes[0]} in the table) for {n} events")
            checks = claim.check_totals(conn, batches) if "totals" in variant.name else {}
    finally:
        server.drop(url)
    return {
        "us_per_event": took / n * 1e6,
        "wal_bytes_per_event": wal["bytes"] / n,
        "wal_records_per_event": wal["records"] / n,
        "wal_fpi_bytes_per_event": wal["fpi_bytes"] / n,
        "stored_bytes_per_row": (int(sizes[1]) + int(sizes[2])) / n,
        "totals_bytes": int(totals_bytes),
        "totals_updates": int(hot[0]),
        "totals_hot_updates": int(hot[1]),
        **folding.figures(n),
        **checks,
    }


def table(results: dict[str, dict[str, Any]]) -> str:
    head = (
        "| variant | µs/event (median [range]) | WAL B/event | WAL records/event | of which FPI B | stored B/row | "
        "totals updates (HOT) | fold or flush µs/event |"
    )
    lines = [head, "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for name, r in results.items():
        hot = f"{r['totals_updates']:,} ({r['totals_hot_updates']:,})" if r["totals_updates"] else "—"
        folded = f"{r['fold_us_per_event']:.1f}" if "fold_us_per_event" in r else "—"
        low, high = r["us_range"]
        lines.append(
            f"| {name} | {r['us_per_event']:.1f} [{low:.0f}–{high:.0f}] | {r['wal_bytes_per_event']:.0f} | "
            f"{r['wal_records_per_event']:.2f} | {r['wal_fpi_bytes_per_event']:.0f} | "
            f"{r['stored_bytes_per_row']:.0f} | {hot} | {folded} |"
        )
    return "\n".join(lines)


STORE_UPSERTS = {
    "ON CONFLICT DO UPDATE … WHERE name IS DISTINCT FROM (today's, set-based)": """INSERT INTO stores (organization_id, store_id, name)
           SELECT o, s, NULL FROM unnest(%s::text[], %s::text[]) t(o, s)
           ON CONFLICT (organization_id, store_id) DO UPDATE SET name = coalesce(excluded.name, stores.name)
           WHERE excluded.name IS NOT NULL AND excluded.name IS DISTINCT FROM stores.name""",
    "ON CONFLICT DO NOTHING (the lean statement's)": """INSERT INTO stores (organization_id, store_id) SELECT o, s FROM unnest(%s::text[], %s::text[]) t(o, s)
           ON CONFLICT DO NOTHING""",
}


def store_upserts(server: Server, stores: int = 500) -> dict[str, dict[str, float]]:
    """WAL of one batch's store upsert when every store is known and nothing changes: 500 stores, 20 batches."""
    url = server.database(sql.schema(partitioned=False))
    ids = [workload.store_id(n) for n in range(stores)]
    out = {}
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("INSERT INTO stores SELECT %s, s, 'Butik' FROM unnest(%s::text[]) s", (ORG, ids))
            for name, statement in STORE_UPSERTS.items():
                server.checkpoint()
                start = server.lsn()
                for _ in range(20):
                    with conn.transaction():
                        conn.execute(statement, ([ORG] * stores, ids))
                wal = server.wal(start, server.lsn())
                out[name] = {
                    "wal_records_per_store": wal["records"] / (20 * stores),
                    "wal_bytes_per_store": wal["bytes"] / (20 * stores),
                }
    finally:
        server.drop(url)
    return out


def summarize(runs: dict[str, list[dict[str, Any]]]) -> dict[str, dict[str, Any]]:
    """Per variant: the median of every figure over the repeats, and the range of µs per event."""
    out = {}
    for name, measured in runs.items():
        numbers = [k for k, v in measured[0].items() if isinstance(v, int | float)]
        figures = {k: statistics.median(r[k] for r in measured) for k in numbers}
        us = [r["us_per_event"] for r in measured]
        out[name] = figures | {"us_range": (min(us), max(us)), "repeats": len(us)}
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.prototypes.ingest_sql", description=__doc__.split("\n")[0])
    parser.add_argument("--stores", type=int, default=500)
    parser.add_argument("--per-store", type=int, default=400)
    parser.add_argument("--repeat", type=int, default=1, help="run every variant this often, in rotated order")
    parser.add_argument("--only", nargs="*", help="variant names (default: all); 'claim', 'stores' for those alone")
    parser.add_argument("--claim-days", type=int, nargs="*", default=[5_000, 50_000])
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so that the server is stopped on the way out
    started = time.monotonic()
    batches, python_costs = prebuild(args.stores, args.per_store)
    print(
        f"{sum(len(b.rows) for b in batches):,} events in batches of {BATCH}; load average {os.getloadavg()}; "
        f"python per event: {json.dumps({k: round(v, 2) for k, v in python_costs.items()})}",
        flush=True,
    )
    server = Server()
    runs: dict[str, list[dict[str, Any]]] = {}
    claims: list[dict[str, Any]] = []
    stores: dict[str, dict[str, float]] = {}
    chosen = [v for v in variants() if args.only is None or v.name in args.only]
    try:
        for repeat in range(args.repeat):
            # Rotated, so that a slow spell of the shared machine does not always fall on the same variants.
            for variant in chosen[repeat % max(1, len(chosen)) :] + chosen[: repeat % max(1, len(chosen))]:
                runs.setdefault(variant.name, []).append(run(server, variant, batches))
                print(
                    f"  {variant.name}: {json.dumps({k: round(v, 2) for k, v in runs[variant.name][-1].items()})}",
                    flush=True,
                )
        if args.only is None or "stores" in args.only:
            stores = store_upserts(server)
        if args.only is None or "claim" in args.only:
            claims = claim.measure(server, args.claim_days)
    finally:
        server.stop()
    results = summarize({v.name: runs[v.name] for v in chosen if v.name in runs})
    print()
    print(table(results))
    for name, figures in stores.items():
        print(
            f"store upsert, every store known and unchanged, {name}: {figures['wal_records_per_store']:.2f} WAL "
            f"records and {figures['wal_bytes_per_store']:.0f} bytes per store"
        )
    if claims:
        print()
        print(claim.table(claims))
    print(f"\nload average at the end {os.getloadavg()}; {time.monotonic() - started:.0f} s")
    if args.json:
        args.json.write_text(
            json.dumps(
                {"python": python_costs, "ingest": results, "runs": runs, "claim": claims, "stores": stores},
                indent=2,
                default=str,
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""What a round trip to PostgreSQL costs in CPU on this machine, apart from the work of the statement (issue #27): a
booked day's export makes 84 of them (``tests/integration/pipeline/test_export_round_trips.py``), and on this rig
PostgreSQL and the pod share two cores, so their cost is CPU the midnight cannot book with.

    python -m bench.round_trip_cost [--units 2000]

A unit of work of five key look-ups on a small table (``BEGIN``, five ``SELECT … WHERE id = %s``, ``ROLLBACK``), as an
export's read-only units are, made three ways: each statement waited for in turn (as the export's units are today);
the five sent together in libpq's pipeline mode (one wait); the five as one statement (``WHERE id = ANY(%s)``). For
each, per look-up: the wall time, this process's CPU (psycopg and libpq) and the server backend's (user + system from
``/proc``, which other load does not inflate). A local non-durable server, like :mod:`bench.lease_cost`.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg

from bench.pod import cpu_seconds
from devstack.postgres import LocalPostgres, create_database

LOOKUPS = 5


def _each(conn: psycopg.Connection[Any]) -> None:
    for key in range(1, LOOKUPS + 1):
        conn.execute("SELECT v FROM t WHERE id = %s", (key,)).fetchone()


def _pipelined(conn: psycopg.Connection[Any]) -> None:
    with conn.pipeline():
        cursors = [conn.execute("SELECT v FROM t WHERE id = %s", (key,)) for key in range(1, LOOKUPS + 1)]
    for cursor in cursors:
        cursor.fetchone()


def _one_statement(conn: psycopg.Connection[Any]) -> None:
    rows = conn.execute("SELECT id, v FROM t WHERE id = ANY(%s)", (list(range(1, LOOKUPS + 1)),)).fetchall()
    if len(rows) != LOOKUPS:
        raise RuntimeError(f"{len(rows)} rows, not {LOOKUPS}")


WAYS: dict[str, Callable[[psycopg.Connection[Any]], None]] = {
    "each statement waited for": _each,
    f"{LOOKUPS} pipelined, one wait": _pipelined,
    f"{LOOKUPS} as one statement": _one_statement,
}


def measure(url: str, units: int) -> list[tuple[str, float, float, float]]:
    """(way, wall µs, client CPU µs, server CPU µs) per look-up, each way run twice in turn and the lower kept."""
    with psycopg.connect(url, autocommit=True) as setup:
        setup.execute("CREATE TABLE t (id int PRIMARY KEY, v text NOT NULL)")
        setup.execute("INSERT INTO t SELECT g, 'value ' || g FROM generate_series(1, 1000) g")
        setup.execute("ANALYZE t")
    best: dict[str, tuple[float, float, float]] = {}
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT pg_backend_pid()").fetchone()
        conn.rollback()
        if row is None:
            raise RuntimeError("pg_backend_pid() returned no row")
        backend = Path(f"/proc/{row[0]}/stat")
        for _ in range(2):
            for name, way in WAYS.items():
                for _ in range(50):  # prepared statements and caches warm
                    way(conn)
                    conn.rollback()
                wall, mine, server = time.perf_counter(), time.thread_time(), cpu_seconds(backend)
                for _ in range(units):
                    way(conn)
                    conn.rollback()
                n = units * LOOKUPS / 1e6
                got = (
                    (time.perf_counter() - wall) / n,
                    (time.thread_time() - mine) / n,
                    (cpu_seconds(backend) - server) / n,
                )
                best[name] = min(best.get(name, got), got, key=lambda g: g[1] + g[2])
    return [(name, *figures) for name, figures in best.items()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.round_trip_cost", description=__doc__)
    parser.add_argument("--units", type=int, default=2_000)
    args = parser.parse_args(argv)
    postgres = LocalPostgres(durable=False).start()
    try:
        url = create_database(postgres.url, "round_trip_cost")
        print(f"units of work of {LOOKUPS} key look-ups, {args.units:,} of each way; µs per look-up:")
        print(f"  {'':32s} {'wall':>7s} {'client CPU':>11s} {'server CPU':>11s} {'CPU in all':>11s}")
        for name, wall, mine, server in measure(url, args.units):
            print(f"  {name:32s} {wall:7.0f} {mine:11.0f} {server:11.0f} {mine + server:11.0f}", flush=True)
    finally:
        postgres.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

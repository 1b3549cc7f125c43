"""What one job lease costs PostgreSQL as the queue grows (issue #27): at a midnight every store's job is queued at
once, so a lease whose cost follows the queue's length makes each booked day dearer the bigger the midnight.

    python -m bench.lease_cost [--queued 200 2000 10000] [--leases 100]

For each length: a fresh database on a local (non-durable) server with that many due jobs of 4 stores a merchant,
16 of them leased by a live other worker (as mid-midnight), then ``--leases`` leases of :meth:`PostgresJobs.lease_next`
(each rolled back, so the queue stays the same). Printed: the server backend's CPU (user + system, ``/proc``) per
lease, which the machine's other load does not inflate the way wall-clock time would, over the pools' connection class
(:mod:`storage.prepared`) and over psycopg's own, which forgets its prepared statements at each rollback.
"""

from __future__ import annotations

import argparse
from datetime import timedelta
from pathlib import Path
from typing import Any

import psycopg

from bench.pod import cpu_seconds
from devstack.postgres import LocalPostgres, create_database
from storage.exports import LEASE_PREFIX
from storage.jobs import PostgresJobs
from storage.migrate import migrate
from storage.prepared import Connection

WORKER = "bench-lease"


def lease_cpu_ms(
    url: str, queued: int, leases: int, connection_class: type[psycopg.Connection[Any]] = Connection
) -> float:
    """PostgreSQL's CPU per lease with ``queued`` due jobs, over a connection of ``connection_class`` (the pools':
    its prepared statements outlive each lease's rollback)."""
    migrate(url)
    with connection_class.connect(url, application_name=f"{LEASE_PREFIX}{WORKER}") as conn:
        conn.execute(
            """INSERT INTO export_jobs (organization_id, store_id, business_date, trigger, source_id)
               SELECT 'org-' || (g / 4), 's' || g, DATE '2026-11-25', 'DAY_CLOSE', 'src-' || g
               FROM generate_series(1, %s) g""",
            (queued,),
        )
        # 16 jobs in hand of another worker of a live process (this connection's: its leases are live).
        conn.execute(
            "UPDATE export_jobs SET lease_owner = %s, lease_until = now() + interval '5 minutes' WHERE id <= 16",
            (f"{WORKER}:other",),
        )
        conn.execute("ANALYZE export_jobs")
        conn.commit()
        row = conn.execute("SELECT pg_backend_pid()").fetchone()
        conn.commit()
        if row is None:
            raise RuntimeError("pg_backend_pid() returned no row")
        stat, jobs = Path(f"/proc/{row[0]}/stat"), PostgresJobs(conn)
        for _ in range(10):  # prepared statements and caches warm
            jobs.lease_next(f"{WORKER}:1", timedelta(minutes=5))
            conn.rollback()
        before = cpu_seconds(stat)
        for _ in range(leases):
            jobs.lease_next(f"{WORKER}:1", timedelta(minutes=5))
            conn.rollback()
        return 1000 * (cpu_seconds(stat) - before) / leases


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.lease_cost", description=__doc__)
    parser.add_argument("--queued", type=int, nargs="+", default=[200, 2_000, 10_000])
    parser.add_argument("--leases", type=int, default=100)
    args = parser.parse_args(argv)
    postgres = LocalPostgres(durable=False).start()
    try:
        for n in args.queued:
            ours = lease_cpu_ms(create_database(postgres.url, f"lease_cost_{n}"), n, args.leases)
            theirs = lease_cpu_ms(
                create_database(postgres.url, f"lease_cost_{n}_psycopg"), n, args.leases, psycopg.Connection
            )
            print(
                f"{n:>7,} queued jobs: {ours:5.2f} ms of PostgreSQL CPU a lease "
                f"({theirs:5.2f} over psycopg's own connection, which plans every statement again after a rollback)",
                flush=True,
            )
    finally:
        postgres.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""A job lease reads the queue once, however the queue's size swung since the connection first leased.

The queue is empty most of the day and holds a job per store at midnight. A lease's "the oldest job of its store"
check planned while the queue was empty (a plan PostgreSQL caches for a statement prepared on the connection) reads
the whole queue again for every job it looks at: in the benchmark's third night, with ~7,300 jobs queued, leases ran
76-94 s each until autovacuum's ANALYZE replaced the plan. Counted here in rows read (``pg_stat_xact_user_tables``),
not in time: a connection leases on an empty queue until its statements are prepared and their plans cached, the
queue then grows to ``JOBS`` jobs of as many stores without an ANALYZE, and one lease must read it about once."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import psycopg
import pytest

from storage.exports import LEASE_PREFIX
from storage.jobs import PostgresJobs
from storage.prepared import Connection

pytestmark = pytest.mark.integration
JOBS = 3_000
OWNER = "pod-a:1:worker-0"


def rows_read(conn: psycopg.Connection[Any]) -> int:
    row = conn.execute(
        """SELECT coalesce(seq_tup_read, 0) + coalesce(idx_tup_fetch, 0) FROM pg_stat_xact_user_tables
           WHERE relname = 'export_jobs'"""
    ).fetchone()
    return int(row[0]) if row else 0


def test_a_lease_reads_the_queue_about_once_after_it_grew_from_empty(database_url: str) -> None:
    with psycopg.connect(database_url, autocommit=True) as admin:
        admin.execute("VACUUM ANALYZE export_jobs")  # what autovacuum does once a night's jobs are done: stats of none
    with Connection.connect(database_url, application_name=f"{LEASE_PREFIX}pod-a") as conn:
        jobs = PostgresJobs(conn)
        for _ in range(12):  # psycopg prepares after 5 runs, PostgreSQL caches a generic plan after 5 more
            assert jobs.lease_next(OWNER, timedelta(minutes=5)) is None
            conn.commit()
        conn.execute(
            """INSERT INTO export_jobs (organization_id, store_id, business_date, trigger, source_id)
               SELECT 'org-' || (i %% 50), 'store-' || i, DATE '2026-11-27', 'DAY_CLOSE', 'close-' || i
               FROM generate_series(1, %s) i""",
            (JOBS,),
        )
        conn.commit()
        before = rows_read(conn)
        job = jobs.lease_next(OWNER, timedelta(minutes=5))
        read = rows_read(conn) - before
        conn.commit()
    assert job is not None and job.store_id == "store-1"  # the queue's head
    assert read < 3 * JOBS, f"one lease read {read:,} rows of a queue of {JOBS:,}"

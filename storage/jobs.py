"""Export jobs in PostgreSQL: queued by day closes, commands (:mod:`service.commands`), late sales, corrections
and the API.

A job is claimed by a lease (owner, expiry) committed before it runs (migration 0019): no transaction stays open
while a job calls BL. Only the oldest job of each store is claimable, and not while another job of the store holds a
live lease, so each store's exports run one at a time and in order while different stores run in parallel. A
*parked* job (late sales waiting for their register's next Z-report or the grace period, :mod:`service.late_sales`)
waits for its time without holding up the store's other jobs.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import psycopg

from service.messages import Trigger
from service.model import Job
from storage.exports import LEASE_PREFIX, see_who_is_connected_now

JOBS_CHANNEL = "dayclose_jobs"
#: Another job of ``{c}``'s store holds a live lease (another worker runs it): ``{c}`` waits. A lease is live until it
#: lapses, and while its process has a connection (a process that died holds none).
_STORE_BUSY = """EXISTS (SELECT 1 FROM export_jobs l
                        WHERE l.organization_id = {c}.organization_id AND l.store_id = {c}.store_id AND l.id <> {c}.id
                          AND l.lease_owner IS NOT NULL AND l.lease_owner <> %(owner)s AND l.lease_until >= now()
                          AND EXISTS (SELECT 1 FROM pg_stat_activity
                                      WHERE application_name = %(prefix)s || split_part(l.lease_owner, ':', 1)))"""


#: Jobs ``owner`` may lease now: due, not leased by a live other process, the oldest of their store (parked jobs not
#: yet due aside), and their store not busy.
_CLAIMABLE = f"""SELECT c.id, c.organization_id, c.store_id FROM export_jobs c
    WHERE c.not_before <= now()
      AND (c.lease_until IS NULL OR c.lease_until < now() OR c.lease_owner = %(owner)s
           OR NOT EXISTS (SELECT 1 FROM pg_stat_activity
                          WHERE application_name = %(prefix)s || split_part(c.lease_owner, ':', 1)))
      AND NOT EXISTS (SELECT 1 FROM export_jobs k
                      WHERE k.organization_id = c.organization_id AND k.store_id = c.store_id
                        AND k.id < c.id AND NOT (k.parked AND k.not_before > now()))
      AND NOT {_STORE_BUSY.format(c="c")}"""  # noqa: S608 - constant
_FIRST = " ORDER BY c.id FOR UPDATE SKIP LOCKED LIMIT 1"


class PostgresJobs:
    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self.conn = conn

    def lease_next(self, owner: str, lease: timedelta) -> Job | None:
        """Lease the next due job to ``owner`` for ``lease`` and return it; the caller commits, and the lease, not a
        lock held open, is the claim. Only a store's oldest job is claimable (parked jobs not yet due aside), and not
        while another job of the store holds a live lease: a store's jobs run one at a time and in order. A lease is
        void once it lapsed or when its process has no connection left (``pg_stat_activity``, as an export's lease:
        :meth:`PostgresExports.take_lease`); the owner's own lease comes first (a worker whose database went away
        mid-job takes its job back)."""
        params = {"owner": owner, "lease": lease, "prefix": LEASE_PREFIX}
        see_who_is_connected_now(self.conn)
        # The owner's own lease first, then the oldest claimable job: two statements, each in id order with LIMIT 1,
        # so that a lease reads the queue from its head instead of sorting every queued job (issue #27: 23 ms a lease
        # with 10,000 queued, against ~4 here). Never prepared on the server (planned each time, ~1 ms): the queue is
        # empty all day and holds a job per store at midnight, and the plan PostgreSQL caches for a prepared statement
        # while the queue is empty sorts the whole queue and reads it again for every job (18 million rows read for
        # one lease of 3,000 queued; 76-94 s a lease in the benchmark's third night, until autovacuum's ANALYZE
        # replaced the plan). tests/integration/db/test_job_lease_plan.py counts the rows a lease reads.
        own = _CLAIMABLE + " AND c.lease_owner = %(owner)s" + _FIRST
        row = self.conn.execute(own, params, prepare=False).fetchone()
        if row is None:
            row = self.conn.execute(_CLAIMABLE + _FIRST, params, prepare=False).fetchone()
        if row is None:
            return None
        job_id, org, store = row
        # A parked job that came due while a newer job of its store was being leased by another worker: both saw the
        # other as not running. Under the store's lock, with a fresh snapshot, one of them sees the other's lease.
        # The snapshot of who is connected is cleared with the lock taken (the next statement reads a fresh one), and
        # the store is checked and the job leased in one statement.
        self.conn.execute(
            "SELECT pg_advisory_xact_lock(hashtext(%s), hashtext(%s)), pg_stat_clear_snapshot()", (org, store)
        )
        row = self.conn.execute(
            f"""UPDATE export_jobs j SET lease_owner = %(owner)s, lease_until = now() + %(lease)s
               WHERE j.id = %(id)s AND NOT {_STORE_BUSY.format(c="j")}
               RETURNING j.id, j.organization_id, j.store_id, j.business_date, j.trigger, j.attempts,
                         extract(epoch FROM now() - j.created_at), j.z_report_number, j.register_id""",  # noqa: S608
            {**params, "id": job_id},
        ).fetchone()
        if row is None:  # another job of the store holds a live lease (the row is ours: locked by the SELECT above)
            return None
        return Job(row[0], row[1], row[2], row[3], Trigger(row[4]), row[5], float(row[6]), row[7], row[8])

    def renew(self, job: Job, owner: str, lease: timedelta) -> bool:
        """The lease runs ``lease`` from now again; False when ``owner`` no longer holds it."""
        row = self.conn.execute(
            "UPDATE export_jobs SET lease_until = now() + %s WHERE id = %s AND lease_owner = %s RETURNING 1",
            (lease, job.id, owner),
        ).fetchone()
        return row is not None

    def finish(self, job: Job, owner: str) -> bool:
        row = self.conn.execute(
            "DELETE FROM export_jobs WHERE id = %s AND lease_owner = %s RETURNING 1", (job.id, owner)
        ).fetchone()
        return row is not None

    def reschedule(self, job: Job, delay: timedelta, owner: str) -> bool:
        row = self.conn.execute(
            """UPDATE export_jobs SET not_before = now() + %s, attempts = attempts + 1, parked = false,
                      lease_owner = NULL, lease_until = NULL
               WHERE id = %s AND lease_owner = %s RETURNING 1""",
            (delay, job.id, owner),
        ).fetchone()
        return row is not None

    def park(self, job: Job, *, until: datetime, owner: str) -> bool:
        """Run the job again at ``until``, not holding up the store's other jobs meanwhile; the lease ends."""
        row = self.conn.execute(
            """UPDATE export_jobs SET not_before = %s, parked = true, lease_owner = NULL, lease_until = NULL
               WHERE id = %s AND lease_owner = %s RETURNING 1""",
            (until, job.id, owner),
        ).fetchone()
        return row is not None

    def queue(
        self,
        org: str,
        store: str,
        day: date | None,
        trigger: Trigger,
        source_id: str,
        z_report_number: int | None = None,
        delay: timedelta | None = None,
        *,
        register: str | None = None,
    ) -> bool:
        """Queue a job once per ``source_id`` of the organization (a redelivery queues nothing; another organization's
        job with the same source id is another job: its ids are its own). True when it was new."""
        row = self.conn.execute(
            """INSERT INTO export_jobs (organization_id, store_id, business_date, trigger, source_id, z_report_number,
                                        not_before, register_id)
               VALUES (%s, %s, %s, %s, %s, %s, now() + %s, %s) ON CONFLICT (organization_id, source_id) DO NOTHING
               RETURNING id""",
            (org, store, day, trigger.value, source_id, z_report_number, delay or timedelta(0), register),
        ).fetchone()
        if row is not None:
            self.conn.execute(f"NOTIFY {JOBS_CHANNEL}")  # delivered at commit: wakes the export workers
        return row is not None

    def record_command(self, org: str, command_id: str) -> bool:
        """Record a BackOffice command as acted on, once per (organization, command id); False when it was before."""
        row = self.conn.execute(
            "INSERT INTO processed_commands (command_id, organization_id) VALUES (%s, %s) "
            "ON CONFLICT DO NOTHING RETURNING 1",
            (command_id, org),
        ).fetchone()
        return row is not None

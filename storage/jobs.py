"""Export jobs in PostgreSQL: queued by day closes, commands, late sales, corrections and the API.

Jobs are claimed with ``FOR UPDATE SKIP LOCKED`` and only the oldest job of each store is claimable, so each
store's exports run one at a time and in order while different stores run in parallel. A *parked* job (late sales
waiting for their register's next Z-report or the grace period, :mod:`service.late_sales`) waits for its time
without holding up the store's other jobs; the store's advisory lock still runs one job of a store at a time.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Any

import psycopg

from service.messages import Command, ManualExportRequested, Trigger
from service.model import Job
from storage.claims import UNEXPORTED_REGISTER

JOBS_CHANNEL = "dayclose_jobs"
#: A manual export starts this long after its request is read (see :meth:`PostgresJobs.queue_for_command`).
MANUAL_GRACE = timedelta(seconds=1)


#: A manual export's stores: every store of the organization (or the one named), besides those with open exports.
_EVERY_STORE = """SELECT store_id FROM stores
                  WHERE organization_id = %(org)s AND (%(store)s::text IS NULL OR store_id = %(store)s)
                  UNION
                  SELECT %(store)s::text WHERE %(store)s::text IS NOT NULL
                  UNION """


class PostgresJobs:
    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self.conn = conn

    def claim_next(self) -> Job | None:
        """Lock the next due job whose store has no older job (the unit of work stays open while the job
        runs: the row lock is the claim, and a crash releases it)."""
        row = self.conn.execute(
            """SELECT j.id, j.organization_id, j.store_id, j.business_date, j.trigger, j.attempts,
                      extract(epoch FROM now() - j.created_at), j.z_report_number, j.register_id
               FROM export_jobs j
               WHERE j.not_before <= now()
                 AND NOT EXISTS (SELECT 1 FROM export_jobs k
                                 WHERE k.organization_id = j.organization_id AND k.store_id = j.store_id
                                   AND k.id < j.id AND NOT (k.parked AND k.not_before > now()))
               ORDER BY j.id
               FOR UPDATE SKIP LOCKED
               LIMIT 1"""
        ).fetchone()
        if row is None:
            return None
        return Job(row[0], row[1], row[2], row[3], Trigger(row[4]), row[5], float(row[6]), row[7], row[8])

    def lock_store(self, org: str, store: str) -> None:
        """Belt and braces: a transaction-scoped advisory lock per store on top of head-of-line claiming."""
        self.conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s), hashtext(%s))", (org, store))

    def finish(self, job: Job) -> None:
        self.conn.execute("DELETE FROM export_jobs WHERE id = %s", (job.id,))

    def reschedule(self, job: Job, delay: timedelta) -> None:
        self.conn.execute(
            "UPDATE export_jobs SET not_before = now() + %s, attempts = attempts + 1, parked = false WHERE id = %s",
            (delay, job.id),
        )

    def park(self, job: Job, until: datetime) -> None:
        """Run the job again at ``until``, not holding up the store's other jobs meanwhile."""
        self.conn.execute("UPDATE export_jobs SET not_before = %s, parked = true WHERE id = %s", (until, job.id))

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

    def queue_for_command(self, command: Command) -> int:
        """Act on a BackOffice command once per (organization, command id): queue one job per store that has something
        to export (manual) or a failed export to retry. Returns the number of jobs queued."""
        fresh = self.conn.execute(
            "INSERT INTO processed_commands (command_id, organization_id) VALUES (%s, %s) "
            "ON CONFLICT DO NOTHING RETURNING 1",
            (command.command_id, command.organization_id),
        ).fetchone()
        if not fresh:
            return 0
        # Stores with an export not yet booked: both commands retry those first.
        query = """SELECT DISTINCT store_id FROM exports
                   WHERE organization_id = %(org)s AND status <> 'booked'
                     AND (%(store)s::text IS NULL OR store_id = %(store)s)"""
        delay, trigger = None, Trigger.RETRY
        if isinstance(command, ManualExportRequested):
            # Every store we know (or the one named), not only those with unexported rows right now: the
            # sales topic may lag the commands topic by a moment. The jobs also start after a short grace
            # so sales the POS sent just before the click are in (docs/events.md).
            delay, trigger = MANUAL_GRACE, Trigger.MANUAL
            query = _EVERY_STORE + query  # noqa: S608 - constants only
        stores = self.conn.execute(
            query + " ORDER BY 1", {"org": command.organization_id, "store": command.store_id}
        ).fetchall()
        return sum(
            self.queue(command.organization_id, store, None, trigger, f"{command.command_id}:{store}", delay=delay)
            for (store,) in stores
        )

    def queue_retries(self, org: str, stores: Iterable[str], source: str) -> int:
        """One RETRY job per store: a store's job retries every open export of that store, oldest first."""
        return sum(self.queue(org, store, None, Trigger.RETRY, f"{source}:{store}") for store in sorted(set(stores)))

    def queue_unbooked_closed_days(self, org: str, since: date, source: str) -> int:
        """Queue an export of every closed day since ``since`` that is not fully booked (closed while the
        integration was inactive or before it was set up, or with sales that came after an export).
        Their open exports are retried first by the same jobs. Returns the number of jobs queued."""
        rows = self.conn.execute(
            f"""SELECT DISTINCT d.store_id, d.business_date, d.register_id FROM day_closes d
               WHERE d.organization_id = %(org)s AND d.business_date >= %(since)s
                 AND (d.status <> 'exported' OR {UNEXPORTED_REGISTER.format(d="d", r="d.register_id")})
               ORDER BY 2, 1, 3""",  # noqa: S608 - constant
            {"org": org, "since": since},
        ).fetchall()
        return sum(
            self.queue(org, store, day, Trigger.RETRY, f"{source}:{org}:{store}:{register}:{day}", register=register)
            for store, day, register in rows
        )

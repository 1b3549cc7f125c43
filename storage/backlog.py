"""What an on-call engineer asks when exports look stuck, read when Prometheus scrapes (``dayclose run``):
closed store-days not booked yet and how long ago they closed, the export jobs waiting, and the exports not
booked by status. Each query is small (partial indexes) and bounded by a statement timeout, so a slow database
costs a scrape, never the service (:class:`dayclose.telemetry.BacklogCollector` reports a failure as ``…_up 0``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import psycopg

QUERY_TIMEOUT_MS = 2000

#: Closed store-days of active integrations (on or after their start date) whose day close is not booked: the
#: reason code of the store-day's latest refused export (None while nothing failed: queued, exporting, backing
#: off) and the seconds since the day close arrived.
_OVERDUE = """
SELECT (SELECT e.reason_code FROM exports e
        WHERE e.organization_id = d.organization_id AND e.store_id = d.store_id
          AND e.business_date = d.business_date AND e.status = 'failed'
        ORDER BY e.updated_at DESC LIMIT 1),
       extract(epoch FROM now() - min(d.received_at))
FROM day_closes d JOIN integrations i ON i.organization_id = d.organization_id
WHERE d.status IN ('open', 'mismatch') AND i.status = 'active'
  AND (i.start_date IS NULL OR d.business_date >= i.start_date)
GROUP BY d.organization_id, d.store_id, d.business_date"""


@dataclass(frozen=True)
class Backlog:
    #: (reason code of the latest refused export or None, seconds since the day close arrived), per store-day.
    overdue: list[tuple[str | None, float]] = field(default_factory=list)
    jobs_due: int = 0
    jobs_waiting: int = 0
    #: Seconds since the oldest export job still queued was queued (0 when none).
    oldest_job_age_s: float = 0.0
    #: Exports not booked, by status (``posting``, ``failed``).
    not_booked: dict[str, int] = field(default_factory=dict)


def read_backlog(conn: psycopg.Connection[Any]) -> Backlog:
    """Inside a transaction (a unit of work): the statement timeout is local to it."""
    conn.execute(f"SET LOCAL statement_timeout = {QUERY_TIMEOUT_MS}")
    overdue = [(reason, float(age)) for reason, age in conn.execute(_OVERDUE).fetchall()]
    jobs = conn.execute(
        """SELECT count(*) FILTER (WHERE not_before <= now()), count(*) FILTER (WHERE not_before > now()),
                  coalesce(extract(epoch FROM now() - min(created_at)), 0)
           FROM export_jobs"""
    ).fetchone()
    statuses = conn.execute("SELECT status, count(*) FROM exports WHERE status <> 'booked' GROUP BY 1").fetchall()
    due, waiting, oldest = jobs if jobs else (0, 0, 0)
    return Backlog(overdue, int(due), int(waiting), float(oldest), {str(s): int(n) for s, n in statuses})

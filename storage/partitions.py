"""Quarterly partitions of ``sales``, ``day_totals`` and ``day_folds``: created on demand by
``sales_ensure_quarter`` (migration 0010), dropped whole by the retention purge (:mod:`storage.retention`).

Every writer asks for the quarters of the business dates it is about to write, in its own transaction: when they
exist that is a few catalog probes and no lock, once per quarter per batch. So any business date can be stored,
no row lands in a default partition that attaching a new quarter would have to scan, and a quarter dropped by
the purge comes back if a sale of it is ever sent again (then setting aside the rows of store-days booked before
the drop, so they are never booked twice: migration 0011, :mod:`storage.retention`).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

import psycopg


def quarter(day: date) -> date:
    """The first day of ``day``'s quarter."""
    return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def ensure(conn: psycopg.Connection[Any], days: Iterable[date]) -> None:
    """Make sure the partitions for ``days`` exist (created in ``conn``'s transaction when they do not)."""
    for q in sorted({quarter(d) for d in days}):
        conn.execute("SELECT sales_ensure_quarter(%s)", (q,))

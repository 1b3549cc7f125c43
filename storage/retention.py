"""The retention purge's storage: the quarters of sales, each held, checked and dropped, and the other tables' old
rows deleted. What may go, when, and what keeps a quarter is decided in :mod:`service.retention`
(:class:`~service.retention.PurgeSales` through :mod:`service.bus`); this module loads and stores, and answers
``dayclose purge --dry-run`` (:func:`plan`).

Every ingested sale is kept for ``DAYCLOSE_SALES_RETENTION_DAYS`` (default 400) after its business
date, whether or not its organization is active: a merchant who activates with a start date in the
past gets every day since then that we still hold. Sales are stored in quarterly partitions
(:mod:`storage.partitions`) and go a whole quarter at a time, never by a mass ``DELETE``: a quarter
whose last day is past the retention is dropped once nothing in it blocks it, so rows live up to the
retention plus one quarter. A quarter is kept whole, and its blocking store-days reported, while

* an export of it is not booked (failed, or still posting: a merchant's unbooked day, or a correction
  under way), or is booked without its audit record (:mod:`storage.audit`);
* a store-day of an active organization on or after its start date holds sales no export books (rows
  past its latest export's watermark, or released by a reversal and not booked again): it can still
  be exported. Unexported sales of inactive or unknown organizations, or before a start date, go.

Before a quarter is dropped, the seven-year receipt → voucher link of its booked vouchers is copied
to ``audit_receipts`` in the same transaction (set-based), so the audit queries answer from the rows
until then and from ``audit_receipts`` after. A sale that arrives for a dropped quarter is stored (the
quarter comes back): when its store-day was booked before the drop, the row is set aside in
``sales_after_purge`` instead (migration 0011) and never booked, since it may well be a sale booked then and
sent again; the purge reports how many are set aside. (A day purged row by row before quarters existed: such a
row is stored, and the next purge drops it, reported as discarded.) A sale of a store-day never booked is stored
and exported as any late sale, if its organization is active and the day on or after its start date.

Other data: day closes go with their sales; processed commands, dead-letter keys, conflict notices and
merchants' notifications after the retention; outbox rows a week after they were sent (never before); audit
records only after their ``retain_until``: the end of the seventh calendar year after the one in which the
voucher's fiscal year ended (Bokföringslagen 7 kap. 2 §).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import psycopg
from psycopg import sql

from service.retention import OldRows, PurgeResult, Quarter, QuarterBusy, StoreDay
from storage.claims import UNEXPORTED

__all__ = ["PostgresRetention", "PurgeResult", "QuarterPlan", "StoreDay", "plan"]

#: The partitioned tables, each with one partition per quarter (migration 0010).
PARTITIONED = ("sales", "day_totals", "day_folds")


class PostgresRetention:
    """The purge's two ports (:class:`service.retention.SalesQuarters`, :class:`service.retention.RetainedRows`)
    over one connection: on an autocommit one each quarter is a transaction of its own (in an open transaction, all
    of it commits together, holding every lock it took until then)."""

    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self.conn = conn

    def quarters(self) -> list[Quarter]:
        return [Quarter(lo, hi, suffix) for lo, hi, suffix in _quarters(self.conn)]

    @contextmanager
    def hold(self, quarter: Quarter) -> Iterator[_Held]:
        try:
            with self.conn.transaction():
                # Locked against writes first, so no row arrives between the checks and the drop.
                self.conn.execute(
                    sql.SQL("LOCK TABLE {} IN SHARE MODE").format(sql.Identifier("sales_" + quarter.suffix))
                )
                yield _Held(self.conn, quarter)
        except (psycopg.errors.LockNotAvailable, psycopg.errors.DeadlockDetected) as e:
            # A writer got there first (or held sales too long): nothing was dropped.
            raise QuarterBusy(str(quarter.first_day)) from e

    def delete_old(self, *, kept_since: date, sent_since: date, audit_before: date) -> OldRows:
        conn = self.conn
        with conn.transaction():
            closes = conn.execute(
                """DELETE FROM day_closes d WHERE d.business_date < %s
                   AND NOT EXISTS (SELECT 1 FROM sales s WHERE s.organization_id = d.organization_id
                                   AND s.store_id = d.store_id AND s.business_date = d.business_date)""",
                (kept_since,),
            ).rowcount
            commands = conn.execute("DELETE FROM processed_commands WHERE processed_at < %s", (kept_since,)).rowcount
            # Unsent ones (including rows set aside after refusals) are never deleted here.
            sent = conn.execute("DELETE FROM outbox WHERE sent_at IS NOT NULL AND sent_at < %s", (sent_since,)).rowcount
            dead = conn.execute("DELETE FROM dead_letters WHERE dead_lettered_at < %s", (kept_since,)).rowcount
            # What a conflicting version's copies are coalesced on (a window of a day by default): long past use.
            conn.execute("DELETE FROM conflict_notices WHERE notified_at < %s", (kept_since,))
            audits = conn.execute("DELETE FROM audit_vouchers WHERE retain_until < %s", (audit_before,)).rowcount
            conn.execute("DELETE FROM sales_after_purge WHERE received_at < %s", (kept_since,))
            notifications = conn.execute("DELETE FROM notifications WHERE created_at < %s", (kept_since,)).rowcount
            row = conn.execute("SELECT count(*) FROM sales_after_purge").fetchone()
        return OldRows(closes, commands, sent, dead, audits, notifications, int(row[0]) if row else 0)


class _Held:
    """One quarter whose sales partition this transaction holds in SHARE mode."""

    def __init__(self, conn: psycopg.Connection[Any], quarter: Quarter) -> None:
        self.conn, self.quarter = conn, quarter

    def export_blockers(self) -> list[StoreDay]:
        return _export_blockers(self.conn, self.quarter.first_day, self.quarter.end)

    def unexported(self) -> tuple[list[StoreDay], list[StoreDay]]:
        return _unexported(self.conn, self.quarter.first_day, self.quarter.end)

    def drop(self) -> int:
        return _drop_quarter(self.conn, self.quarter.first_day, self.quarter.end, self.quarter.suffix)


_BOUND = re.compile(r"FROM \('(\d{4}-\d{2}-\d{2})'\) TO \('(\d{4}-\d{2}-\d{2})'\)")


def _quarters(conn: psycopg.Connection[Any]) -> list[tuple[date, date, str]]:
    """The partitions of ``sales``: (first day, first day after, name suffix), oldest first."""
    rows = conn.execute(
        """SELECT c.relname, pg_get_expr(c.relpartbound, c.oid) FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
           WHERE i.inhparent = 'sales'::regclass"""
    ).fetchall()
    found = []
    for name, bound in rows:
        match = _BOUND.search(bound)
        if match and name.startswith("sales_"):
            found.append((date.fromisoformat(match[1]), date.fromisoformat(match[2]), name.removeprefix("sales_")))
    return sorted(found)


def _drop_quarter(conn: psycopg.Connection[Any], lo: date, hi: date, suffix: str) -> int:
    """Copy the quarter's receipt links to ``audit_receipts`` and drop its partitions (the caller holds its sales
    partition and found no blocker); the links copied. Exports are checked again once ``sales`` itself is locked (by
    the detach): :class:`QuarterBusy` when they changed."""
    part = sql.Identifier("sales_" + suffix)
    audited = _audited(conn, lo, hi)
    # The detach locks sales exclusively: bounded, so the ingest never queues long behind it.
    conn.execute("SET LOCAL lock_timeout = '2s'")
    copied = conn.execute(
        sql.SQL(
            """INSERT INTO audit_receipts (export_id, organization_id, receipt_id, receipt_number)
               SELECT e.export_id, s.organization_id, s.payload->>'receipt_id', s.payload->>'receipt_number'
               FROM {} s
               JOIN exports e ON e.organization_id = s.organization_id AND e.store_id = s.store_id
                             AND e.business_date = s.business_date AND e.register_id = s.register_id
                             AND e.sales_ids @> s.id
               JOIN audit_vouchers a ON a.export_id = e.export_id
               WHERE s.kind = 'receipt'
               ON CONFLICT DO NOTHING"""
        ).format(part)
    ).rowcount
    for parent in PARTITIONED:
        conn.execute(
            sql.SQL("ALTER TABLE {} DETACH PARTITION {}").format(
                sql.Identifier(parent), sql.Identifier(f"{parent}_{suffix}")
            )
        )
    # Holding sales exclusively now: a claim or correction of the quarter committed before is visible.
    if _export_blockers(conn, lo, hi) or _audited(conn, lo, hi) != audited:
        raise QuarterBusy(str(lo))
    for parent in PARTITIONED:
        conn.execute(sql.SQL("DROP TABLE {}").format(sql.Identifier(f"{parent}_{suffix}")))
    # Should a sale of it come again, the quarter's partition comes back with a trigger setting aside the rows
    # of the store-days booked before now (migration 0011): they are never booked twice.
    conn.execute(
        """INSERT INTO sales_purged_quarters (quarter) VALUES (%s)
           ON CONFLICT (quarter) DO UPDATE SET purged_at = now()""",
        (lo,),
    )
    return copied


def _export_blockers(conn: psycopg.Connection[Any], lo: date, hi: date) -> list[StoreDay]:
    """Exports of the quarter not booked, or booked (with something to book) without their audit record."""
    rows = conn.execute(
        """SELECT organization_id, store_id, business_date, 'export ' || reference || ' is ' || status
           FROM exports e WHERE business_date >= %s AND business_date < %s
             AND (status <> 'booked'
                  OR (trigger <> 'CORRECTION' AND NOT isempty(sales_ids)
                      AND coalesce(reason_code, '') NOT IN ('NOTHING_TO_BOOK', 'BOOKED_ELSEWHERE')
                      AND NOT EXISTS (SELECT 1 FROM audit_vouchers a WHERE a.export_id = e.export_id)))
           ORDER BY 1, 2, 3""",
        (lo, hi),
    ).fetchall()
    return [StoreDay(o, s, d, why.replace("is booked", "has no audit record")) for o, s, d, why in rows]


#: Whether the store-day of ``{d}`` was booked and purged: an export names rows of it and none is left.
PURGED_DAY = """EXISTS (SELECT 1 FROM exports p WHERE p.organization_id = {d}.organization_id
                        AND p.store_id = {d}.store_id AND p.business_date = {d}.business_date
                        AND NOT isempty(p.sales_ids)
                        AND NOT EXISTS (SELECT 1 FROM sales x WHERE x.organization_id = p.organization_id
                                        AND x.store_id = p.store_id AND x.business_date = p.business_date
                                        AND x.register_id = p.register_id AND x.id <@ p.sales_ids))"""


def _unexported(conn: psycopg.Connection[Any], lo: date, hi: date) -> tuple[list[StoreDay], list[StoreDay]]:
    """Store-days of active organizations, on or after their start date, with sales no export books: those that
    can still be exported (blockers), and those of days already purged (late sales that cannot be booked)."""
    rows = conn.execute(
        f"""SELECT d.organization_id, d.store_id, d.business_date, {PURGED_DAY.format(d="d")}
            FROM integrations i JOIN stores st ON st.organization_id = i.organization_id
            CROSS JOIN LATERAL (SELECT st.organization_id, st.store_id, g::date AS business_date
                                FROM generate_series(greatest(%s::date, i.start_date), %s::date - 1,
                                                     interval '1 day') g) d
            WHERE i.status = 'active' AND i.start_date IS NOT NULL AND {UNEXPORTED.format(d="d")}
            ORDER BY 1, 2, 3""",  # noqa: S608 - constant
        (lo, hi),
    ).fetchall()
    blockers = [StoreDay(o, s, d, "sales not exported") for o, s, d, purged in rows if not purged]
    late = [StoreDay(o, s, d, "late sales of a purged day") for o, s, d, purged in rows if purged]
    return blockers, late


def _audited(conn: psycopg.Connection[Any], lo: date, hi: date) -> int:
    row = conn.execute(
        """SELECT count(*) FROM exports e JOIN audit_vouchers a ON a.export_id = e.export_id
           WHERE e.business_date >= %s AND e.business_date < %s""",
        (lo, hi),
    ).fetchone()
    return int(row[0]) if row else 0


@dataclass(frozen=True)
class QuarterPlan:
    """What ``dayclose purge --dry-run`` says of one quarter past the retention: what it holds and what blocks it."""

    first_day: date
    #: The day after its last day.
    end: date
    sales_rows: int
    store_days: int
    booked_exports: int
    blockers: list[StoreDay]
    #: Late sales of store-days already purged: dropped with the quarter, never booked.
    late: list[StoreDay]

    @property
    def droppable(self) -> bool:
        return not self.blockers


def plan(conn: psycopg.Connection[Any], today: date, retention_days: int) -> tuple[list[QuarterPlan], int]:
    """The quarters :func:`purge` would look at (past the retention), each with its contents and blockers, and how
    many quarters are still inside the retention. Reads only; :func:`purge` checks again, under its locks."""
    cutoff = today - timedelta(days=retention_days)
    quarters = _quarters(conn)
    plans = []
    for lo, hi, suffix in quarters:
        if hi > cutoff:
            continue
        sales_rows, store_days = conn.execute(
            sql.SQL("SELECT count(*), count(DISTINCT (organization_id, store_id, business_date)) FROM {}").format(
                sql.Identifier("sales_" + suffix)
            )
        ).fetchone() or (0, 0)
        booked = conn.execute(
            "SELECT count(*) FROM exports WHERE business_date >= %s AND business_date < %s AND status = 'booked'",
            (lo, hi),
        ).fetchone()
        unexported, late = _unexported(conn, lo, hi)
        blockers = _export_blockers(conn, lo, hi) + unexported
        plans.append(
            QuarterPlan(lo, hi, int(sales_rows), int(store_days), int(booked[0]) if booked else 0, blockers, late)
        )
    return plans, len(quarters) - len(plans)

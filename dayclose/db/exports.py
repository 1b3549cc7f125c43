"""Export jobs and exports in PostgreSQL: the durable identity of every voucher we try to book.

Jobs are claimed with ``FOR UPDATE SKIP LOCKED`` and only the oldest job of each store is claimable,
so each store's exports run one at a time and in order while different stores run in parallel.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from consumer.messages import SalesItem, control_from_json, day_close_from_json, item_from_json
from mapping.reconcile import ControlTotals
from mapping.sales import DayClose
from mapping.voucher import Voucher, VoucherRow

POSTING = "posting"
#: application_name prefix of every service connection: ``dayclose-<process instance>``.
LEASE_PREFIX = "dayclose-"
BOOKED = "booked"
FAILED = "failed"


@dataclass(frozen=True)
class Job:
    id: int
    organization_id: str
    store_id: str
    business_date: date | None
    trigger: str
    attempts: int
    age_seconds: float
    z_report_number: int | None = None


@dataclass(frozen=True)
class Export:
    export_id: uuid.UUID
    reference: str
    organization_id: str
    store_id: str
    business_date: date
    trigger: str
    status: str
    attempts: int
    reason_code: str | None
    #: The sales this export claimed, when it was just created (so they are not read a second time).
    items: tuple[SalesItem, ...] | None = None


@dataclass(frozen=True)
class StoredDayClose:
    day_close: DayClose
    store_name: str
    control: ControlTotals
    status: str


def claim_next_job(conn: psycopg.Connection[Any]) -> Job | None:
    """Lock the next due job whose store has no older job (call inside a transaction kept open while
    the job runs: the row lock is the claim, and a crash releases it)."""
    row = conn.execute(
        """SELECT j.id, j.organization_id, j.store_id, j.business_date, j.trigger, j.attempts,
                  extract(epoch FROM now() - j.created_at), j.z_report_number
           FROM export_jobs j
           WHERE j.not_before <= now()
             AND NOT EXISTS (SELECT 1 FROM export_jobs k
                             WHERE k.organization_id = j.organization_id AND k.store_id = j.store_id
                               AND k.id < j.id)
           ORDER BY j.id
           FOR UPDATE SKIP LOCKED
           LIMIT 1"""
    ).fetchone()
    if row is None:
        return None
    return Job(row[0], row[1], row[2], row[3], row[4], row[5], float(row[6]), row[7])


def lock_store(conn: psycopg.Connection[Any], org: str, store: str) -> None:
    """Belt and braces: a transaction-scoped advisory lock per store on top of head-of-line claiming."""
    conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s), hashtext(%s))", (org, store))


def finish_job(conn: psycopg.Connection[Any], job: Job) -> None:
    conn.execute("DELETE FROM export_jobs WHERE id = %s", (job.id,))


def reschedule_job(conn: psycopg.Connection[Any], job: Job, delay: timedelta) -> None:
    conn.execute(
        "UPDATE export_jobs SET not_before = now() + %s, attempts = attempts + 1 WHERE id = %s", (delay, job.id)
    )


def open_exports(conn: psycopg.Connection[Any], org: str, store: str) -> list[Export]:
    """Exports of this store not yet booked, oldest first: they are retried before anything new."""
    rows = conn.execute(
        f"SELECT {_EXPORT_COLUMNS} FROM exports WHERE organization_id = %s AND store_id = %s "  # noqa: S608 - constant
        "AND status <> 'booked' ORDER BY business_date, created_at",
        (org, store),
    ).fetchall()
    return [_export(r) for r in rows]


def unexported_dates(conn: psycopg.Connection[Any], org: str, store: str, since: date, until: date) -> list[date]:
    rows = conn.execute(
        """SELECT DISTINCT business_date FROM sales_events
           WHERE organization_id = %s AND store_id = %s AND export_id IS NULL
             AND business_date BETWEEN %s AND %s ORDER BY 1""",
        (org, store, since, until),
    ).fetchall()
    return [r[0] for r in rows]


def create_export(
    conn: psycopg.Connection[Any], org: str, store: str, day: date, trigger: str, z_report_number: int | None,
    *, include_day_close: bool,
) -> Export | None:
    """Claim every unexported sale of the store-day for a new export. Returns None when there is nothing
    to claim (and no day close to book). The claim commits before anything is sent to BL, so the export's
    identity survives a crash between posting and recording the result."""
    export_id = uuid.uuid4()
    reference = "DC-" + export_id.hex[:16]
    conn.execute(
        """INSERT INTO exports (export_id, reference, organization_id, store_id, business_date, trigger,
                                z_report_number, status, event_count)
           VALUES (%s, %s, %s, %s, %s, %s, %s, 'posting', 0)""",
        (export_id, reference, org, store, day, trigger, z_report_number if include_day_close else None),
    )
    rows = conn.execute(
        """UPDATE sales_events SET export_id = %s
           WHERE organization_id = %s AND store_id = %s AND business_date = %s AND export_id IS NULL
           RETURNING id, kind, payload""",
        (export_id, org, store, day),
    ).fetchall()
    if not rows and not include_day_close:
        conn.execute("DELETE FROM exports WHERE export_id = %s", (export_id,))
        return None
    conn.execute("UPDATE exports SET event_count = %s WHERE export_id = %s", (len(rows), export_id))
    items = tuple(item_from_json(kind, store, day, payload) for _, kind, payload in sorted(rows, key=lambda r: r[0]))
    return Export(export_id, reference, org, store, day, trigger, POSTING, 0, None, items)


def export_items(conn: psycopg.Connection[Any], export: Export) -> list[SalesItem]:
    rows = conn.execute(
        "SELECT kind, payload FROM sales_events WHERE export_id = %s ORDER BY id", (export.export_id,)
    ).fetchall()
    return [item_from_json(kind, export.store_id, export.business_date, payload) for kind, payload in rows]


def export_day_close(conn: psycopg.Connection[Any], export: Export) -> StoredDayClose | None:
    row = conn.execute("SELECT z_report_number FROM exports WHERE export_id = %s", (export.export_id,)).fetchone()
    if row is None or row[0] is None:
        return None
    return get_day_close(conn, export.organization_id, export.store_id, export.business_date, row[0])


def get_day_close(
    conn: psycopg.Connection[Any], org: str, store: str, day: date, z: int | None = None
) -> StoredDayClose | None:
    row = conn.execute(
        """SELECT z_report_number, payload, status FROM day_closes
           WHERE organization_id = %s AND store_id = %s AND business_date = %s
             AND (%s::bigint IS NULL OR z_report_number = %s)
           ORDER BY z_report_number DESC LIMIT 1""",
        (org, store, day, z, z),
    ).fetchone()
    if row is None:
        return None
    z_no, payload, status = row
    close = day_close_from_json(store, day, z_no, payload)
    return StoredDayClose(close, payload["store_name"], control_from_json(payload), status)


def later_day_close_exists(conn: psycopg.Connection[Any], org: str, close: StoredDayClose) -> bool:
    dc = close.day_close
    row = conn.execute(
        "SELECT 1 FROM day_closes WHERE organization_id = %s AND store_id = %s AND business_date = %s "
        "AND z_report_number > %s LIMIT 1",
        (org, dc.store_id, dc.business_date, dc.z_report_number),
    ).fetchone()
    return row is not None


def supersede_earlier_day_closes(conn: psycopg.Connection[Any], org: str, close: StoredDayClose) -> None:
    """A later Z-report of the same day covers the earlier ones (its totals are for the whole day)."""
    dc = close.day_close
    conn.execute(
        "UPDATE day_closes SET status = 'superseded' WHERE organization_id = %s AND store_id = %s "
        "AND business_date = %s AND z_report_number < %s AND status IN ('open', 'mismatch')",
        (org, dc.store_id, dc.business_date, dc.z_report_number),
    )


def booked_cash_difference(conn: psycopg.Connection[Any], org: str, close: StoredDayClose) -> int:
    """Cash difference already booked for the day by earlier Z-reports (counted − expected), in öre."""
    dc = close.day_close
    row = conn.execute(
        """SELECT coalesce(sum((payload->>'counted_cash_ore')::bigint - (payload->>'expected_cash_ore')::bigint), 0)
           FROM day_closes WHERE organization_id = %s AND store_id = %s AND business_date = %s
             AND z_report_number < %s AND status = 'exported'""",
        (org, dc.store_id, dc.business_date, dc.z_report_number),
    ).fetchone()
    return int(row[0]) if row else 0


def set_day_close_status(conn: psycopg.Connection[Any], close: StoredDayClose, org: str, status: str) -> None:
    dc = close.day_close
    conn.execute(
        "UPDATE day_closes SET status = %s WHERE organization_id = %s AND store_id = %s AND business_date = %s "
        "AND z_report_number = %s",
        (status, org, dc.store_id, dc.business_date, dc.z_report_number),
    )


def store_name(conn: psycopg.Connection[Any], org: str, store: str) -> str:
    row = conn.execute(
        "SELECT name FROM stores WHERE organization_id = %s AND store_id = %s", (org, store)
    ).fetchone()
    return row[0] if row and row[0] else store


def mark_booked(
    conn: psycopg.Connection[Any], export: Export, *, series: str, number: int, voucher: dict[str, Any],
    total_debit_ore: int,
) -> None:
    conn.execute(
        """UPDATE exports SET status = 'booked', voucher_series = %s, voucher_number = %s, voucher = %s,
               total_debit_ore = %s, reason_code = NULL, reason_details = NULL, attempts = attempts + 1,
               lease_owner = NULL, lease_until = NULL, booked_at = now(), updated_at = now()
           WHERE export_id = %s""",
        (series, number, Jsonb(voucher), total_debit_ore, export.export_id),
    )


def mark_failed(
    conn: psycopg.Connection[Any], export: Export, *, status: str, reason_code: str, details: Sequence[Any]
) -> None:
    """Record a failed attempt. ``status`` stays 'posting' for transient failures (the voucher may be
    in BL: the next attempt looks it up) and becomes 'failed' for definitive refusals."""
    conn.execute(
        """UPDATE exports SET status = %s, reason_code = %s, reason_details = %s, attempts = attempts + 1,
               lease_owner = NULL, lease_until = NULL, updated_at = now() WHERE export_id = %s""",
        (status, reason_code, Jsonb(list(details)), export.export_id),
    )


def release_empty_export(conn: psycopg.Connection[Any], export: Export) -> None:
    """An export that turned out to have nothing to book: mark it booked-with-nothing so its (zero-sum)
    sales stay exported. Kept as a row for the audit trail."""
    conn.execute(
        "UPDATE exports SET status = 'booked', reason_code = 'NOTHING_TO_BOOK', booked_at = now(), "
        "updated_at = now() WHERE export_id = %s",
        (export.export_id,),
    )


_EXPORT_COLUMNS = ("export_id, reference, organization_id, store_id, business_date, trigger, status, attempts, "
                   "reason_code")


def _export(row: Sequence[Any]) -> Export:
    return Export(*row)


def voucher_to_json(voucher: Voucher, receipt_count: int | None = None) -> dict[str, Any]:
    """The stored form of a voucher (exports.voucher), enough to rebuild it exactly."""
    return {
        "receipt_count": receipt_count,
        "series": voucher.series,
        "entry_date": voucher.entry_date.isoformat(),
        "text": voucher.text,
        "reference": voucher.reference,
        "rows": [[r.account, r.amount_ore, r.cost_centre] for r in voucher.rows],
        "sales_rates": [[account, rate] for account, rate in voucher.sales_rates],
    }


def voucher_from_json(data: dict[str, Any]) -> Voucher:
    return Voucher(
        series=data["series"], entry_date=date.fromisoformat(data["entry_date"]), text=data["text"],
        reference=data["reference"],
        rows=tuple(VoucherRow(account, amount, cost_centre) for account, amount, cost_centre in data["rows"]),
        sales_rates=tuple((account, int(rate)) for account, rate in data.get("sales_rates") or ()),
    )


def take_lease(
    conn: psycopg.Connection[Any], export: Export, owner: str, lease: timedelta, voucher: dict[str, Any]
) -> bool:
    """Before anything is sent to BL: record the exact voucher about to be posted and lease the export to
    ``owner``. False when another worker holds an unexpired lease (its job connection may have died
    while it is still posting). A retry of a 'posting' export re-posts this stored voucher, never one
    rebuilt from a plan that changed meanwhile (another series or rows would defeat the look-up).

    ``owner`` is ``<process instance>:<thread>``; a lease whose process has no connection left in
    ``pg_stat_activity`` (application_name ``dayclose-<instance>``) is void: a crashed process's
    exports are taken over at once, while a live process that only lost one connection keeps them."""
    conn.execute("SELECT pg_stat_clear_snapshot()")  # see who is connected now, not at transaction start
    row = conn.execute(
        """UPDATE exports SET voucher = %s, lease_owner = %s, lease_until = now() + %s, updated_at = now()
           WHERE export_id = %s
             AND (lease_until IS NULL OR lease_until < now() OR lease_owner = %s
                  OR NOT EXISTS (SELECT 1 FROM pg_stat_activity
                                 WHERE application_name = %s || split_part(exports.lease_owner, ':', 1)))
           RETURNING 1""",
        (Jsonb(voucher), owner, lease, export.export_id, owner, LEASE_PREFIX),
    ).fetchone()
    return row is not None


def posting_voucher(conn: psycopg.Connection[Any], export: Export) -> dict[str, Any] | None:
    """The voucher an earlier attempt stored before posting, if the export is still 'posting'."""
    row = conn.execute(
        "SELECT voucher FROM exports WHERE export_id = %s AND status = 'posting'", (export.export_id,)
    ).fetchone()
    return row[0] if row and row[0] else None


def stored_voucher(conn: psycopg.Connection[Any], export: Export) -> Voucher:
    row = conn.execute("SELECT voucher FROM exports WHERE export_id = %s", (export.export_id,)).fetchone()
    if row is None or row[0] is None:
        raise LookupError(f"export {export.export_id} has no stored voucher: {row!r}")
    return voucher_from_json(row[0])


def booked_vouchers(conn: psycopg.Connection[Any], org: str, since: date, until: date) -> list[dict[str, Any]]:
    """The vouchers booked for an organization between two business dates, as recorded at booking."""
    rows = conn.execute(
        "SELECT voucher FROM exports WHERE organization_id = %s AND status = 'booked' AND voucher IS NOT NULL "
        "AND business_date BETWEEN %s AND %s ORDER BY business_date, booked_at",
        (org, since, until),
    ).fetchall()
    return [r[0] for r in rows]

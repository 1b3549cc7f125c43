"""Exports in PostgreSQL: the durable identity of every voucher we try to book, what it claimed (by watermark,
:mod:`storage.claims`), the voucher stored before it is posted, the lease of the worker posting it, and its result.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from mapping.totals import DayTotals
from mapping.voucher import Voucher
from service.exporter import BookedVoucher
from service.messages import Detail, Trigger
from service.model import Export, ExportStatus, Lease, LeaseTaken, StoredDayClose
from storage import claims
from storage.claims import UNEXPORTED_REGISTER
from storage.codecs import invoice_from_json, voucher_from_json, voucher_to_json
from storage.day_closes import PostgresDayCloses

#: application_name prefix of every service connection: ``dayclose-<process instance>``.
LEASE_PREFIX = "dayclose-"
_COLUMNS = (
    "export_id, reference, organization_id, store_id, business_date, trigger, status, attempts, reason_code, "
    "register_id, complements_z, invoice"
)


def see_who_is_connected_now(conn: psycopg.Connection[Any]) -> None:
    """Make the next read of ``pg_stat_activity`` see who is connected now, not whom the transaction saw first. A
    transaction that has not begun reads a fresh list anyway (PostgreSQL discards it at every transaction's end): the
    round trip is spent only inside one (libpq knows which, locally)."""
    if conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
        conn.execute("SELECT pg_stat_clear_snapshot()")


def _export(row: Sequence[Any]) -> Export:
    return Export(
        row[0],
        row[1],
        row[2],
        row[3],
        row[4],
        Trigger(row[5]),
        ExportStatus(row[6]),
        row[7],
        row[8],
        register_id=row[9],
        complements_z=row[10],
        invoice=invoice_from_json(row[11]),
    )


def _day(export: Export) -> claims.RegisterDay:
    return (export.organization_id, export.store_id, export.business_date, export.register_id)


class PostgresExports:
    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self.conn = conn

    def open(self, org: str, store: str) -> list[Export]:
        """Exports of this store not yet booked, oldest first: they are retried before anything new."""
        rows = self.conn.execute(
            f"SELECT {_COLUMNS} FROM exports WHERE organization_id = %s AND store_id = %s "  # noqa: S608 - constant
            "AND status <> 'booked' ORDER BY business_date, created_at",
            (org, store),
        ).fetchall()
        return [_export(r) for r in rows]

    def fresh_invoices(self, org: str, store: str) -> list[Export]:
        """The store's invoice-sale exports a claim just made, not attempted yet, oldest first."""
        rows = self.conn.execute(
            f"SELECT {_COLUMNS} FROM exports WHERE organization_id = %s AND store_id = %s "  # noqa: S608 - constant
            "AND status = 'posting' AND attempts = 0 AND invoice IS NOT NULL ORDER BY business_date, created_at",
            (org, store),
        ).fetchall()
        return [_export(r) for r in rows]

    def unexported_dates(self, org: str, store: str, since: date, until: date) -> list[tuple[date, str]]:
        """The store's register-days between ``since`` and ``until`` with sales no export holds (one probe per day
        and register the store has used)."""
        rows = self.conn.execute(
            f"""SELECT d.business_date, g.register_id FROM (
                   SELECT %s::text AS organization_id, %s::text AS store_id, g::date AS business_date
                   FROM generate_series(greatest(%s::date, (SELECT min(business_date) FROM sales
                                                            WHERE organization_id = %s AND store_id = %s)),
                                        %s::date, interval '1 day') g) d
               JOIN registers g ON g.organization_id = d.organization_id AND g.store_id = d.store_id
               WHERE {UNEXPORTED_REGISTER.format(d="d", r="g.register_id")} ORDER BY 1, 2""",  # noqa: S608 - constant
            (org, store, since, org, store, until),
        ).fetchall()
        return [(r[0], r[1]) for r in rows]

    def claim(
        self,
        org: str,
        store: str,
        day: date,
        trigger: Trigger,
        z_report_number: int | None,
        *,
        include_day_close: bool,
        single_purpose: Mapping[str, int] = {},  # noqa: B006 - read only
        register: str = "",
        complements_z: int | None = None,
    ) -> Export | None:
        """Claim what the register-day holds that no standing export books, by watermark (:mod:`storage.claims`).
        Returns None when there is nothing to claim (and no day close to book). The claim commits before
        anything is sent to BL, so the export's identity survives a crash between posting and recording the
        result."""
        return claims.claim(
            self.conn,
            (org, store, day, register),
            trigger,
            z_report_number,
            include_day_close=include_day_close,
            single_purpose=single_purpose,
            complements_z=complements_z,
        )

    def has_unexported(self, org: str, store: str, day: date, *, register: str = "") -> bool:
        """Whether the register-day holds sales no export books (one index probe)."""
        row = self.conn.execute(
            f"""SELECT {UNEXPORTED_REGISTER.format(d="d", r="d.register_id")}
                FROM (SELECT %s::text AS organization_id, %s::text AS store_id, %s::date AS business_date,
                             %s::text AS register_id) d""",  # noqa: S608 - constant
            (org, store, day, register),
        ).fetchone()
        return bool(row and row[0])

    def totals(self, export: Export, single_purpose: Mapping[str, int]) -> DayTotals:
        """What the export books, as claimed."""
        row = self.conn.execute(
            "SELECT totals, sales_ids FROM exports WHERE export_id = %s", (export.export_id,)
        ).fetchone()
        if row is None:
            raise LookupError(f"no export {export.export_id}")
        return claims.export_totals(self.conn, _day(export), export.export_id, row[0], row[1], single_purpose)

    def resum(self, export: Export, single_purpose: Mapping[str, int]) -> DayTotals:
        """What the export books, summed again from its rows for these single-purpose methods (the plan's changed
        since it claimed), and stored."""
        items = claims.items_of(self.conn, export.export_id)
        totals = DayTotals.of(
            export.store_id, export.business_date, items, single_purpose, register_id=export.register_id
        )
        self.conn.execute(
            "UPDATE exports SET totals = %s WHERE export_id = %s", (Jsonb(totals.to_json()), export.export_id)
        )
        return totals

    def day_snapshot(self, export: Export) -> DayTotals | None:
        """The store-day's totals when the export claimed (the whole day its Z-report VAT rounding is split over)."""
        return claims.day_snapshot(self.conn, export.export_id)

    def day_close(self, export: Export) -> StoredDayClose | None:
        row = self.conn.execute(
            "SELECT z_report_number FROM exports WHERE export_id = %s", (export.export_id,)
        ).fetchone()
        if row is None or row[0] is None:
            return None
        return PostgresDayCloses(self.conn).get(
            export.organization_id, export.store_id, export.business_date, row[0], register=export.register_id
        )

    def store_name(self, org: str, store: str) -> str:
        row = self.conn.execute(
            "SELECT name FROM stores WHERE organization_id = %s AND store_id = %s", (org, store)
        ).fetchone()
        return row[0] if row and row[0] else store

    def posting_voucher(self, export: Export) -> tuple[Voucher, int] | None:
        """The voucher an earlier attempt stored before posting, if the export is still 'posting'."""
        row = self.conn.execute(
            "SELECT voucher FROM exports WHERE export_id = %s AND status = 'posting'", (export.export_id,)
        ).fetchone()
        if not row or not row[0]:
            return None
        return voucher_from_json(row[0]), int(row[0].get("receipt_count") or 0)

    def stored_voucher(self, export: Export) -> Voucher:
        row = self.conn.execute("SELECT voucher FROM exports WHERE export_id = %s", (export.export_id,)).fetchone()
        if row is None or row[0] is None:
            raise LookupError(f"export {export.export_id} has no stored voucher: {row!r}")
        return voucher_from_json(row[0])

    def take_lease(
        self, export: Export, owner: str, lease: timedelta, voucher: Voucher, receipt_count: int
    ) -> LeaseTaken:
        """Before anything is sent to BL: record the exact voucher about to be posted, lease the export to ``owner``
        and record that a post is attempted (``post_attempted_at``, kept once set). HELD_ELSEWHERE when another
        worker holds an unexpired lease (its job connection may have died while it is still posting). A retry of a
        'posting' export re-posts this stored voucher, never one rebuilt from a plan that changed meanwhile
        (another series or rows would defeat the look-up).

        Whether an earlier post was attempted is read under the row's lock, from what is committed now: a worker
        holding a stale copy of the export can never take it for a first post.

        ``owner`` is ``<process instance>:<thread>``; a lease whose process has no connection left in
        ``pg_stat_activity`` (application_name ``dayclose-<instance>``) is void: a crashed process's
        exports are taken over at once, while a live process that only lost one connection keeps them.

        After an earlier attempt, also how long ago it may last have posted: an attempt that ended recorded it
        (``mark_failed`` clears the owner and sets ``updated_at``), one taken over (its owner still set: it died or
        its lease ran out) may have had a post on its way to BL until now, so 0."""
        see_who_is_connected_now(self.conn)
        # One statement: the subquery locks the row and reads whether a post was attempted from the version committed
        # now (FOR UPDATE waits for a concurrent writer and reads its result), before the update sets it.
        row = self.conn.execute(
            """UPDATE exports SET voucher = %s, lease_owner = %s, lease_until = now() + %s, updated_at = now(),
                      post_attempted_at = coalesce(exports.post_attempted_at, now())
               FROM (SELECT export_id, post_attempted_at IS NOT NULL AS before,
                            CASE WHEN lease_owner IS NULL THEN extract(epoch FROM now() - updated_at)::float8
                                 ELSE 0 END AS since
                     FROM exports WHERE export_id = %s FOR UPDATE) old
               WHERE exports.export_id = old.export_id
                 AND (lease_until IS NULL OR lease_until < now() OR lease_owner = %s
                      OR NOT EXISTS (SELECT 1 FROM pg_stat_activity
                                     WHERE application_name = %s || split_part(exports.lease_owner, ':', 1)))
               RETURNING old.before, old.since""",
            (Jsonb(voucher_to_json(voucher, receipt_count)), owner, lease, export.export_id, owner, LEASE_PREFIX),
        ).fetchone()
        if row is None:
            return LeaseTaken(Lease.HELD_ELSEWHERE)
        if not row[0]:
            return LeaseTaken(Lease.FIRST_POST)
        return LeaseTaken(Lease.POSTED_BEFORE, max(0.0, float(row[1])))

    def let_go(self, export: Export, owner: str) -> None:
        self.conn.execute(
            """UPDATE exports SET lease_owner = NULL, lease_until = NULL, updated_at = now()
               WHERE export_id = %s AND lease_owner = %s""",
            (export.export_id, owner),
        )

    def mark_booked(self, export: Export, booked: BookedVoucher, voucher: Voucher, receipt_count: int) -> None:
        self.conn.execute(
            """UPDATE exports SET status = 'booked', voucher_series = %s, voucher_number = %s, voucher = %s,
                   total_debit_ore = %s, reason_code = NULL, reason_details = NULL, attempts = attempts + 1,
                   lease_owner = NULL, lease_until = NULL, booked_at = now(), updated_at = now(),
                   bl_entity_id = coalesce(%s, bl_entity_id)
               WHERE export_id = %s""",
            (
                booked.series,
                booked.number,
                Jsonb(voucher_to_json(voucher, receipt_count)),
                voucher.total_debit_ore,
                booked.entity_id,
                export.export_id,
            ),
        )

    def mark_failed(self, export: Export, status: ExportStatus, reason_code: str, details: Sequence[Detail]) -> None:
        """Record a failed attempt. ``status`` stays 'posting' for transient failures (the voucher may be
        in BL: the next attempt looks it up) and becomes 'failed' for definitive refusals."""
        self.conn.execute(
            """UPDATE exports SET status = %s, reason_code = %s, reason_details = %s, attempts = attempts + 1,
                   lease_owner = NULL, lease_until = NULL, updated_at = now() WHERE export_id = %s""",
            (status.value, reason_code, Jsonb([d.as_json() for d in details]), export.export_id),
        )

    def release_empty(self, export: Export, reason_code: str = "NOTHING_TO_BOOK") -> None:
        """An export that books nothing (its sales net to zero, or an invoice the invoicing books): mark it
        booked-with-nothing, with why, so its sales stay exported. Kept as a row for the audit trail."""
        self.conn.execute(
            "UPDATE exports SET status = 'booked', reason_code = %s, booked_at = now(), "
            "updated_at = now() WHERE export_id = %s",
            (reason_code, export.export_id),
        )

    def vat_adjustment(self, export: Export) -> dict[int, int]:
        """The Z_REPORT VAT rounding this day-close export books (öre per rate, + = more VAT)."""
        row = self.conn.execute(
            "SELECT vat_adjustment FROM exports WHERE export_id = %s", (export.export_id,)
        ).fetchone()
        return {int(rate): int(amount) for rate, amount in (row[0] or {}).items()} if row else {}

    def set_vat_adjustment(self, export: Export, by_rate: dict[int, int]) -> None:
        self.conn.execute(
            "UPDATE exports SET vat_adjustment = %s WHERE export_id = %s",
            (Jsonb({str(rate): amount for rate, amount in by_rate.items()}), export.export_id),
        )

    def booked_vat_adjustments(
        self, org: str, store: str, day: date, *, besides: uuid.UUID | None, register: str = ""
    ) -> dict[int, int]:
        """VAT rounding the register-day's other exports book (earlier Z-reports of a day closed twice), per rate.
        A reversed export's rounding was reversed with it."""
        rows = self.conn.execute(
            """SELECT r.key::int, sum(r.value::bigint) FROM exports e, jsonb_each_text(e.vat_adjustment) AS r
               WHERE e.organization_id = %s AND e.store_id = %s AND e.business_date = %s AND e.register_id = %s
                 AND e.vat_adjustment IS NOT NULL AND e.trigger <> 'CORRECTION'
                 AND coalesce(e.reason_code, '') <> 'REVERSED' AND e.export_id IS DISTINCT FROM %s
               GROUP BY 1""",
            (org, store, day, register, besides),
        ).fetchall()
        return {int(rate): int(total) for rate, total in rows if total}

    # --- what the API asks ------------------------------------------------------------------------

    def failed(self, org: str) -> list[tuple[str, str | None, Any]]:
        """(store, reason_code, reason_details) of every export that was refused and waits for a fix."""
        rows = self.conn.execute(
            "SELECT store_id, reason_code, reason_details FROM exports WHERE organization_id = %s "
            "AND status = 'failed' ORDER BY store_id, business_date",
            (org,),
        ).fetchall()
        return [(r[0], r[1], r[2]) for r in rows]

    def stores_with_open(self, org: str) -> list[str]:
        """Stores with an export not booked (refused, or left posting when the integration stopped)."""
        rows = self.conn.execute(
            "SELECT DISTINCT store_id FROM exports WHERE organization_id = %s AND status <> 'booked' ORDER BY 1",
            (org,),
        ).fetchall()
        return [r[0] for r in rows]

    def known_stores(self, org: str) -> list[str]:
        """Every store of the organization that has sent an event (a row in ``stores``)."""
        rows = self.conn.execute("SELECT store_id FROM stores WHERE organization_id = %s ORDER BY 1", (org,)).fetchall()
        return [r[0] for r in rows]

    def store_day(self, org: str, export_id: uuid.UUID) -> tuple[str, date] | None:
        row = self.conn.execute(
            "SELECT store_id, business_date FROM exports WHERE organization_id = %s AND export_id = %s",
            (org, export_id),
        ).fetchone()
        return (row[0], row[1]) if row else None

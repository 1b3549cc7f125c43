"""The seven-year link from every booked voucher to its receipts and Z-report, and the queries on it.

:func:`record_booked` runs in the transaction that marks an export booked: the voucher as posted
(with account names from BL's chart) and the Z-report's control totals it was reconciled against are
stored until ``retain_until`` (see :mod:`mapping.periods`). The receipts it holds (ids and printed
numbers) are the sales rows its export names (``exports.sales_ids``; a reversal names those of the
voucher it reverses, a re-export takes them over) while those rows exist; the purge copies them to
``audit_receipts`` in the transaction that drops their quarter (:mod:`storage.retention`), and only
for a voucher with this record. The queries below take both, so "which voucher holds receipt X" and
"which receipts does voucher D 123 hold" keep their answer for seven years.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from mapping.periods import FiscalYear, fiscal_year_end, retain_until
from mapping.voucher import Voucher
from service.exporter import BookedVoucher, ChartNames
from service.model import Export
from storage.codecs import voucher_to_json

#: The sales rows an export ``e`` names (``sales s``): one index range scan per range of its ``sales_ids``.
NAMED_ROWS = """CROSS JOIN LATERAL unnest(e.sales_ids) AS named(ids)
    CROSS JOIN LATERAL (SELECT * FROM sales x WHERE x.organization_id = e.organization_id AND x.store_id = e.store_id
                        AND x.business_date = e.business_date AND x.register_id = e.register_id
                        AND x.id >= lower(named.ids) AND x.id < upper(named.ids)) s"""


def audit_voucher_json(voucher: Voucher, receipt_count: int, names: ChartNames) -> dict[str, Any]:
    """The voucher as posted, with the names BL's chart gave its accounts and cost centres."""
    data = voucher_to_json(voucher, receipt_count)
    data["account_names"] = {r.account: names.accounts[r.account] for r in voucher.rows if r.account in names.accounts}
    data["cost_centre_names"] = {
        r.cost_centre: names.cost_centres[r.cost_centre]
        for r in voucher.rows
        if r.cost_centre and r.cost_centre in names.cost_centres
    }
    return data


class PostgresAudit:
    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self.conn = conn

    def record_booked(
        self,
        export: Export,
        booked: BookedVoucher,
        voucher: Voucher,
        receipt_count: int,
        names: ChartNames,
        years: list[FiscalYear],
    ) -> None:
        """The audit record of a voucher just booked; call in the transaction that marks it booked.
        Also marks its day report as pending (attached next) and a correction it completes as done."""
        fy_end = fiscal_year_end(booked.entry_date, years)
        fy_id = next((fy.id for fy in years if fy.covers(booked.entry_date)), None)
        self.conn.execute(
            """INSERT INTO audit_vouchers (export_id, organization_id, store_id, business_date, trigger, reference,
                                           series, number, entry_date, financial_year_id, voucher, z_report_number,
                                           control_totals, receipt_count, reverses, correction_id, fiscal_year_end,
                                           retain_until, register_id)
               SELECT e.export_id, e.organization_id, e.store_id, e.business_date, e.trigger, e.reference,
                      %s, %s, %s, %s, %s, e.z_report_number,
                      -- the Z-report as reconciled, its counted and expected cash (the cash difference's basis)
                      -- included (issue #21)
                      d.payload - 'store_name', %s,
                      e.reverses, e.correction_id, %s, %s, e.register_id
               FROM exports e
               LEFT JOIN day_closes d ON d.organization_id = e.organization_id AND d.store_id = e.store_id
                    AND d.register_id = e.register_id AND d.business_date = e.business_date
                    AND d.z_report_number = e.z_report_number
               WHERE e.export_id = %s
               ON CONFLICT (export_id) DO NOTHING""",
            (
                booked.series,
                booked.number,
                booked.entry_date,
                fy_id,
                Jsonb(audit_voucher_json(voucher, receipt_count, names)),
                receipt_count,
                fy_end or date(booked.entry_date.year, 12, 31),
                retain_until(booked.entry_date, fy_end),
                export.export_id,
            ),
        )
        # Its receipts are not copied here (that would be one row per receipt on the booking's path): the link
        # is the sales rows the export names (sales_ids) until the purge copies it to audit_receipts.
        self.conn.execute(
            "UPDATE exports SET document_status = 'pending' WHERE export_id = %s AND document_status IS NULL",
            (export.export_id,),
        )
        self.conn.execute(
            "UPDATE corrections SET completed_at = now() WHERE new_export_id = %s AND completed_at IS NULL",
            (export.export_id,),
        )


# --- queries ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AuditVoucher:
    export_id: str
    reference: str
    store_id: str
    business_date: date
    trigger: str
    series: str
    number: int
    entry_date: date
    financial_year_id: str | None
    z_report_number: int | None
    receipt_count: int
    reverses: str | None
    correction_id: str | None
    retain_until: date
    control_totals: dict[str, Any] | None
    voucher: dict[str, Any]


_COLUMNS = """a.export_id::text, a.reference, a.store_id, a.business_date, a.trigger, a.series, a.number, a.entry_date,
              a.financial_year_id, a.z_report_number, a.receipt_count, a.reverses::text, a.correction_id::text,
              a.retain_until, a.control_totals, a.voucher"""


def vouchers_holding_receipt(
    conn: psycopg.Connection[Any], org: str, receipt_id: str
) -> list[tuple[str | None, AuditVoucher]]:
    """Every voucher (original, reversal, new one after a correction) that holds the receipt, oldest first,
    with the receipt's printed number: from the receipt's row (one probe per quarter) and the exports of its
    store-day naming it while it exists, from ``audit_receipts`` once its quarter is purged."""
    rows = conn.execute(
        f"""SELECT h.receipt_number, {_COLUMNS} FROM (
                SELECT s.payload->>'receipt_number' AS receipt_number, e.export_id
                FROM sales s JOIN exports e ON e.organization_id = s.organization_id AND e.store_id = s.store_id
                                           AND e.business_date = s.business_date AND e.register_id = s.register_id
                                           AND e.sales_ids @> s.id
                WHERE s.organization_id = %(org)s AND s.event_key = 'receipt:' || %(receipt)s
                UNION
                SELECT r.receipt_number, r.export_id FROM audit_receipts r
                WHERE r.organization_id = %(org)s AND r.receipt_id = %(receipt)s) h
            JOIN audit_vouchers a ON a.export_id = h.export_id
            WHERE a.organization_id = %(org)s
            ORDER BY a.recorded_at, a.export_id""",  # noqa: S608 - constant columns
        {"org": org, "receipt": receipt_id},
    ).fetchall()
    return [(r[0], AuditVoucher(*r[1:])) for r in rows]


def vouchers_by_number(
    conn: psycopg.Connection[Any], org: str, series: str, number: int, financial_year_id: str | None = None
) -> list[AuditVoucher]:
    """BL numbers vouchers per series and fiscal year: one match per fiscal year."""
    rows = conn.execute(
        f"""SELECT {_COLUMNS} FROM audit_vouchers a
            WHERE a.organization_id = %s AND a.series = %s AND a.number = %s
              AND (%s::text IS NULL OR a.financial_year_id = %s)
            ORDER BY a.entry_date""",  # noqa: S608 - constant columns
        (org, series, number, financial_year_id, financial_year_id),
    ).fetchall()
    return [AuditVoucher(*r) for r in rows]


def receipts_of(conn: psycopg.Connection[Any], export_id: str | uuid.UUID) -> list[tuple[str, str | None]]:
    """(receipt id, printed number) of the receipts an export holds: the rows it names (an index range scan per
    range of its ``sales_ids``), or ``audit_receipts`` once they are purged."""
    rows = conn.execute(
        f"""SELECT s.payload->>'receipt_id', s.payload->>'receipt_number' FROM exports e {NAMED_ROWS}
            WHERE e.export_id = %(id)s AND s.kind = 'receipt'
            UNION
            SELECT receipt_id, receipt_number FROM audit_receipts WHERE export_id = %(id)s
            ORDER BY 1""",  # noqa: S608 - constant
        {"id": export_id},
    ).fetchall()
    return [(r[0], r[1]) for r in rows]


def booked_vouchers(conn: psycopg.Connection[Any], org: str, since: date, until: date) -> list[dict[str, Any]]:
    """The vouchers as posted (with account and cost centre names) whose entry date is in the range."""
    rows = conn.execute(
        "SELECT voucher FROM audit_vouchers WHERE organization_id = %s AND entry_date BETWEEN %s AND %s "
        "ORDER BY entry_date, series, number",
        (org, since, until),
    ).fetchall()
    return [r[0] for r in rows]


def unbooked_vouchers(
    conn: psycopg.Connection[Any], org: str, since: date, until: date
) -> tuple[list[dict[str, Any]], list[str]]:
    """The vouchers the integration did not book: those BL refused (``failed``, the voucher stored before it was
    posted), of business dates in the range; and the references of exports still being posted (they may be in
    BL: never offered for import)."""
    rows = conn.execute(
        """SELECT status, reference, voucher FROM exports
           WHERE organization_id = %s AND business_date BETWEEN %s AND %s AND status <> 'booked'
           ORDER BY business_date, store_id, created_at""",
        (org, since, until),
    ).fetchall()
    refused = [v for status, _, v in rows if status == "failed" and v is not None]
    posting = [ref for status, ref, _ in rows if status == "posting"]
    return refused, posting

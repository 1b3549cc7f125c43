"""The day report's state per booked export (pending → attached | failed) and the facts it is made of."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date
from typing import Any, NamedTuple

import psycopg
from psycopg.types.json import Jsonb

from mapping.register_day import CashMovement, GiftCardExpiry
from mapping.sales import Receipt
from service.messages import Detail, Trigger
from service.model import AttachTarget, ReportSource
from storage import claims
from storage.audit import receipts_of
from storage.codecs import control_from_json, invoice_from_json
from storage.day_closes import PostgresDayCloses

#: What a day report is made of, in one round trip: the export, its audit record, the store's and company's names,
#: the voucher it reverses and the correction that asked for it (read as :class:`_Source`).
_SOURCE = """SELECT e.organization_id, e.store_id, coalesce(st.name, e.store_id), coalesce(i.company_name, ''),
              e.business_date, e.trigger, e.reference, a.series, a.number, a.entry_date, a.voucher,
              a.z_report_number, a.control_totals, r.voucher_series || ' ' || r.voucher_number || ' (' ||
              r.reference || ')', c.reason, c.requested_by, c.requested_at, c.originals, c.in_original_period,
              c.dating, c.found_on, c.period_statement,
              i.company_org_number, e.register_id, (e.booked_at AT TIME ZONE 'Europe/Stockholm')::date,
              e.complements_z, e.invoice
       FROM exports e
       JOIN audit_vouchers a ON a.export_id = e.export_id
       LEFT JOIN stores st ON st.organization_id = e.organization_id AND st.store_id = e.store_id
       LEFT JOIN integrations i ON i.organization_id = e.organization_id
       LEFT JOIN exports r ON r.export_id = e.reverses
       LEFT JOIN corrections c ON c.correction_id = e.correction_id
       WHERE e.export_id = %s"""


class _Source(NamedTuple):
    """A row of :data:`_SOURCE`, its columns named."""

    org: Any
    store: Any
    store_name: Any
    company: Any
    day: Any
    trigger: Any
    reference: Any
    series: Any
    number: Any
    entry_date: Any
    voucher: Any
    z: Any
    control: Any
    reverses: Any
    reason: Any
    by: Any
    at: Any
    originals: Any
    in_period: Any
    dating: Any
    found_on: Any
    statement: Any
    org_number: Any
    register: Any
    booked_on: Any
    complements_z: Any
    invoice: Any


class PostgresDocuments:
    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self.conn = conn

    def pending(self, org: str, store: str) -> list[uuid.UUID]:
        rows = self.conn.execute(
            "SELECT export_id FROM exports WHERE organization_id = %s AND store_id = %s "
            "AND document_status = 'pending' ORDER BY booked_at",
            (org, store),
        ).fetchall()
        return [r[0] for r in rows]

    def begin_attach(self, export_id: uuid.UUID) -> AttachTarget:
        """Record that an attach request is about to be sent (``document_attach_attempted_at``: when the last attempt
        began, or ended for now: :meth:`attach_ended`); whether one was recorded before, and how long ago, is read
        under the row's lock, from what is committed now."""
        row = self.conn.execute(
            """UPDATE exports SET document_attach_attempted_at = now()
               FROM (SELECT export_id, document_attach_attempted_at IS NOT NULL AS before,
                            extract(epoch FROM now() - document_attach_attempted_at)::float8 AS since
                     FROM exports WHERE export_id = %s FOR UPDATE) old
               WHERE exports.export_id = old.export_id
               RETURNING exports.bl_entity_id, old.before, old.since""",
            (export_id,),
        ).fetchone()
        if row is None:
            raise LookupError(f"no export {export_id}")
        return AttachTarget(row[0], bool(row[1]), None if row[2] is None else max(0.0, float(row[2])))

    def attach_ended(self, export_id: uuid.UUID) -> None:
        self.conn.execute(
            """UPDATE exports SET document_attach_attempted_at = now()
               WHERE export_id = %s AND document_status = 'pending'""",
            (export_id,),
        )

    def mark_attached(self, export_id: uuid.UUID, document_id: int, name: str) -> None:
        self.conn.execute(
            """UPDATE exports SET document_status = 'attached', document_id = %s, document_name = %s,
                      document_attached_at = now(), updated_at = now() WHERE export_id = %s""",
            (document_id, name, export_id),
        )

    def mark_failed(self, export_id: uuid.UUID, name: str, details: Sequence[Detail]) -> None:
        """The voucher stays booked; only the document is recorded as refused (with BL's answer)."""
        self.conn.execute(
            """UPDATE exports SET document_status = 'failed', document_name = %s, updated_at = now(),
                      reason_details = coalesce(reason_details, '[]'::jsonb) || %s WHERE export_id = %s""",
            (name, Jsonb([d.as_json() for d in details]), export_id),
        )

    def source(self, export_id: uuid.UUID) -> ReportSource:
        row = self.conn.execute(_SOURCE, (export_id,)).fetchone()
        if row is None:
            raise LookupError(f"export {export_id} has no audit record")
        r = _Source(*row)
        receipts, others = _items(self.conn, export_id, r.trigger)
        # A reversal's numbers are its original's; any export's once its sales are purged come from audit_receipts.
        numbers = [x.receipt_number or "?" for x in receipts] or [
            n or "?" for _, n in receipts_of(self.conn, export_id)
        ]
        org, store, day, z, register = r.org, r.store, r.day, r.z, r.register
        return ReportSource(
            export_id,
            org,
            store,
            r.store_name,
            r.company,
            day,
            Trigger(r.trigger),
            r.reference,
            r.series,
            r.number,
            r.entry_date,
            r.voucher,
            z,
            control_from_json(r.control) if r.control else None,
            receipts,
            numbers,
            _complements(self.conn, export_id, org, store, day) if z is not None else [],
            r.reverses,
            _correction(r),
            _day_close_before(self.conn, export_id, org, store, day) if z is None else None,
            r.org_number,
            register,
            r.booked_on,
            others,
            complements_z=r.complements_z,
            invoice=invoice_from_json(r.invoice),
            **(_closing(self.conn, export_id, org, store, register, day, z) if z is not None else {}),
        )


def _items(
    conn: psycopg.Connection[Any], export_id: uuid.UUID, trigger: str
) -> tuple[list[Receipt], list[CashMovement | GiftCardExpiry]]:
    """The export's receipts and its other items (none for a reversal: it books no receipts of its own)."""
    receipts: list[Receipt] = []
    others: list[CashMovement | GiftCardExpiry] = []
    if trigger != Trigger.CORRECTION:
        for item in claims.items_of(conn, export_id):
            if isinstance(item, Receipt):
                receipts.append(item)
            else:
                others.append(item)
    return receipts, others


def _correction(r: _Source) -> dict[str, Any] | None:
    """What the report says of the correction that asked for a reversal (None for any other export)."""
    if r.reason is None:
        return None
    return {
        "reason": r.reason,
        "requested_by": r.by,
        "requested_at": r.at,
        "originals": r.originals,
        "in_original_period": bool(r.in_period),
        "dating": r.dating,
        "found_on": r.found_on,
        "statement": r.statement,
    }


def _closing(
    conn: psycopg.Connection[Any], export_id: uuid.UUID, org: str, store: str, register: str, day: date, z: int
) -> dict[str, Any]:
    """What a day-close report shows of its register's day: the Z-report as reconciled, the day's totals when the
    export claimed, the cash difference earlier Z-reports booked, their numbers, the cash chain's line."""
    closes = PostgresDayCloses(conn)
    close = closes.get(org, store, day, z, register=register)
    if close is None:
        return {}
    earlier = conn.execute(
        """SELECT z_report_number FROM day_closes WHERE organization_id = %s AND store_id = %s AND register_id = %s
             AND business_date = %s AND z_report_number < %s ORDER BY 1""",
        (org, store, register, day, z),
    ).fetchall()
    chain = conn.execute(
        """SELECT cash_chain->>'text_sv' FROM day_closes WHERE organization_id = %s AND store_id = %s
             AND register_id = %s AND business_date = %s AND z_report_number = %s""",
        (org, store, register, day, z),
    ).fetchone()
    return {
        "day_close": close.day_close,
        "day": claims.day_snapshot(conn, export_id),
        "cash_booked_before": closes.booked_cash_difference(org, close),
        "superseded": [int(r[0]) for r in earlier],
        "cash_chain": chain[0] if chain else None,
    }


def _day_close_before(
    conn: psycopg.Connection[Any], export_id: uuid.UUID, org: str, store: str, day: date
) -> str | None:
    """For sales exported without a Z-report: the day-close voucher of the day booked before them, if any
    (they are late sales that complement it, not a partial export the day close will complete)."""
    row = conn.execute(
        """SELECT voucher_series || ' ' || voucher_number || ' (' || reference || ')' FROM exports
           WHERE organization_id = %s AND store_id = %s AND business_date = %s AND export_id <> %s
             AND register_id = (SELECT register_id FROM exports WHERE export_id = %s)
             AND status = 'booked' AND voucher_series IS NOT NULL AND z_report_number IS NOT NULL
             AND coalesce(reason_code, '') <> 'REVERSED'
             AND booked_at < (SELECT coalesce(booked_at, now()) FROM exports WHERE export_id = %s)
           ORDER BY booked_at DESC LIMIT 1""",
        (org, store, day, export_id, export_id, export_id),
    ).fetchone()
    return row[0] if row else None


def _complements(conn: psycopg.Connection[Any], export_id: uuid.UUID, org: str, store: str, day: date) -> list[str]:
    """Partial vouchers of the same day booked before this day-close voucher and still standing."""
    rows = conn.execute(
        """SELECT voucher_series || ' ' || voucher_number || ' (' || reference || ')' FROM exports
           WHERE organization_id = %s AND store_id = %s AND business_date = %s AND export_id <> %s
             AND register_id = (SELECT register_id FROM exports WHERE export_id = %s)
             AND status = 'booked' AND voucher_series IS NOT NULL AND z_report_number IS NULL
             AND trigger <> 'CORRECTION' AND coalesce(reason_code, '') <> 'REVERSED'
             AND booked_at < (SELECT coalesce(booked_at, now()) FROM exports WHERE export_id = %s)
           ORDER BY booked_at""",
        (org, store, day, export_id, export_id, export_id),
    ).fetchall()
    return [r[0] for r in rows]

"""What reconciling and booking a day close needs besides the export itself: the whole day's items
(earlier exports included), the Z_REPORT VAT rounding each day-close export books, and the store's
Z-report numbers for the sequence check."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from consumer.messages import SalesItem, item_from_json
from dayclose.db.exports import Export, StoredDayClose


def exported_day_items(
    conn: psycopg.Connection[Any], org: str, store: str, day: date, *, besides: uuid.UUID | None
) -> list[SalesItem]:
    """Every receipt, cash movement and gift card expiry of the store-day claimed by exports other than
    ``besides``: with the ones just claimed, the whole day the Z-report's totals and cash count cover."""
    rows = conn.execute(
        "SELECT kind, payload FROM sales_events WHERE organization_id = %s AND store_id = %s "
        "AND business_date = %s AND export_id IS NOT NULL AND export_id IS DISTINCT FROM %s ORDER BY id",
        (org, store, day, besides),
    ).fetchall()
    return [item_from_json(kind, store, day, payload) for kind, payload in rows]


def set_vat_adjustment(conn: psycopg.Connection[Any], export: Export, by_rate: dict[int, int]) -> None:
    """The Z_REPORT VAT rounding this day-close export books (öre per rate, + = more VAT)."""
    conn.execute("UPDATE exports SET vat_adjustment = %s WHERE export_id = %s",
                 (Jsonb({str(rate): amount for rate, amount in by_rate.items()}), export.export_id))


def vat_adjustment(conn: psycopg.Connection[Any], export: Export) -> dict[int, int]:
    row = conn.execute("SELECT vat_adjustment FROM exports WHERE export_id = %s", (export.export_id,)).fetchone()
    return {int(rate): int(amount) for rate, amount in (row[0] or {}).items()} if row else {}


def booked_vat_adjustments(
    conn: psycopg.Connection[Any], org: str, store: str, day: date, *, besides: uuid.UUID | None
) -> dict[int, int]:
    """VAT rounding the store-day's other exports book (earlier Z-reports of a day closed twice), per rate.
    A reversed export's rounding was reversed with it."""
    rows = conn.execute(
        """SELECT r.key::int, sum(r.value::bigint) FROM exports e, jsonb_each_text(e.vat_adjustment) AS r
           WHERE e.organization_id = %s AND e.store_id = %s AND e.business_date = %s AND e.vat_adjustment IS NOT NULL
             AND e.trigger <> 'CORRECTION' AND coalesce(e.reason_code, '') <> 'REVERSED'
             AND e.export_id IS DISTINCT FROM %s
           GROUP BY 1""",
        (org, store, day, besides),
    ).fetchall()
    return {int(rate): int(total) for rate, total in rows if total}


def store_z_reports(conn: psycopg.Connection[Any], org: str, store: str, around: date) -> list[tuple[date, int]]:
    """(business date, Z number) of the store's day closes within a year either side of ``around``."""
    rows = conn.execute(
        "SELECT business_date, z_report_number FROM day_closes WHERE organization_id = %s AND store_id = %s "
        "AND business_date BETWEEN %s AND %s",
        (org, store, around - timedelta(days=366), around + timedelta(days=366)),
    ).fetchall()
    return [(r[0], int(r[1])) for r in rows]


def claim_sequence_check(conn: psycopg.Connection[Any], org: str, close: StoredDayClose) -> bool:
    """Mark the day close's Z number as checked; False when it already was (checked once, warned once)."""
    dc = close.day_close
    row = conn.execute(
        "UPDATE day_closes SET sequence_checked = true WHERE organization_id = %s AND store_id = %s "
        "AND business_date = %s AND z_report_number = %s AND NOT sequence_checked RETURNING 1",
        (org, dc.store_id, dc.business_date, dc.z_report_number),
    ).fetchone()
    return row is not None

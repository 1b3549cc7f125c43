"""What the VAT-period report and a correction's VAT check read: an organization's Z-reports of a period, its
booked vouchers of the period's days or dated in it (with what each claimed, to count per rate), and its
vouchers as posted (their rows, to compare with BL's balances). Read only; the sums are :mod:`mapping`'s."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Collection, Sequence
from datetime import date
from typing import Any

import psycopg

from mapping.ledger import LedgerVoucher
from mapping.totals import DayTotals
from mapping.vatamounts import RateAmounts
from mapping.vatreport import ZDay
from service.model import StoredBooking
from storage.claims import items_named
from storage.codecs import control_from_json

#: A booked export with what it claimed: a reversal reads the export it reverses (it books its negation).
_BOOKINGS = """
    SELECT e.export_id, e.reference, e.voucher_series, e.voucher_number,
           coalesce(a.entry_date, (e.voucher->>'entry_date')::date), e.store_id, e.business_date, e.trigger,
           e.z_report_number, e.reverses IS NOT NULL,
           EXISTS (SELECT 1 FROM corrections c WHERE c.new_export_id = e.export_id),
           EXISTS (SELECT 1 FROM exports x WHERE x.organization_id = e.organization_id AND x.store_id = e.store_id
                   AND x.business_date = e.business_date AND x.register_id = e.register_id AND x.status = 'booked'
                   AND x.voucher_series IS NOT NULL AND x.trigger <> 'CORRECTION' AND x.created_at < e.created_at),
           coalesce(o.totals, e.totals), coalesce(o.vat_adjustment, e.vat_adjustment), e.sales_ids, e.register_id
    FROM exports e
    LEFT JOIN exports o ON o.export_id = e.reverses
    LEFT JOIN audit_vouchers a ON a.export_id = e.export_id
    WHERE e.organization_id = %(org)s AND e.export_id = ANY(%(ids)s) AND e.status = 'booked'
      AND e.voucher_series IS NOT NULL
    ORDER BY 5, 3, 4"""


class PostgresVatReads:
    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self.conn = conn

    def z_days(self, org: str, start: date, end: date) -> list[ZDay]:
        """Each register-day of the range with a Z-report: its latest one (it covers the register's whole day), the
        exports of the register-day BL has not booked, and its single-purpose gift card redemptions per rate."""
        closes = self.conn.execute(
            """SELECT DISTINCT ON (store_id, business_date, register_id) store_id, business_date, register_id,
                      z_report_number, payload, status
               FROM day_closes WHERE organization_id = %s AND business_date BETWEEN %s AND %s
               ORDER BY store_id, business_date, register_id, z_report_number DESC""",
            (org, start, end),
        ).fetchall()
        unbooked: defaultdict[tuple[str, date, str], list[str]] = defaultdict(list)
        for store, day, register, reference in self.conn.execute(
            """SELECT store_id, business_date, register_id, reference FROM exports WHERE organization_id = %s
               AND business_date BETWEEN %s AND %s AND status <> 'booked' ORDER BY created_at""",
            (org, start, end),
        ).fetchall():
            unbooked[(store, day, register)].append(reference)
        redeemed: defaultdict[tuple[str, date, str], dict[int, RateAmounts]] = defaultdict(dict)
        for store, day, register, rate, paid, vat in self.conn.execute(
            """SELECT store_id, business_date, register_id, rate, sum(a), sum(b) FROM day_totals
               WHERE organization_id = %s AND business_date BETWEEN %s AND %s AND kind = 'redemption'
               GROUP BY 1, 2, 3, 4""",
            (org, start, end),
        ).fetchall():
            if paid or vat:
                redeemed[(store, day, register)][int(rate)] = RateAmounts(int(paid), int(vat))
        return [
            ZDay(
                store,
                day,
                z,
                status,
                control_from_json(payload),
                redeemed[(store, day, register)],
                tuple(unbooked[(store, day, register)]),
                register,
            )
            for store, day, register, z, payload, status in closes
        ]

    def bookings(self, org: str, start: date, end: date) -> list[StoredBooking]:
        """Every booked voucher of the range's days, and every one dated in the range."""
        rows = self.conn.execute(
            """SELECT export_id FROM exports WHERE organization_id = %(org)s AND status = 'booked'
                 AND business_date BETWEEN %(start)s AND %(end)s
               UNION
               SELECT export_id FROM audit_vouchers WHERE organization_id = %(org)s
                 AND entry_date BETWEEN %(start)s AND %(end)s""",
            {"org": org, "start": start, "end": end},
        ).fetchall()
        return self.bookings_of(org, [r[0] for r in rows])

    def bookings_of(self, org: str, export_ids: Collection[uuid.UUID]) -> list[StoredBooking]:
        rows = self.conn.execute(_BOOKINGS, {"org": org, "ids": list(export_ids)}).fetchall()
        single_purpose: dict[str, int] | None = None
        found = []
        for row in rows:
            totals, adjustment, sales_ids, register = row[12], row[13], row[14], row[15]
            day = (org, row[5], row[6], register)
            if totals is not None:
                claimed: DayTotals | None = DayTotals.from_json(totals)
            else:  # claimed before running totals were kept: summed from its rows while they exist
                if single_purpose is None:
                    single_purpose = _single_purpose(self.conn, org)
                items = items_named(self.conn, day, [sales_ids])
                claimed = DayTotals.of(row[5], row[6], items, single_purpose) if items else None
            export_id, reference, series, number, entry_date, store, day_, trigger, z, reverses, corrects, earlier = (
                row[:12]
            )
            found.append(
                StoredBooking(
                    export_id,
                    reference,
                    series,
                    int(number),
                    entry_date,
                    store,
                    day_,
                    trigger,
                    z,
                    reverses,
                    corrects,
                    earlier,
                    claimed,
                    {int(r): int(v) for r, v in (adjustment or {}).items()},
                    register,
                )
            )
        return found

    def posted(self, org: str, start: date, end: date) -> list[tuple[str, LedgerVoucher]]:
        """(reference, voucher as posted) of every voucher dated in the range, rows signed as BL's."""
        rows = self.conn.execute(
            """SELECT reference, series, number, entry_date, voucher FROM audit_vouchers
               WHERE organization_id = %s AND entry_date BETWEEN %s AND %s ORDER BY entry_date, series, number""",
            (org, start, end),
        ).fetchall()
        return [
            (ref, LedgerVoucher(series, int(number), day, str(v.get("text") or ""), _rows(v.get("rows") or [])))
            for ref, series, number, day, v in rows
        ]


def _rows(stored: Sequence[Sequence[Any]]) -> tuple[tuple[str, int], ...]:
    return tuple((str(r[0]), int(r[1])) for r in stored)


def _single_purpose(conn: psycopg.Connection[Any], org: str) -> dict[str, int]:
    row = conn.execute(
        "SELECT plan->'single_purpose_methods' FROM account_plans WHERE organization_id = %s", (org,)
    ).fetchone()
    return {str(m): int(rate) for m, rate in ((row[0] if row else None) or {}).items()}

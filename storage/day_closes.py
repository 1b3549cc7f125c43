"""Day closes (Z-reports) in PostgreSQL: their status on the way to being booked, the cash difference earlier
Z-reports of the day booked, and the store's Z numbers for the sequence check."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import psycopg

from service.model import DayCloseStatus, StoredDayClose
from storage.codecs import control_from_json, day_close_from_json


class PostgresDayCloses:
    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self.conn = conn

    def get(self, org: str, store: str, day: date, z_report_number: int | None = None) -> StoredDayClose | None:
        """The day close with this Z number, or the day's latest one."""
        z = z_report_number
        row = self.conn.execute(
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
        return StoredDayClose(close, payload["store_name"], control_from_json(payload), DayCloseStatus(status))

    def later_exists(self, org: str, close: StoredDayClose) -> bool:
        dc = close.day_close
        row = self.conn.execute(
            "SELECT 1 FROM day_closes WHERE organization_id = %s AND store_id = %s AND business_date = %s "
            "AND z_report_number > %s LIMIT 1",
            (org, dc.store_id, dc.business_date, dc.z_report_number),
        ).fetchone()
        return row is not None

    def supersede_earlier(self, org: str, close: StoredDayClose) -> None:
        """A later Z-report of the same day covers the earlier ones (its totals are for the whole day)."""
        dc = close.day_close
        self.conn.execute(
            "UPDATE day_closes SET status = 'superseded' WHERE organization_id = %s AND store_id = %s "
            "AND business_date = %s AND z_report_number < %s AND status IN ('open', 'mismatch')",
            (org, dc.store_id, dc.business_date, dc.z_report_number),
        )

    def booked_cash_difference(self, org: str, close: StoredDayClose) -> int:
        """Cash difference already booked for the day by earlier Z-reports (counted − expected), in öre."""
        dc = close.day_close
        row = self.conn.execute(
            """SELECT coalesce(sum((payload->>'counted_cash_ore')::bigint - (payload->>'expected_cash_ore')::bigint),
                               0)
               FROM day_closes WHERE organization_id = %s AND store_id = %s AND business_date = %s
                 AND z_report_number < %s AND status = 'exported'""",
            (org, dc.store_id, dc.business_date, dc.z_report_number),
        ).fetchone()
        return int(row[0]) if row else 0

    def set_status(self, org: str, close: StoredDayClose, status: DayCloseStatus) -> None:
        dc = close.day_close
        self.conn.execute(
            "UPDATE day_closes SET status = %s WHERE organization_id = %s AND store_id = %s AND business_date = %s "
            "AND z_report_number = %s",
            (status.value, org, dc.store_id, dc.business_date, dc.z_report_number),
        )

    def z_reports(self, org: str, store: str, around: date) -> list[tuple[date, int]]:
        """(business date, Z number) of the store's day closes within a year either side of ``around``."""
        rows = self.conn.execute(
            "SELECT business_date, z_report_number FROM day_closes WHERE organization_id = %s AND store_id = %s "
            "AND business_date BETWEEN %s AND %s",
            (org, store, around - timedelta(days=366), around + timedelta(days=366)),
        ).fetchall()
        return [(r[0], int(r[1])) for r in rows]

    def claim_sequence_check(self, org: str, close: StoredDayClose) -> bool:
        """Mark the day close's Z number as checked; False when it already was (checked once, warned once)."""
        dc = close.day_close
        row = self.conn.execute(
            "UPDATE day_closes SET sequence_checked = true WHERE organization_id = %s AND store_id = %s "
            "AND business_date = %s AND z_report_number = %s AND NOT sequence_checked RETURNING 1",
            (org, dc.store_id, dc.business_date, dc.z_report_number),
        ).fetchone()
        return row is not None

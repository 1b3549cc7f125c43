"""Day closes (Z-reports) in PostgreSQL, per register: their status on the way to being booked, the cash difference
earlier Z-reports of the day booked, the register's Z numbers for the sequence check, and the till's cash chain."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from mapping.cashchain import CashChainLink
from mapping.register_day import CashMovement
from service.model import DayCloseStatus, StoredDayClose
from service.ports import ChainEnd
from storage.claims import UNEXPORTED_REGISTER
from storage.codecs import control_from_json, day_close_from_json, item_from_json

#: The day close ``close`` names: organization, store, register, business date, Z number.
_KEY = "organization_id = %s AND store_id = %s AND register_id = %s AND business_date = %s AND z_report_number = %s"


def _key(org: str, close: StoredDayClose) -> tuple[str, str, str, date, int]:
    dc = close.day_close
    return (org, dc.store_id, dc.register_id, dc.business_date, dc.z_report_number)


def _stored(store: str, register: str, day: date, z: int, payload: Any, status: str) -> StoredDayClose:
    close = day_close_from_json(store, day, z, payload, register)
    return StoredDayClose(close, payload["store_name"], control_from_json(payload), DayCloseStatus(status))


class PostgresDayCloses:
    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self.conn = conn

    def get(
        self, org: str, store: str, day: date, z_report_number: int | None = None, *, register: str = ""
    ) -> StoredDayClose | None:
        """The register-day's day close with this Z number, or its latest one."""
        z = z_report_number
        row = self.conn.execute(
            """SELECT z_report_number, payload, status FROM day_closes
               WHERE organization_id = %s AND store_id = %s AND register_id = %s AND business_date = %s
                 AND (%s::bigint IS NULL OR z_report_number = %s)
               ORDER BY z_report_number DESC LIMIT 1""",
            (org, store, register, day, z, z),
        ).fetchone()
        if row is None:
            return None
        z_no, payload, status = row
        return _stored(store, register, day, z_no, payload, status)

    def later_exists(self, org: str, close: StoredDayClose) -> bool:
        dc = close.day_close
        row = self.conn.execute(
            "SELECT 1 FROM day_closes WHERE organization_id = %s AND store_id = %s AND register_id = %s "
            "AND business_date = %s AND z_report_number > %s LIMIT 1",
            (org, dc.store_id, dc.register_id, dc.business_date, dc.z_report_number),
        ).fetchone()
        return row is not None

    def supersede_earlier(self, org: str, close: StoredDayClose) -> None:
        """A later Z-report of the same register-day covers the earlier ones (its totals are for the whole day)."""
        dc = close.day_close
        self.conn.execute(
            "UPDATE day_closes SET status = 'superseded' WHERE organization_id = %s AND store_id = %s "
            "AND register_id = %s AND business_date = %s AND z_report_number < %s AND status IN ('open', 'mismatch')",
            (org, dc.store_id, dc.register_id, dc.business_date, dc.z_report_number),
        )

    def booked_cash_difference(self, org: str, close: StoredDayClose) -> int:
        """Cash difference already booked for the register-day by earlier Z-reports (counted − expected), in öre."""
        dc = close.day_close
        row = self.conn.execute(
            """SELECT coalesce(sum((payload->>'counted_cash_ore')::bigint - (payload->>'expected_cash_ore')::bigint),
                               0)
               FROM day_closes WHERE organization_id = %s AND store_id = %s AND register_id = %s
                 AND business_date = %s AND z_report_number < %s AND status = 'exported'""",
            (org, dc.store_id, dc.register_id, dc.business_date, dc.z_report_number),
        ).fetchone()
        return int(row[0]) if row else 0

    def set_status(self, org: str, close: StoredDayClose, status: DayCloseStatus) -> None:
        self.conn.execute(
            f"UPDATE day_closes SET status = %s WHERE {_KEY}",  # noqa: S608 - constant
            (status.value, *_key(org, close)),
        )

    def unbooked_since(self, org: str, since: date) -> list[tuple[str, date, str]]:
        """(store, business date, register) of every register-day closed since ``since`` that is not fully booked (not
        exported, or with sales no export holds), oldest first."""
        rows = self.conn.execute(
            f"""SELECT DISTINCT d.store_id, d.business_date, d.register_id FROM day_closes d
               WHERE d.organization_id = %(org)s AND d.business_date >= %(since)s
                 AND (d.status <> 'exported' OR {UNEXPORTED_REGISTER.format(d="d", r="d.register_id")})
               ORDER BY 2, 1, 3""",  # noqa: S608 - constant
            {"org": org, "since": since},
        ).fetchall()
        return [(r[0], r[1], r[2]) for r in rows]

    def z_reports(self, org: str, store: str, around: date, *, register: str = "") -> list[tuple[date, int]]:
        """(business date, Z number) of the register's day closes within a year either side of ``around``."""
        rows = self.conn.execute(
            "SELECT business_date, z_report_number FROM day_closes WHERE organization_id = %s AND store_id = %s "
            "AND register_id = %s AND business_date BETWEEN %s AND %s",
            (org, store, register, around - timedelta(days=366), around + timedelta(days=366)),
        ).fetchall()
        return [(r[0], int(r[1])) for r in rows]

    def claim_sequence_check(self, org: str, close: StoredDayClose) -> bool:
        """Mark the day close's Z number as checked; False when it already was (checked once, warned once)."""
        row = self.conn.execute(
            f"UPDATE day_closes SET sequence_checked = true WHERE {_KEY} AND NOT sequence_checked RETURNING 1",  # noqa: S608
            _key(org, close),
        ).fetchone()
        return row is not None

    # --- the till's cash chain (mapping/cashchain.py) -----------------------------------------------------------

    def chain(self, org: str, close: StoredDayClose) -> tuple[ChainEnd | None, ChainEnd, ChainEnd | None]:
        """``close`` and the register's Z-reports just before and just after it (by business date, then number),
        each with whether the cash chain into it was checked and the watermark of the export that booked it (None:
        not booked)."""
        dc = close.day_close
        found: list[ChainEnd | None] = []
        for where, order in (("<", "DESC"), ("=", "ASC"), (">", "ASC")):
            row = self.conn.execute(
                f"""SELECT d.business_date, d.z_report_number, d.payload, d.status, d.chain_checked,
                           (SELECT max(e.watermark) FROM exports e WHERE e.organization_id = d.organization_id
                            AND e.store_id = d.store_id AND e.register_id = d.register_id
                            AND e.business_date = d.business_date AND e.z_report_number = d.z_report_number
                            AND e.trigger <> 'CORRECTION')
                    FROM day_closes d
                    WHERE d.organization_id = %s AND d.store_id = %s AND d.register_id = %s
                      AND (d.business_date, d.z_report_number) {where} (%s, %s)
                    ORDER BY d.business_date {order}, d.z_report_number {order} LIMIT 1""",  # noqa: S608 - constants
                (org, dc.store_id, dc.register_id, dc.business_date, dc.z_report_number),
            ).fetchone()
            if row is None:
                found.append(None)
                continue
            day, z, payload, status, checked, watermark = row
            found.append(ChainEnd(_stored(dc.store_id, dc.register_id, day, z, payload, status), checked, watermark))
        before, here, after = found
        return before, here or ChainEnd(close, False, None), after

    def moved_between(self, org: str, earlier: ChainEnd, later: StoredDayClose) -> int:
        """The cash effect of the register's movements recorded after ``earlier``'s close and before ``later``'s day:
        those of the earlier day that came after its export's claim, and every one of the days between."""
        first, last = earlier.close.day_close, later.day_close
        rows = self.conn.execute(
            """SELECT business_date, payload FROM sales
               WHERE organization_id = %s AND store_id = %s AND register_id = %s AND kind = 'cash_movement'
                 AND ((business_date = %s AND id > %s) OR (business_date > %s AND business_date < %s))""",
            (org, first.store_id, first.register_id, first.business_date, earlier.watermark or 0,
             first.business_date, last.business_date),
        ).fetchall()  # fmt: skip
        movements = [item_from_json("cash_movement", first.store_id, d, p, first.register_id) for d, p in rows]
        return sum(m.cash_effect_ore for m in movements if isinstance(m, CashMovement))

    def record_chain(self, org: str, close: StoredDayClose, link: CashChainLink | None) -> bool:
        """Mark the link into ``close`` checked (with its result, None: not checkable); False when it already was."""
        stored = None if link is None else {"text_sv": link.describe_sv(), "missing_ore": link.missing_ore,
                                             "previous_z": link.previous_z, "holds": link.holds}  # fmt: skip
        row = self.conn.execute(
            f"""UPDATE day_closes SET chain_checked = true, cash_chain = %s
                WHERE {_KEY} AND NOT chain_checked RETURNING 1""",  # noqa: S608 - constant
            (Jsonb(stored) if stored else None, *_key(org, close)),
        ).fetchone()
        return row is not None

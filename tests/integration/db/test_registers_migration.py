"""Migration 0013 on a database with data: every store-day of before becomes the register-day of the store's one
register (''), its running totals, fold, day closes, exports and jobs keep working, and a claim after it books
exactly what no export booked before."""

from __future__ import annotations

import uuid
from datetime import date

import psycopg
import pytest
from psycopg.types.json import Jsonb

from mapping.totals import DayTotals
from service.messages import Trigger
from storage import totals as running
from storage.codecs import item_to_json
from storage.day_closes import PostgresDayCloses
from storage.exports import PostgresExports
from storage.migrate import load_migrations, migrate
from tests.builders import line, receipt

pytestmark = pytest.mark.integration
ORG, STORE, DAY = "org-r", "s1", date(2026, 11, 24)


def test_store_days_of_before_become_the_one_registers_days_and_keep_booking(empty_database_url: str) -> None:
    migrate(empty_database_url, [m for m in load_migrations() if m.version < 13])
    booked = [receipt(line(gross=1000 + i), store=STORE, day=DAY) for i in range(3)]
    later = [receipt(line(gross=2000 + i), store=STORE, day=DAY) for i in range(2)]
    with psycopg.connect(empty_database_url, autocommit=True) as conn:
        conn.execute("SELECT sales_ensure_quarter(%s)", (DAY,))
        conn.execute("INSERT INTO stores (organization_id, store_id, name) VALUES (%s, %s, 'Kafé')", (ORG, STORE))
        ids = [_old_sale(conn, r) for r in booked]
        # As issue #16 left it: the day's totals folded, a booked export up to the last row, its day close exported.
        totals = DayTotals.of(STORE, DAY, booked)
        for row in totals.rows():
            conn.execute(
                "INSERT INTO day_totals (organization_id, store_id, business_date, kind, key, rate, a, b, n, m) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                (ORG, STORE, DAY, *row),
            )
        conn.execute("INSERT INTO day_folds VALUES (%s, %s, %s, %s)", (ORG, STORE, DAY, max(ids)))
        export_id = uuid.uuid4()
        conn.execute(
            """INSERT INTO exports (export_id, reference, organization_id, store_id, business_date, trigger,
                                    z_report_number, status, event_count, totals, through, watermark, sales_ids)
               VALUES (%s, %s, %s, %s, %s, 'DAY_CLOSE', 1, 'booked', 3, %s, %s, %s,
                       int8multirange(int8range(%s, %s, '[]')))""",
            (export_id, "DC-old", ORG, STORE, DAY, Jsonb(totals.to_json()), Jsonb(totals.to_json()), max(ids),
             min(ids), max(ids)),
        )  # fmt: skip
        conn.execute(
            "INSERT INTO day_closes (organization_id, store_id, business_date, z_report_number, payload, closed_at, "
            "status) VALUES (%s, %s, %s, 1, %s, now(), 'exported')",
            (ORG, STORE, DAY, Jsonb(_z_payload())),
        )
        later_ids = [_old_sale(conn, r) for r in later]  # arrived after the export: not booked yet

    migrate(empty_database_url)

    with psycopg.connect(empty_database_url, autocommit=True) as conn:
        assert conn.execute("SELECT register_id FROM registers").fetchall() == [("",)]
        assert {r[0] for r in conn.execute("SELECT register_id FROM sales").fetchall()} == {""}
        folded, through = running.read(conn, (ORG, STORE, DAY, ""))
        assert (folded, through) == (totals, max(ids))
        close = PostgresDayCloses(conn).get(ORG, STORE, DAY)
        assert close is not None and close.day_close.register_id == "" and close.day_close.z_report_number == 1
        exports = PostgresExports(conn)
        assert exports.unexported_dates(ORG, STORE, DAY, DAY) == [(DAY, "")]
        assert exports.has_unexported(ORG, STORE, DAY)
        claimed = exports.claim(ORG, STORE, DAY, Trigger.RETRY, None, include_day_close=False, register="")
        assert claimed is not None and claimed.totals == DayTotals.of(STORE, DAY, later)
        named = conn.execute(
            "SELECT s.id FROM exports e, unnest(e.sales_ids) r, sales s WHERE e.export_id = %s "
            "AND s.organization_id = e.organization_id AND s.store_id = e.store_id "
            "AND s.business_date = e.business_date AND s.register_id = e.register_id AND s.id <@ r ORDER BY 1",
            (claimed.export_id,),
        ).fetchall()
        assert [r[0] for r in named] == later_ids
        assert not exports.has_unexported(ORG, STORE, DAY)


def _old_sale(conn: psycopg.Connection[object], item: object) -> int:
    row = conn.execute(
        "INSERT INTO sales (organization_id, store_id, business_date, kind, event_key, payload) "
        "VALUES (%s, %s, %s, 'receipt', %s, %s) RETURNING id",
        (ORG, STORE, DAY, f"receipt:{item.receipt_id}", Jsonb(item_to_json(item))),  # type: ignore[attr-defined,arg-type]
    ).fetchone()
    assert row is not None
    return int(row[0])


def _z_payload() -> dict[str, object]:
    return {
        "store_name": "Kafé",
        "receipt_count": 3,
        "grand_total_ore": 3003,
        "vat": [[2500, 3003, 601]],
        "payments": [["card", 3003]],
        "counted_cash_ore": 0,
        "expected_cash_ore": 0,
        "cash_reported": False,
        "opening_float_ore": 0,
        "gift_card_expired_total_ore": None,
    }

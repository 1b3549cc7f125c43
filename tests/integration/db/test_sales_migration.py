"""Migration 0010 moves sales_events into the partitioned sales table in a real database: ids kept, each export
naming exactly the rows it claimed, and the claims after it booking exactly what no export booked before —
including rows a correction released, and an export reversed after the migration."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

import psycopg
import pytest
from psycopg.types.json import Jsonb

from mapping.totals import DayTotals
from service.messages import SalesItem, Trigger
from storage.codecs import item_to_json
from storage.exports import PostgresExports
from storage.migrate import load_migrations, migrate
from tests.builders import cash_movement, line, receipt

pytestmark = pytest.mark.integration
ORG, STORE, DAY = "org-m", "s1", date(2026, 9, 30)


def _items(n: int) -> list[SalesItem]:
    return [
        cash_movement("deposit", 500 + i, store=STORE, day=DAY)
        if i % 5 == 4
        else receipt(line("coffee", 1200, 2000 + i), store=STORE, day=DAY)
        for i in range(n)
    ]


def _old_sale(conn: psycopg.Connection[Any], item: SalesItem, export_id: uuid.UUID | None, store: str = STORE) -> int:
    kind = {"Receipt": "receipt", "CashMovement": "cash_movement"}[type(item).__name__]
    key = f"{kind}:{getattr(item, 'receipt_id', None) or getattr(item, 'movement_id')}"  # noqa: B009
    row = conn.execute(
        "INSERT INTO sales_events (organization_id, store_id, business_date, kind, event_key, payload, export_id) "
        "VALUES (%s, %s, %s, %s, %s, %s, %s) RETURNING id",
        (ORG, store, DAY, kind, key, Jsonb(item_to_json(item)), export_id),
    ).fetchone()
    assert row is not None
    return int(row[0])


def _old_export(conn: psycopg.Connection[Any], status: str, count: int, reason: str | None = None) -> uuid.UUID:
    export_id = uuid.uuid4()
    conn.execute(
        "INSERT INTO exports (export_id, reference, organization_id, store_id, business_date, trigger, status, "
        "event_count, reason_code, created_at) VALUES (%s, %s, %s, %s, %s, 'MANUAL', %s, %s, %s, clock_timestamp())",
        (export_id, f"DC-{export_id.hex[:16]}", ORG, STORE, DAY, status, count, reason),
    )
    return export_id


def _named(conn: psycopg.Connection[Any], export_id: uuid.UUID) -> set[str]:
    rows = conn.execute(
        """SELECT s.event_key FROM exports e, unnest(e.sales_ids) r, sales s
           WHERE e.export_id = %s AND s.organization_id = e.organization_id AND s.store_id = e.store_id
             AND s.business_date = e.business_date AND s.id <@ r""",
        (export_id,),
    ).fetchall()
    return {r[0] for r in rows}


def _key(item: SalesItem) -> str:
    return f"receipt:{item.receipt_id}" if hasattr(item, "receipt_id") else f"cash_movement:{item.movement_id}"  # type: ignore[union-attr]


def test_sales_move_with_their_ids_and_the_next_claims_book_only_what_no_export_booked(empty_database_url: str) -> None:
    migrate(empty_database_url, [m for m in load_migrations() if m.version < 10])
    first, reversed_part, second, unclaimed = _items(6), _items(3), _items(4), _items(5)
    with psycopg.connect(empty_database_url) as conn:
        booked = _old_export(conn, "booked", 6)
        reversed_export = _old_export(conn, "booked", 3, "REVERSED")  # its rows were released: export_id NULL
        failed = _old_export(conn, "failed", 4)
        ids = {_key(i): _old_sale(conn, i, booked) for i in first}
        _old_sale(conn, _items(2)[0], None, store="s2")  # another store's row between: not this store-day's
        ids |= {_key(i): _old_sale(conn, i, None) for i in reversed_part}
        ids |= {_key(i): _old_sale(conn, i, failed) for i in second}
        ids |= {_key(i): _old_sale(conn, i, None) for i in unclaimed}

    migrate(empty_database_url)

    with psycopg.connect(empty_database_url, autocommit=True) as conn:
        stored = dict(conn.execute("SELECT event_key, id FROM sales WHERE store_id = %s", (STORE,)).fetchall())
        assert {k: stored[k] for k in map(_key, [*first, *second])} == {k: ids[k] for k in map(_key, [*first, *second])}
        highest_claimed = max(ids[_key(i)] for i in [*first, *second])
        assert all(stored[_key(i)] > highest_claimed for i in [*reversed_part, *unclaimed])  # renumbered above
        assert _named(conn, booked) == set(map(_key, first))
        assert _named(conn, failed) == set(map(_key, second))
        assert conn.execute("SELECT released_by IS NOT NULL FROM exports WHERE export_id = %s",
                            (reversed_export,)).fetchone() == (True,)  # fmt: skip
        with conn.transaction():
            export = PostgresExports(conn).claim(ORG, STORE, DAY, Trigger.DAY_CLOSE, 1, include_day_close=True)
        assert export is not None
        assert export.totals == DayTotals.of(STORE, DAY, [*reversed_part, *unclaimed])
        assert export.day == DayTotals.of(STORE, DAY, [*first, *reversed_part, *second, *unclaimed])
        assert _named(conn, export.export_id) == set(map(_key, [*reversed_part, *unclaimed]))

        # A migrated export reversed after the migration: the next claim books its rows again, summed from them.
        conn.execute("UPDATE exports SET reason_code = 'REVERSED' WHERE export_id = %s", (booked,))
        with conn.transaction():
            again = PostgresExports(conn).claim(ORG, STORE, DAY, Trigger.DAY_CLOSE, 1, include_day_close=True)
        assert again is not None and again.totals == DayTotals.of(STORE, DAY, first)
        assert _named(conn, again.export_id) == set(map(_key, first))
        with conn.transaction():
            nothing = PostgresExports(conn).claim(ORG, STORE, DAY, Trigger.MANUAL, None, include_day_close=False)
    assert nothing is None

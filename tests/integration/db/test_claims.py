"""Claims by watermark against a real PostgreSQL (storage/claims.py): every sale of a store-day is booked by
exactly one standing export, whatever the order of ingest, claims, corrections and plan changes, and however
the ingest and the claims interleave on concurrent connections.

The oracle is :meth:`mapping.totals.DayTotals.of` over the items a test wrote, and the rows each export names
(``sales_ids``): no row is named by two standing exports, and every row is named by one.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any

import psycopg
import pytest

from mapping.totals import DayTotals
from service.messages import SalesEnvelope, SalesItem, Trigger
from service.model import Export
from storage import totals as running
from storage.exports import PostgresExports
from storage.sales import ingest_sales
from tests.builders import cash_movement, line, pay, receipt

pytestmark = pytest.mark.integration
ORG, STORE, DAY = "org-claims", "s1", date(2026, 11, 25)
KEY = (ORG, STORE, DAY, "")


def envelope(item: SalesItem) -> SalesEnvelope:
    return SalesEnvelope(str(uuid.uuid4()), ORG, item.store_id, item.business_date, datetime.now(UTC), item)


def sales(n: int, *, store: str = STORE, day: date = DAY) -> list[SalesItem]:
    out: list[SalesItem] = []
    for i in range(n):
        if i % 7 == 3:
            out.append(cash_movement("deposit", 1000 + i, store=store, day=day))
        else:
            out.append(receipt(line("coffee", 1200, 3000 + i), line("bun", 600, 2500), store=store, day=day))
    return out


def ingest(conn: psycopg.Connection[Any], items: Sequence[SalesItem]) -> int:
    with conn.transaction():
        return ingest_sales(conn, [envelope(i) for i in items]).new


def claim(
    conn: psycopg.Connection[Any], *, close: bool = False, single_purpose: dict[str, int] | None = None
) -> Export | None:
    with conn.transaction():
        return PostgresExports(conn).claim(
            ORG, STORE, DAY, Trigger.DAY_CLOSE if close else Trigger.MANUAL, 1 if close else None,
            include_day_close=close, single_purpose=single_purpose or {},
        )  # fmt: skip


def of(items: Sequence[SalesItem], single_purpose: dict[str, int] | None = None) -> DayTotals:
    return DayTotals.of(STORE, DAY, items, single_purpose or {})


def named(conn: psycopg.Connection[Any], export_id: uuid.UUID) -> set[int]:
    rows = conn.execute(
        """SELECT s.id FROM exports e, unnest(e.sales_ids) r, sales s
           WHERE e.export_id = %s AND s.organization_id = e.organization_id AND s.store_id = e.store_id
             AND s.business_date = e.business_date AND s.id <@ r""",
        (export_id,),
    ).fetchall()
    return {r[0] for r in rows}


def test_each_claim_books_what_came_since_the_last_and_a_day_close_reconciles_against_the_whole_day(
    database_url: str,
) -> None:
    morning, afternoon, late = sales(30), sales(20), sales(3)
    with psycopg.connect(database_url, autocommit=True) as conn:
        assert claim(conn) is None  # nothing stored yet
        ingest(conn, morning)
        ingest(conn, sales(5, store="s2"))  # another store's rows between: never claimed here
        manual = claim(conn)
        assert manual is not None and manual.totals == of(morning) and manual.day == of(morning)
        assert claim(conn) is None  # nothing new since
        ingest(conn, afternoon)
        closing = claim(conn, close=True)
        assert closing is not None
        assert closing.totals == of(afternoon)
        assert closing.day == of([*morning, *afternoon])  # what the Z-report is reconciled against
        assert claim(conn, close=True) is not None  # a day close books its cash difference even with no sale
        ingest(conn, late)
        late_export = claim(conn)
        assert late_export is not None and late_export.totals == of(late)
        assert ingest(conn, late) == 0  # redelivered: no row, nothing to claim
        assert claim(conn) is None
        ids = [named(conn, e.export_id) for e in (manual, closing, late_export)]
        stored = conn.execute(
            "SELECT count(*) FROM sales WHERE organization_id = %s AND store_id = %s", (ORG, STORE)
        ).fetchone()
    assert [len(i) for i in ids] == [30, 20, 3]
    assert set.union(*ids) and sum(len(i) for i in ids) == len(set.union(*ids)) == stored[0]  # type: ignore[index]


def test_a_reversed_export_is_booked_again_once_by_the_next_claim_naming_the_same_rows(database_url: str) -> None:
    first, second = sales(12), sales(4)
    with psycopg.connect(database_url, autocommit=True) as conn:
        ingest(conn, first)
        original = claim(conn, close=True)
        assert original is not None
        conn.execute("UPDATE exports SET status = 'booked', reason_code = 'REVERSED' WHERE export_id = %s",
                     (original.export_id,))  # fmt: skip
        ingest(conn, second)
        again = claim(conn, close=True)
        assert again is not None and again.totals == of([*first, *second]) and again.day == of([*first, *second])
        released_by = conn.execute(
            "SELECT released_by FROM exports WHERE export_id = %s", (original.export_id,)
        ).fetchone()
        assert released_by == (again.export_id,)
        assert named(conn, original.export_id) <= named(conn, again.export_id)
        assert len(named(conn, again.export_id)) == 16
        nothing = claim(conn)
    assert nothing is None  # booked again once, not twice


def test_totals_summed_for_other_single_purpose_methods_are_summed_again_from_the_rows(database_url: str) -> None:
    """A plan that flags a gift card method single-purpose after part of the day was summed: the claims still book
    what the rows book under the plan as it is now."""

    def spa_receipt() -> SalesItem:
        return receipt(line("spa", 2500, 10000), payments=(pay("spa", 4000), pay("card", 6000)), store=STORE, day=DAY)

    before, after = [spa_receipt() for _ in range(3)], [spa_receipt() for _ in range(2)]
    with psycopg.connect(database_url, autocommit=True) as conn:
        ingest(conn, before)
        first = claim(conn)  # summed with no single-purpose method
        assert first is not None and first.totals == of(before)
        ingest(conn, after)
        later = claim(conn, close=True, single_purpose={"spa": 2500})
        assert later is not None
        assert later.totals == of(after, {"spa": 2500})
        assert later.day == of([*before, *after], {"spa": 2500})
        stored, _ = running.read(conn, KEY)
    assert stored == of([*before, *after], {"spa": 2500})  # the store-day's running totals were summed again


def test_a_tail_never_folded_and_a_fold_watermark_behind_are_read_from_the_rows(database_url: str) -> None:
    day = sales(40)
    with psycopg.connect(database_url, autocommit=True) as conn:
        ingest(conn, day[:25])
        with conn.transaction():
            running.lock(conn, [KEY])
            running.fold(conn, KEY, running.watermark(conn), {})
        ingest(conn, day[25:])
        export = claim(conn, close=True)
        assert export is not None and export.totals == of(day) and export.day == of(day)
        stored, through = running.read(conn, KEY)
        upto = conn.execute("SELECT watermark FROM exports WHERE export_id = %s", (export.export_id,)).fetchone()
    assert stored == of(day) and (through,) == upto


def test_concurrent_ingest_and_claims_book_every_sale_exactly_once(database_url: str) -> None:
    """Writers on two connections add sales while a third claims again and again: the watermark never passes a
    row still being written, so the claims' totals add up to the day and no row is named twice."""
    batches = [sales(15) for _ in range(24)]
    done = threading.Event()
    errors: list[BaseException] = []

    def write(part: list[list[SalesItem]]) -> None:
        try:
            with psycopg.connect(database_url, autocommit=True) as conn:
                for items in part:
                    ingest(conn, items)
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            errors.append(exc)

    writers = [threading.Thread(target=write, args=(batches[i::2],)) for i in range(2)]
    claimed: list[Export] = []
    with psycopg.connect(database_url, autocommit=True) as conn:
        for w in writers:
            w.start()
        while not done.is_set():
            if not any(w.is_alive() for w in writers):
                done.set()
            export = claim(conn)
            if export is not None:
                claimed.append(export)
        for w in writers:
            w.join()
        last = claim(conn)
        if last is not None:
            claimed.append(last)
        ids = [named(conn, e.export_id) for e in claimed]
    assert not errors
    everything = [item for items in batches for item in items]
    total = DayTotals.empty(STORE, DAY)
    for export in claimed:
        assert export.totals is not None
        total = total + export.totals
    assert total == of(everything)
    assert sum(len(i) for i in ids) == len(set().union(*ids)) == len(everything)
    assert len(claimed) > 1  # the claims did interleave with the writers

"""Retention by quarters (service/retention.py over storage/retention.py, through the bus as `dayclose purge`) against
a real PostgreSQL: a quarter past the retention is dropped whole (never a mass DELETE) once nothing in it blocks it,
after its receipts are copied to audit_receipts; the receipt → voucher link answers the same before and after
(storage/audit.py), corrections included."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any

import psycopg
import pytest

from mapping.reconcile import ControlTotals
from service import bus, correction_requests
from service.correction_requests import CorrectDay, NothingToCorrect
from service.messages import DayClosed, SalesEnvelope, SalesItem, Trigger
from service.model import Export, ExportStatus
from service.retention import PurgeResult, PurgeSales
from storage import audit
from storage.exports import PostgresExports
from storage.sales import ingest_sales
from storage.uow import OnConnection
from tests.builders import day_close, line, receipt

pytestmark = pytest.mark.integration
TODAY = date(2026, 11, 26)
RETENTION = 90  # cutoff 2026-08-28: 2025's quarters are past it, 2026 Q3 (to 30 September) is not
ORG, STORE = "org-ret", "s1"
OLD, OLD_Q = date(2025, 2, 10), date(2025, 1, 1)
RECENT = date(2026, 11, 1)


def purge(conn: psycopg.Connection[Any], today: date, retention_days: int) -> PurgeResult:
    """What ``dayclose purge --yes`` does: the command through the bus over the one autocommit connection."""
    return bus.handle(OnConnection(conn), PurgeSales(today, retention_days))


def ingest(conn: psycopg.Connection[Any], items: Sequence[SalesItem | DayClosed], org: str = ORG) -> int:
    envelopes = [
        SalesEnvelope(str(uuid.uuid4()), org, STORE, OLD, datetime.now(UTC), i)
        if isinstance(i, DayClosed)
        else SalesEnvelope(str(uuid.uuid4()), org, i.store_id, i.business_date, datetime.now(UTC), i)
        for i in items
    ]
    with conn.transaction():
        return ingest_sales(conn, envelopes).new


def receipts(n: int, day: date = OLD, store: str = STORE) -> list[SalesItem]:
    return [receipt(line("coffee", 1200, 3000 + i), store=store, day=day) for i in range(n)]


def claim(conn: psycopg.Connection[Any], day: date = OLD, org: str = ORG, store: str = STORE) -> Export:
    with conn.transaction():
        export = PostgresExports(conn).claim(org, store, day, Trigger.MANUAL, None, include_day_close=False)
    assert export is not None
    return export


def book(conn: psycopg.Connection[Any], export_id: uuid.UUID, number: int, *, audited: bool = True) -> None:
    """Booked as D ``number``, with its audit record (as storage.audit.record_booked writes it) when ``audited``."""
    conn.execute(
        """UPDATE exports SET status = 'booked', booked_at = now(), voucher_series = 'D', voucher_number = %s,
                  voucher = jsonb_build_object('series', 'D', 'entry_date', business_date,
                                               'text', 'Dagskassa ref ' || reference, 'reference', reference,
                                               'rows', '[["1910", 3000, null], ["3001", -3000, null]]'::jsonb)
           WHERE export_id = %s""",
        (number, export_id),
    )
    if audited:
        conn.execute(
            """INSERT INTO audit_vouchers (export_id, organization_id, store_id, business_date, trigger, reference,
                                           series, number, entry_date, voucher, receipt_count, reverses,
                                           fiscal_year_end, retain_until)
               SELECT export_id, organization_id, store_id, business_date, trigger, reference, 'D', %s,
                      business_date, '{}', 0, reverses, make_date(extract(year FROM business_date)::int, 12, 31),
                      make_date(extract(year FROM business_date)::int + 7, 12, 31)
               FROM exports WHERE export_id = %s""",
            (number, export_id),
        )


def reversal_of(export_id: uuid.UUID) -> Export:
    return Export(export_id, "RV", ORG, STORE, OLD, Trigger.CORRECTION, ExportStatus.BOOKED, 1, None)


def activate(conn: psycopg.Connection[Any], org: str = ORG, start: date = date(2024, 1, 1)) -> None:
    conn.execute(
        "INSERT INTO integrations (organization_id, status, start_date) VALUES (%s, 'active', %s)", (org, start)
    )


def partitions_of(conn: psycopg.Connection[Any]) -> set[str]:
    rows = conn.execute(
        """SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
           WHERE i.inhparent IN ('sales'::regclass, 'day_totals'::regclass, 'day_folds'::regclass)"""
    ).fetchall()
    return {r[0] for r in rows}


def tables_named(conn: psycopg.Connection[Any], suffix: str) -> list[str]:
    rows = conn.execute("SELECT relname FROM pg_class WHERE relname LIKE %s", (f"%\\_{suffix}",)).fetchall()
    return [r[0] for r in rows]


def link(conn: psycopg.Connection[Any], receipt_id: str) -> list[tuple[str | None, str, str | None]]:
    """(printed number, trigger, reverses) of every voucher holding the receipt, oldest first."""
    return [(n, v.trigger, v.reverses) for n, v in audit.vouchers_holding_receipt(conn, ORG, receipt_id)]


def test_a_clean_quarter_past_the_retention_is_dropped_whole_after_its_receipts_are_copied(database_url: str) -> None:
    with psycopg.connect(database_url, autocommit=True) as conn:
        activate(conn, start=date(2025, 2, 1))
        day = receipts(3)
        ingest(conn, day)
        booked = claim(conn)
        book(conn, booked.export_id, 7)
        ingest(conn, receipts(2, date(2025, 1, 20)))  # before the start date: never exported, not a blocker
        ingest(conn, receipts(2), org="org-inactive")  # an organization that never activated: not a blocker
        ingest(conn, receipts(1, RECENT))
        first = day[0]
        assert link(conn, first.receipt_id) == [(first.receipt_number, "MANUAL", None)]  # type: ignore[union-attr]
        assert conn.execute("SELECT count(*) FROM audit_receipts").fetchone() == (0,)  # nothing copied at booking

        result = purge(conn, TODAY, RETENTION)

        assert result.quarters_dropped == [OLD_Q] and result.quarters_kept == [] and result.blockers == []
        assert result.audit_receipts == 3
        assert not {"sales_2025q1", "day_totals_2025q1", "day_folds_2025q1"} & partitions_of(conn)
        assert tables_named(conn, "2025q1") == []  # dropped, not detached and left behind
        left = conn.execute("SELECT business_date, count(*) FROM sales GROUP BY 1").fetchall()
        assert left == [(RECENT, 1)]
        assert link(conn, first.receipt_id) == [(first.receipt_number, "MANUAL", None)]  # type: ignore[union-attr]
        held = audit.receipts_of(conn, booked.export_id)
        assert held == sorted((r.receipt_id, r.receipt_number) for r in day)  # type: ignore[union-attr]
        assert purge(conn, TODAY, RETENTION).quarters_dropped == []  # nothing left to drop


@pytest.mark.parametrize(
    "blocker",
    ["failed export", "posting export", "booked without audit record", "unexported sales", "reversal not booked"],
)
def test_a_quarter_with_a_blocker_is_kept_whole_reported_and_dropped_once_resolved(
    database_url: str, blocker: str
) -> None:
    with psycopg.connect(database_url, autocommit=True) as conn:
        activate(conn)
        ingest(conn, receipts(2, date(2025, 3, 30), store="s2"))
        clean = claim(conn, date(2025, 3, 30), store="s2")
        book(conn, clean.export_id, 1)
        ingest(conn, receipts(3))
        export = claim(conn)
        if blocker == "failed export":
            conn.execute("UPDATE exports SET status = 'failed' WHERE export_id = %s", (export.export_id,))
        elif blocker == "booked without audit record":
            book(conn, export.export_id, 2, audited=False)
        elif blocker == "unexported sales":
            book(conn, export.export_id, 2)
            ingest(conn, receipts(1))  # a late sale, not exported yet
        elif blocker == "reversal not booked":
            book(conn, export.export_id, 2)
            with conn.transaction():
                bus.handle(OnConnection(conn), CorrectDay(ORG, STORE, OLD, reason="fel konto", requested_by="anna"))

        result = purge(conn, TODAY, RETENTION)

        assert result.quarters_dropped == [] and result.quarters_kept == [OLD_Q]
        assert {(b.store_id, b.business_date) for b in result.blockers} == {(STORE, OLD)}
        assert "sales_2025q1" in partitions_of(conn)
        assert conn.execute("SELECT count(*) FROM sales").fetchone()[0] >= 5  # type: ignore[index]
        assert conn.execute("SELECT count(*) FROM audit_receipts").fetchone() == (0,)

        # Resolved: booked (with its audit record), the late sale exported, the correction carried through.
        if blocker == "booked without audit record":
            conn.execute("DELETE FROM exports WHERE export_id = %s", (export.export_id,))
            book(conn, claim(conn).export_id, 3)
        elif blocker == "unexported sales":
            book(conn, claim(conn).export_id, 3)
        elif blocker == "reversal not booked":
            (reversal,) = conn.execute("SELECT export_id FROM exports WHERE reverses = %s", (export.export_id,))
            book(conn, reversal[0], 3)
            with conn.transaction():
                correction_requests.complete(OnConnection(conn), reversal_of(reversal[0]))
            book(conn, claim(conn).export_id, 4)
        else:
            book(conn, export.export_id, 2)
        again = purge(conn, TODAY, RETENTION)
        assert again.quarters_dropped == [OLD_Q] and again.blockers == []
        assert "sales_2025q1" not in partitions_of(conn)


def test_a_quarter_partly_inside_the_retention_is_kept_whole(database_url: str) -> None:
    summer = date(2026, 7, 15)  # past the cutoff (2026-08-28), but its quarter ends 2026-09-30
    with psycopg.connect(database_url, autocommit=True) as conn:
        activate(conn)
        ingest(conn, receipts(2, summer))
        book(conn, claim(conn, summer).export_id, 1)
        result = purge(conn, TODAY, RETENTION)
        assert result.quarters_dropped == [] and result.quarters_kept == []  # not even considered yet
        assert conn.execute("SELECT count(*) FROM sales").fetchone() == (2,)
        later = purge(conn, date(2026, 12, 30), RETENTION)  # cutoff 2026-10-01: the quarter's last day is past it
        assert later.quarters_dropped == [date(2026, 7, 1)]
        assert conn.execute("SELECT count(*) FROM sales").fetchone() == (0,)


def test_a_quarter_whose_detach_would_wait_on_a_long_writer_is_kept_for_the_next_run(database_url: str) -> None:
    """The detach locks sales exclusively; a transaction writing today's sales holds it off. The purge waits at
    most its lock timeout (so the ingest never queues long behind it), drops nothing and reports the quarter."""
    with psycopg.connect(database_url, autocommit=True) as conn, psycopg.connect(database_url) as writer:
        activate(conn)
        ingest(conn, receipts(2))
        book(conn, claim(conn).export_id, 1)
        ingest_sales(writer, [SalesEnvelope("w", ORG, STORE, RECENT, datetime.now(UTC), receipts(1, RECENT)[0])])

        busy = purge(conn, TODAY, RETENTION)  # the writer's transaction is still open

        assert busy.quarters_dropped == [] and busy.quarters_kept == [OLD_Q]
        assert [b.reason for b in busy.blockers] == ["busy or changed during the purge"]
        assert "sales_2025q1" in partitions_of(conn)
        assert conn.execute("SELECT count(*) FROM audit_receipts").fetchone() == (0,)  # rolled back with it
        writer.commit()
        assert purge(conn, TODAY, RETENTION).quarters_dropped == [OLD_Q]
        assert conn.execute("SELECT count(*) FROM sales").fetchone() == (1,)  # the writer's sale is kept


def test_the_receipt_link_follows_a_correction_before_and_after_the_purge(database_url: str) -> None:
    with psycopg.connect(database_url, autocommit=True) as conn:
        activate(conn)
        day = receipts(4)
        ingest(conn, day)
        original = claim(conn)
        book(conn, original.export_id, 10)
        with conn.transaction():
            requested = bus.handle(
                OnConnection(conn), CorrectDay(ORG, STORE, OLD, reason="fel konto", requested_by="anna")
            )
        (reversal_id,) = requested.reversal_export_ids
        book(conn, reversal_id, 11)
        with conn.transaction():
            correction_requests.complete(OnConnection(conn), reversal_of(reversal_id))
        reexport = claim(conn)
        book(conn, reexport.export_id, 12)
        expected = [("MANUAL", None), ("CORRECTION", str(original.export_id)), ("MANUAL", None)]
        numbers = sorted((r.receipt_id, r.receipt_number) for r in day)  # type: ignore[union-attr]

        def answers() -> tuple[list[tuple[str | None, str, str | None]], list[list[tuple[str, str | None]]]]:
            held = link(conn, day[2].receipt_id)  # type: ignore[union-attr]
            return held, [audit.receipts_of(conn, e) for e in (original.export_id, reversal_id, reexport.export_id)]

        before = answers()
        assert [(t, r) for _, t, r in before[0]] == expected
        assert {n for n, _, _ in before[0]} == {day[2].receipt_number}  # type: ignore[union-attr]
        assert before[1] == [numbers, numbers, numbers]

        result = purge(conn, TODAY, RETENTION)

        assert result.quarters_dropped == [OLD_Q] and result.audit_receipts == 12
        assert answers() == before
        with pytest.raises(NothingToCorrect, match="purged"), conn.transaction():
            bus.handle(OnConnection(conn), CorrectDay(ORG, STORE, OLD, reason="igen", requested_by="bo"))


def test_a_sale_sent_again_for_a_purged_day_is_set_aside_never_booked_twice(database_url: str) -> None:
    """A redelivery long after the purge: its row is gone, so the ingest takes it for new and the quarter comes
    back. The store-day was booked before the drop: the row is set aside, a manual export finds nothing. A sale of
    a store-day of that quarter never booked is stored and exported as any late sale."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        activate(conn)
        day = receipts(3)
        closed = DayClosed(day_close(store=STORE, day=OLD), "Kafé", ControlTotals(3, 0, (), ()), datetime.now(UTC))
        ingest(conn, [*day, closed])
        export = claim(conn)
        book(conn, export.export_id, 1)
        assert purge(conn, TODAY, RETENTION).quarters_dropped == [OLD_Q]
        assert conn.execute("SELECT count(*) FROM day_closes").fetchone() == (0,)  # gone with its sales

        assert ingest(conn, [*day[:1], *receipts(1, OLD, store="s2")]) == 1  # s2's; the redelivery is set aside
        assert "sales_2025q1" in partitions_of(conn)
        assert conn.execute("SELECT store_id FROM sales").fetchall() == [("s2",)]
        assert conn.execute("SELECT store_id, event_key FROM sales_after_purge").fetchall() == [
            (STORE, f"receipt:{day[0].receipt_id}")  # type: ignore[union-attr]
        ]
        assert PostgresExports(conn).unexported_dates(ORG, STORE, OLD, OLD) == []
        with conn.transaction():
            assert PostgresExports(conn).claim(ORG, STORE, OLD, Trigger.MANUAL, None, include_day_close=False) is None
        assert ingest(conn, day[:1]) == 0  # sent once more: set aside once
        assert conn.execute("SELECT count(*) FROM sales_after_purge").fetchone() == (1,)

        kept = purge(conn, TODAY, RETENTION)  # s2's late sale can still be exported
        assert kept.quarters_kept == [OLD_Q] and [(b.store_id, b.reason) for b in kept.blockers] == [
            ("s2", "sales not exported")
        ]
        assert kept.set_aside == 1
        book(conn, claim(conn, store="s2").export_id, 2)
        result = purge(conn, TODAY, RETENTION)
        assert result.quarters_dropped == [OLD_Q] and result.blockers == []
        assert [(t, r) for _, t, r in link(conn, day[0].receipt_id)] == [("MANUAL", None)]  # type: ignore[union-attr]
        assert conn.execute("SELECT count(*) FROM exports WHERE store_id = %s", (STORE,)).fetchone() == (1,)


def test_a_late_sale_of_a_day_purged_row_by_row_is_dropped_with_its_quarter_and_reported(database_url: str) -> None:
    """Days purged before quarters existed (row by row) have no record of their quarter: a sale sent again is
    stored; the purge does not count it as exportable and drops it, reported as discarded."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        activate(conn)
        day = receipts(2)
        ingest(conn, day)
        book(conn, claim(conn).export_id, 1)
        conn.execute("DELETE FROM sales")  # as the row-by-row purge before issue #16 did
        ingest(conn, day[:1])
        result = purge(conn, TODAY, RETENTION)
        assert result.quarters_dropped == [OLD_Q] and result.blockers == []
        assert [(d.store_id, d.business_date, d.reason) for d in result.discarded] == [
            (STORE, OLD, "late sales of a purged day")
        ]


def test_audit_records_go_only_after_their_retention(database_url: str) -> None:
    with psycopg.connect(database_url, autocommit=True) as conn:
        activate(conn)
        ingest(conn, receipts(1, date(2018, 3, 1)))
        ingest(conn, receipts(1, date(2019, 3, 1)))
        expired, kept = claim(conn, date(2018, 3, 1)), claim(conn, date(2019, 3, 1))
        book(conn, expired.export_id, 1)  # retained to 2025-12-31
        book(conn, kept.export_id, 2)  # retained to 2026-12-31
        result = purge(conn, TODAY, RETENTION)
        left = [r[0] for r in conn.execute("SELECT export_id FROM audit_vouchers")]
        assert result.audit_vouchers == 1
        assert left == [kept.export_id]
        assert audit.receipts_of(conn, kept.export_id) != [] and audit.receipts_of(conn, expired.export_id) == []


def test_purge_drops_sent_outbox_rows_after_a_week_but_never_unsent_ones(database_url: str) -> None:
    with psycopg.connect(database_url) as conn:
        conn.execute(
            "INSERT INTO outbox (topic, schema_name, value, sent_at, created_at) VALUES "
            "('t', 's', 'x', now() - interval '30 days', now() - interval '30 days'), "
            "('t', 's', 'y', NULL, now() - interval '30 days'), "
            "('t', 's', 'z', now(), now())"
        )
        result = purge(conn, date.today(), retention_days=90)
        left = sorted(bytes(r[0]) for r in conn.execute("SELECT value FROM outbox"))
    assert result.sent_outbox_rows == 1
    assert left == [b"y", b"z"]


def test_purge_drops_merchants_notifications_past_the_retention(database_url: str) -> None:
    with psycopg.connect(database_url) as conn:
        conn.execute(
            "INSERT INTO notifications (organization_id, status, trigger, created_at) VALUES "
            "('o', 'FAILED', 'DAY_CLOSE', now() - interval '91 days'), ('o', 'SUCCEEDED', 'DAY_CLOSE', now())"
        )
        result = purge(conn, date.today(), retention_days=90)
        left = [r[0] for r in conn.execute("SELECT status FROM notifications")]
    assert result.notifications == 1
    assert left == ["SUCCEEDED"]

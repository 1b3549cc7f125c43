"""Sales that arrive for a register-day already closed (issue #21, finding 3): one voucher per Z-report, whatever the
Kafka batching and however the export jobs interleave with it. The batch's writes go through the consumer's
``write_batch`` (the adapter) into the fake unit of work; the jobs run as the export workers run them."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from consumer.ingest import Decoded, write_batch
from consumer.records import sales_envelope
from devstack import sampledata
from mapping.voucher import Voucher
from service.deps import ExportDeps
from service.jobs import run_next_job
from service.late_sales import DayCloseStep, checks, day_close_step, grace_over_at
from service.lifecycle import ExportPolicy
from service.model import DayCloseStatus, Integration, IntegrationStatus, StoredDayClose
from service.ports import Written
from service.secrets import Secret
from storage.codecs import plan_from_json
from tests.unit.service.fakes import FakeExporter, FakeReports, Store

ORG, STORE, DAY = "org", "s1", date(2026, 11, 25)
POLICY = ExportPolicy(late_sales_grace=timedelta(hours=12))
GRACE_OVER = grace_over_at(DAY, POLICY.late_sales_grace)  # 2026-11-26 12:00 in Stockholm


def the_day() -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    """(the day up to its Z 1; what the reopened day brings: a cash sale, a card sale, Z 2; the other register's
    day with its own Z 1). Z 2 is cumulative: the whole day, counted 5.00 short (Z 1 was 3.00 short)."""
    day = sampledata.store_day(ORG, STORE, DAY, 6, with_extras=False, store_name="Kafé")
    head = [*day.events(), day.day_closed(counted_cash_delta_ore=-300)]
    late = [
        day.envelope(sampledata.RECEIPT, sampledata.receipt_payload(f"s1-late-{m}", [("merch", 2500, 5000)], m))
        for m in ("cash", "card")
    ]
    day.receipts += late
    day.z_report_number = 2
    z2 = day.day_closed(counted_cash_delta_ore=-500)
    z2["event_id"] += "-z2"
    other = sampledata.store_day(
        ORG, STORE, DAY, 3, with_extras=False, store_name="Kafé", seed=7, register_id="kassa-2"
    )
    return head, [*late, z2], [*other.events(), other.day_closed()]


def a_merchant() -> tuple[Store, FakeExporter, ExportDeps]:
    store, bl = Store(), FakeExporter()
    store.tables.integrations[ORG] = Integration(ORG, IntegrationStatus.ACTIVE, date(2026, 1, 1), Secret("key"))
    store.tables.plans[ORG] = plan_from_json(ORG, sampledata.SAMPLE_PLAN)
    deps = ExportDeps(
        store.uow, bl, FakeReports(), POLICY, today=lambda: DAY, instance="t", now=lambda: store.tables.now
    )
    return store, bl, deps


def ingest(store: Store, records: list[dict[str, Any]]) -> None:
    with store.uow() as uow:
        write_batch(uow, Decoded(sales=[sales_envelope(r) for r in records]))


def run_jobs(store: Store, deps: ExportDeps, limit: int = 1000) -> int:
    """Up to ``limit`` job runs; a job rescheduled (a day close waiting for its last sales) is due again at once, as
    if its few seconds had passed."""
    ran = 0
    while ran < limit:
        store.tables.job_delays.clear()
        if not run_next_job(deps):
            break
        ran += 1
    return ran


def finish(store: Store, deps: ExportDeps) -> None:
    """Every job run that is due now, then again once the grace period is over."""
    run_jobs(store, deps)
    store.tables.now = GRACE_OVER + timedelta(minutes=1)
    run_jobs(store, deps)
    assert store.tables.jobs == [], "every job done"


def booked(bl: FakeExporter) -> list[tuple[str, tuple[tuple[str, int, str | None], ...]]]:
    """The vouchers posted, without their references (new on every run): text and rows."""
    return sorted((_text(v), tuple((r.account, r.amount_ore, r.text) for r in v.rows)) for v in bl.posted)


def _text(voucher: Voucher) -> str:
    return voucher.text.rsplit(" ref ", 1)[0]


def per_account(bl: FakeExporter) -> dict[str, int]:
    out: dict[str, int] = {}
    for v in bl.posted:
        for r in v.rows:
            out[r.account] = out.get(r.account, 0) + r.amount_ore
    return {a: n for a, n in out.items() if n}


def canonical() -> tuple[list[tuple[str, tuple[tuple[str, int, str | None], ...]]], dict[str, int]]:
    """Z 1 booked, then the reopened day and the other register in one batch."""
    head, tail, other = the_day()
    store, bl, deps = a_merchant()
    ingest(store, head)
    run_jobs(store, deps)
    ingest(store, [*tail, *other])
    finish(store, deps)
    return booked(bl), per_account(bl)


CANONICAL = canonical()


def test_the_reopened_day_books_one_voucher_for_z2_reconciled_against_it() -> None:
    """The example of finding 3: Z 1 booked; reopened; a cash sale, a card sale, then Z 2. Three vouchers in all, one
    per Z-report (Z 1, Z 2, and the other register's Z 1); Z 2's holds the two sales and the 2.00 of cash difference
    Z 1 did not book. On main each late batch booked its own 'Delexport' (a RETRY success with no failure behind it)
    before Z 2 booked a voucher of the shortage alone."""
    vouchers, _ = CANONICAL
    assert [text for text, _ in vouchers] == [
        "Dagsavslut Kafé 2026-11-25 Z 1",
        "Dagsavslut Kafé 2026-11-25 Z 2",
        "Dagsavslut Kafé kassa kassa-2 2026-11-25 Z 1",
    ]
    z2 = dict(((a, t), Decimal(n) / 100) for a, n, t in vouchers[1][1])
    assert z2 == {
        ("1686", "Kortbetalningar"): Decimal("50.00"),
        ("1910", "Kontantbetalningar"): Decimal("50.00"),
        ("1910", "Kassabrist"): Decimal("-2.00"),  # −5.00 for the day, −3.00 booked with Z 1
        ("2611", "Utgående moms 25 %"): Decimal("-20.00"),
        ("3001", "Försäljning 25 % moms"): Decimal("-80.00"),
        ("6990", "Kassabrist"): Decimal("2.00"),
    }


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_after_z1_is_booked_any_batching_and_job_interleaving_books_the_same_vouchers(data: st.DataObject) -> None:
    """The reopened day's events and the other register's, interleaved in any order their store's partition can
    carry them (each register's own order kept), split into any batches, with any number of job runs between
    batches: the same three vouchers, to the öre and row by row."""
    head, tail, other = the_day()
    stream = _interleave(data, tail, other)
    cuts = sorted(data.draw(st.sets(st.integers(1, len(stream) - 1), max_size=len(stream) - 1), label="cuts"))
    store, bl, deps = a_merchant()
    ingest(store, head)
    run_jobs(store, deps)
    for lo, hi in zip([0, *cuts], [*cuts, len(stream)], strict=True):
        ingest(store, stream[lo:hi])
        run_jobs(store, deps, data.draw(st.integers(0, 3), label="jobs run before the next batch"))
    finish(store, deps)
    assert booked(bl) == CANONICAL[0]
    assert all(o.trigger.value == "DAY_CLOSE" for o in store.tables.outbox)  # no RETRY with no failure behind it


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_any_batching_of_the_whole_day_books_the_same_amounts_in_day_close_vouchers_only(data: st.DataObject) -> None:
    """With Z 1 itself in the stream: when Z 2 arrives before Z 1's job ran, Z 2 supersedes it (the latest Z-report
    covers the whole day) and books the day in one voucher; otherwise Z 1 and Z 2 each book one. Either way every
    voucher is a day-close voucher reconciled against a Z-report, and the books are the same to the öre."""
    head, tail, other = the_day()
    stream = _interleave(data, [*head, *tail], other)
    cuts = sorted(data.draw(st.sets(st.integers(1, len(stream) - 1), max_size=6), label="cuts"))
    store, bl, deps = a_merchant()
    for lo, hi in zip([0, *cuts], [*cuts, len(stream)], strict=True):
        ingest(store, stream[lo:hi])
        run_jobs(store, deps, data.draw(st.integers(0, 3), label="jobs run before the next batch"))
    finish(store, deps)
    assert per_account(bl) == CANONICAL[1]
    texts = [text for text, _ in booked(bl)]
    assert all(t.startswith("Dagsavslut") for t in texts) and len(texts) in (2, 3)


def _interleave(data: st.DataObject, a: list[dict[str, Any]], b: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``a`` and ``b`` merged in an arbitrary order that keeps each one's own order."""
    slots = data.draw(st.permutations([0] * len(a) + [1] * len(b)), label="interleaving")
    queues = [list(a), list(b)]
    return [queues[i].pop(0) for i in slots]


def test_a_late_sale_with_no_new_z_report_is_booked_after_the_grace_period_as_a_complement_that_says_so() -> None:
    """An offline till catching up: a cash sale of the closed day arrives, and no Z-report follows. It waits (its job
    parked, not holding up the store's next day) until 12 h after the business day, then books one complement
    voucher naming the Z-report it follows."""
    head, tail, _ = the_day()
    store, bl, deps = a_merchant()
    ingest(store, head)
    run_jobs(store, deps)
    ingest(store, tail[:1])
    run_jobs(store, deps)
    assert len(bl.posted) == 1 and list(store.tables.parked.values()) == [GRACE_OVER]
    next_day = sampledata.store_day(ORG, STORE, DAY + timedelta(days=1), 2, with_extras=False, store_name="Kafé",
                                    z_report_number=2)  # fmt: skip
    ingest(store, [*next_day.events(), next_day.day_closed()])
    run_jobs(store, deps)
    assert [_text(v) for v in bl.posted][1:] == ["Dagsavslut Kafé 2026-11-26 Z 2"]  # the parked job held up nothing
    store.tables.now = GRACE_OVER
    run_jobs(store, deps)
    assert _text(bl.posted[-1]) == "Komplettering s1 2026-11-25 efter Z 1"  # (the fake names a store by its id)
    assert [(r.account, r.amount_ore) for r in bl.posted[-1].rows] == [("1910", 5000), ("2611", -1000), ("3001", -4000)]
    assert store.tables.jobs == []


# --- the decision, pure -----------------------------------------------------------------------------------------


def _close(z: int, status: DayCloseStatus) -> StoredDayClose:
    head, _, _ = the_day()
    closed = sales_envelope(head[-1]).item
    return StoredDayClose(replace(closed.day_close, z_report_number=z), "Kafé", closed.control, status)  # type: ignore[union-attr]


def test_the_decision_table() -> None:
    before, after = GRACE_OVER - timedelta(seconds=1), GRACE_OVER
    open1, booked1 = _close(1, DayCloseStatus.OPEN), _close(1, DayCloseStatus.EXPORTED)
    open2 = _close(2, DayCloseStatus.OPEN)

    def step(close: StoredDayClose | None, latest: StoredDayClose | None, unexported: bool, now: datetime) -> str:
        return day_close_step(close, latest, unexported=unexported, now=now, grace_over=GRACE_OVER).name

    assert step(None, None, True, before) == DayCloseStep.BOOK.name  # no Z-report: a day not closed yet
    assert step(open1, open1, True, before) == "RECONCILE"
    assert step(open1, open2, True, before) == "SUPERSEDE"
    assert step(booked1, open2, True, before) == "LEAVE"  # Z 2's own job books everything
    assert step(booked1, booked1, True, before) == "WAIT"
    assert step(booked1, booked1, True, after) == "BOOK"  # the complement
    assert step(booked1, booked1, False, before) == "BOOK"  # nothing to book: done, not parked


def test_the_grace_period_runs_from_the_end_of_the_business_day_in_stockholm() -> None:
    assert grace_over_at(DAY, timedelta(hours=12)) == datetime(2026, 11, 26, 11, 0, tzinfo=UTC)  # CET = UTC+1
    assert grace_over_at(date(2026, 7, 1), timedelta(0)) == datetime(2026, 7, 1, 22, 0, tzinfo=UTC)  # CEST


def test_only_closed_register_days_get_a_check_keyed_on_their_last_new_row_and_their_organization() -> None:
    written = [
        Written(ORG, STORE, DAY, 2, 10, 11, True, "kassa-2"),
        Written(ORG, STORE, DAY, 5, 12, 16, False),
        Written("org-b", STORE, DAY, 1, 17, 17, True),
    ]
    assert [(c.organization_id, c.register_id, c.source_id) for c in checks(written)] == [
        ("org", "kassa-2", "late:org:s1:kassa-2:2026-11-25:11"),
        ("org-b", "", "late:org-b:s1::2026-11-25:17"),
    ]

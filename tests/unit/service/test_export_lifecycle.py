"""The export lifecycle's decision table, end to end through the handlers, with a fake unit of work and a fake
exporter: no PostgreSQL, no BL. What each case commits, and which outcome events it sends, is asserted."""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import date, timedelta
from typing import Any

import pytest
from structlog.testing import capture_logs

from consumer.records import sales_envelope
from devstack import sampledata
from service.deps import ExportDeps
from service.exporter import DocumentRefused, ExporterBug, MerchantActionRequired, OperatorError, TransientExportError
from service.jobs import Held, run_next_job
from service.lifecycle import ExportPolicy
from service.messages import DayClosed, Trigger
from service.model import (
    DayCloseStatus,
    DocumentStatus,
    ExportStatus,
    Integration,
    IntegrationStatus,
    Job,
    StoredDayClose,
)
from service.reasons import ReasonCode
from service.secrets import Secret
from storage.codecs import plan_from_json
from tests.unit.service.fakes import FakeExporter, FakeReports, Row, Store, outcomes

ORG, STORE, DAY = "org", "s1", date(2026, 11, 25)
POLICY = ExportPolicy(
    reconcile_wait=timedelta(minutes=10),
    reconcile_retry=timedelta(seconds=5),
    transient_backoff_initial=timedelta(seconds=5),
    transient_backoff_max=timedelta(minutes=15),
)


def a_day(
    *,
    receipts: int = 4,
    z: int = 1,
    lie_receipt_count: int = 0,
    status: str = "active",
    start: date = date(2026, 1, 1),
    plan: dict[str, Any] | None = None,
) -> Store:
    """An active merchant, a store-day of unexported sales, its Z-report and the day-close job."""
    day = sampledata.store_day(ORG, STORE, DAY, receipts, with_extras=False)
    store = Store()
    t = store.tables
    t.integrations[ORG] = Integration(ORG, IntegrationStatus(status), start, Secret("a-key"))
    t.plans[ORG] = plan_from_json(ORG, plan or sampledata.SAMPLE_PLAN)
    t.unexported[(ORG, STORE, DAY, "")] = [sales_envelope(r).item for r in day.events()]  # type: ignore[misc]
    close_day(store, day, z, lie_receipt_count)
    return store


def close_day(store: Store, day: sampledata.StoreDay, z: int, lie_receipt_count: int = 0) -> None:
    closed = sales_envelope(day.day_closed(lie_receipt_count=lie_receipt_count)).item
    assert isinstance(closed, DayClosed)
    dc = replace(closed.day_close, z_report_number=z)
    store.tables.day_closes[(ORG, STORE, DAY, z, "")] = StoredDayClose(
        dc, closed.store_name, closed.control, DayCloseStatus.OPEN
    )
    job_id = max((j.id for j in store.tables.jobs), default=0) + 1
    store.tables.jobs.append(Job(job_id, ORG, STORE, DAY, Trigger.DAY_CLOSE, 0, 0.0, z))


def deps(store: Store, exporter: FakeExporter) -> ExportDeps:
    return ExportDeps(
        store.uow, exporter, FakeReports(), POLICY, today=lambda: DAY, instance="test", now=lambda: store.tables.now
    )


def run_again(store: Store, d: ExportDeps, *, age_s: float = 0.0) -> bool:
    """The job's backoff is over (and it is ``age_s`` old): the next worker turn takes it."""
    store.tables.job_delays.clear()
    store.tables.jobs = [replace(j, age_seconds=age_s) for j in store.tables.jobs]
    return run_next_job(d)


def only_export(store: Store) -> Row:
    (row,) = store.tables.exports.values()
    return row


def test_a_day_that_adds_up_is_booked_once_with_its_commits_in_order() -> None:
    store, bl = a_day(), FakeExporter()
    assert run_next_job(deps(store, bl)) is True
    assert store.commits == [
        ("jobs.lease",),  # the job leased to this worker, committed before anything runs (no transaction held)
        ("day_closes.sequence_checked",),  # the Z number checked once (no finding: no event)
        ("exports.claim", "day_closes.exported"),  # the day's sales claimed under a new export id
        # (no renewal of the job's lease: it was taken a moment ago; see the test below)
        ("exports.take_lease",),  # the exact voucher stored and leased, the post on record, before BL hears of it
        ("jobs.renew",),  # the fence: the job still this worker's, right before the post leaves
        ("exports.mark_booked", "audit.record_booked", "outbox.SUCCEEDED"),  # result + audit + event together
        ("documents.begin_attach",),  # the day report's attach on record before BL hears of it
        ("jobs.renew",),  # the fence again, right before the attach
        ("documents.mark_attached",),  # the day report, a durable second step
        ("jobs.finish",),  # the job done: its lease ends with it
    ]
    assert bl.requests == ["post", "attach"]  # no look-up, no read-back: nothing of this export was sent before
    row = only_export(store)
    assert row.export.status == ExportStatus.BOOKED and row.document == DocumentStatus.ATTACHED
    assert outcomes(store) == [("SUCCEEDED", None)] and len(bl.posted) == 1
    assert store.tables.day_closes[(ORG, STORE, DAY, 1, "")].status == DayCloseStatus.EXPORTED
    assert store.tables.jobs == [] and run_next_job(deps(store, bl)) is False


def test_the_job_s_lease_is_renewed_before_an_export_once_a_tenth_of_it_has_passed() -> None:
    store, bl = a_day(), FakeExporter()
    d = replace(deps(store, bl), policy=replace(POLICY, job_lease=timedelta(0)))  # every moment is a tenth of it
    assert run_next_job(d) is True
    assert store.commits[:4] == [
        ("jobs.lease",),
        ("day_closes.sequence_checked",),
        ("exports.claim", "day_closes.exported"),
        ("jobs.renew",),  # the job's lease runs on, before the export is attempted
    ]
    lease = timedelta(minutes=10)
    assert Held(at=None).due(lease)  # a lease of unknown age
    assert not Held(at=time.monotonic()).due(lease)
    assert Held(at=time.monotonic() - 61).due(lease)  # more than a minute, a tenth of it, ago


def test_a_transient_failure_keeps_the_export_posting_reports_it_once_and_backs_off() -> None:
    store = a_day()
    bl = FakeExporter(failures=[TransientExportError("BL down"), TransientExportError("BL still down")])
    d = deps(store, bl)
    run_next_job(d)
    assert only_export(store).export.status == ExportStatus.POSTING  # maybe in BL: looked up before any re-post
    assert store.tables.job_delays == {1: POLICY.backoff(0)}
    run_again(store, d)
    assert store.tables.job_delays == {1: POLICY.backoff(1)}  # exponential
    assert outcomes(store) == [("FAILED", "BL_UNAVAILABLE")]  # the first failure only, not every retry
    run_again(store, d)
    assert outcomes(store) == [("FAILED", "BL_UNAVAILABLE"), ("SUCCEEDED", None)]
    assert store.tables.outbox[-1].trigger == Trigger.RETRY and len(bl.posted) == 1
    assert only_export(store).voucher == bl.posted[0]  # the stored voucher is what is re-posted


def test_a_new_transient_reason_is_reported_again() -> None:
    store = a_day()
    bl = FakeExporter(
        failures=[TransientExportError("down"), OperatorError(ReasonCode.CLIENT_CREDENTIALS_INVALID, "our credentials")]
    )
    d = deps(store, bl)
    run_next_job(d)
    with capture_logs() as logs:
        run_again(store, d)
    assert outcomes(store) == [("FAILED", "BL_UNAVAILABLE"), ("FAILED", "CLIENT_CREDENTIALS_INVALID")]
    assert [e["log_level"] for e in logs if e["event"] == "export.transient_failure"] == ["error"]  # ours: alert


@pytest.mark.parametrize(
    ("error", "level", "event"),
    [
        (MerchantActionRequired(ReasonCode.PERIOD_LOCKED, "locked"), "warning", "export.failed"),
        (ExporterBug(ReasonCode.UNBALANCED, "BL says unbalanced"), "error", "export.rejected_as_our_bug"),
    ],
)
def test_a_refused_export_is_kept_failed_reported_every_attempt_and_its_job_done(
    error: Exception, level: str, event: str
) -> None:
    store = a_day()
    with capture_logs() as logs:
        run_next_job(deps(store, FakeExporter(failures=[error])))  # type: ignore[list-item]
    row = only_export(store)
    assert row.export.status == ExportStatus.FAILED and row.export.reason_code == str(error.reason_code)  # type: ignore[attr-defined]
    assert outcomes(store) == [("FAILED", str(error.reason_code))]  # type: ignore[attr-defined]
    assert store.tables.jobs == []  # kept as a failed export: retried by the store's next job or after a fix
    assert [e["log_level"] for e in logs if e["event"] == event] == [level]
    # The store's next job retries it first (failed exports are never skipped), and says so again.
    store.tables.jobs.append(Job(9, ORG, STORE, None, Trigger.RETRY, 0, 0.0))
    run_next_job(deps(store, FakeExporter(failures=[error])))  # type: ignore[list-item]
    assert outcomes(store)[-1] == ("FAILED", str(error.reason_code))  # type: ignore[attr-defined]
    assert store.tables.outbox[-1].trigger == Trigger.RETRY


def test_an_unmapped_payment_method_fails_before_bl_with_every_missing_item() -> None:
    plan = {**sampledata.SAMPLE_PLAN, "payment_methods": {"cash": "1910"}}
    store, bl = a_day(receipts=20, plan=plan), FakeExporter()
    run_next_job(deps(store, bl))
    assert bl.posted == [] and outcomes(store) == [("FAILED", "UNMAPPED_ITEMS")]
    details = {(d.kind, d.code) for d in store.tables.outbox[0].details}
    assert {("payment_method", "card"), ("payment_method", "swish")} <= details
    assert only_export(store).export.status == ExportStatus.FAILED
    assert ("exports.take_lease",) not in store.commits  # nothing was stored for BL


def test_a_day_that_does_not_add_up_waits_then_is_reported_once_and_claims_nothing() -> None:
    store, bl = a_day(lie_receipt_count=1), FakeExporter()
    d = deps(store, bl)
    run_next_job(d)
    assert store.tables.exports == {} and store.tables.unexported  # nothing claimed while it does not add up
    assert store.tables.job_delays == {1: POLICY.reconcile_retry} and outcomes(store) == []
    run_again(store, d, age_s=POLICY.reconcile_wait.total_seconds() + 1)
    assert outcomes(store) == [("FAILED", "RECONCILIATION_MISMATCH")]
    assert store.tables.day_closes[(ORG, STORE, DAY, 1, "")].status == DayCloseStatus.MISMATCH
    assert store.tables.jobs == [] and bl.posted == []
    store.tables.jobs.append(Job(5, ORG, STORE, DAY, Trigger.RETRY, 0, 10_000.0, 1))  # late sales' job
    run_next_job(d)
    assert outcomes(store) == [("FAILED", "RECONCILIATION_MISMATCH")]  # reported once


def test_a_day_closed_twice_is_booked_by_its_later_z_report() -> None:
    store, bl = a_day(z=1), FakeExporter()
    close_day(store, sampledata.store_day(ORG, STORE, DAY, 4, with_extras=False), z=2)
    run_next_job(deps(store, bl))  # Z1's job: superseded, claims nothing
    assert store.tables.day_closes[(ORG, STORE, DAY, 1, "")].status == DayCloseStatus.SUPERSEDED
    assert store.tables.exports == {}
    run_next_job(deps(store, bl))  # Z2's job books the day
    assert outcomes(store)[-1] == ("SUCCEEDED", None) and len(bl.posted) == 1


@pytest.mark.parametrize("status", ["inactive", "setup"])
def test_an_inactive_integration_drops_the_job_and_keeps_the_sales(status: str) -> None:
    store, bl = a_day(status=status), FakeExporter()
    run_next_job(deps(store, bl))
    assert store.tables.jobs == [] and store.tables.exports == {} and store.tables.unexported
    assert store.commits == [("jobs.lease",), ("jobs.finish",)]


def test_a_day_before_the_start_date_is_not_exported() -> None:
    store = a_day(start=DAY + timedelta(days=1))
    run_next_job(deps(store, FakeExporter()))
    assert store.tables.exports == {} and store.commits == [("jobs.lease",), ("jobs.finish",)]


def test_an_export_leased_by_another_worker_is_not_posted() -> None:
    store, bl = a_day(), FakeExporter()

    def another_worker_takes_it(_voucher: object) -> None:
        raise AssertionError("posted while leased elsewhere")

    bl.on_export = another_worker_takes_it  # type: ignore[assignment]
    store.tables.jobs = []
    d = deps(store, bl)
    with store.uow() as uow:  # a claim, leased by a worker of another process
        export = uow.exports.claim(ORG, STORE, DAY, Trigger.MANUAL, None, include_day_close=False)
        assert export is not None
        uow.tables.exports[export.export_id].lease_owner = "other:worker-1"
        uow.commit()
    store.tables.jobs.append(Job(1, ORG, STORE, None, Trigger.RETRY, 0, 0.0))
    run_next_job(d)
    assert store.tables.job_delays == {1: POLICY.backoff(0)} and outcomes(store) == []


def test_a_day_report_bl_cannot_take_now_stays_pending_and_is_attached_by_the_next_job() -> None:
    store = a_day()
    bl = FakeExporter(attach_failures=[TransientExportError("BL down")])
    d = deps(store, bl)
    run_next_job(d)
    row = only_export(store)
    assert row.export.status == ExportStatus.BOOKED and row.document == DocumentStatus.PENDING
    assert store.tables.job_delays == {1: POLICY.backoff(0)}  # the job backs off; the voucher stays booked
    assert ("documents.attach_ended",) in store.commits  # the next read-back waits the quiet period from its end
    run_again(store, d)
    assert only_export(store).document == DocumentStatus.ATTACHED and len(bl.posted) == 1
    assert outcomes(store) == [("SUCCEEDED", None)]


def test_a_day_report_bl_refuses_is_recorded_and_told_once_and_the_voucher_stays_booked() -> None:
    store = a_day()
    bl = FakeExporter(attach_failures=[DocumentRefused(ReasonCode.DOCUMENT_ATTACH_FAILED, "too large")])
    run_next_job(deps(store, bl))
    row = only_export(store)
    assert (row.export.status, row.document) == (ExportStatus.BOOKED, DocumentStatus.FAILED)
    assert outcomes(store) == [("SUCCEEDED", None), ("FAILED", "DOCUMENT_ATTACH_FAILED")]
    assert store.tables.outbox[-1].voucher is not None and store.tables.jobs == []


def test_a_manual_export_books_each_unexported_day_as_its_own_voucher() -> None:
    store, bl = a_day(), FakeExporter()
    store.tables.jobs, store.tables.day_closes = [], {}
    other = DAY - timedelta(days=1)
    earlier = sampledata.store_day(ORG, STORE, other, 3, with_extras=False)
    store.tables.unexported[(ORG, STORE, other, "")] = [sales_envelope(r).item for r in earlier.events()]  # type: ignore[misc]
    store.tables.jobs.append(Job(1, ORG, STORE, None, Trigger.MANUAL, 0, 0.0))
    run_next_job(deps(store, bl))
    assert [v.entry_date for v in bl.posted] == [other, DAY]
    assert outcomes(store) == [("SUCCEEDED", None), ("SUCCEEDED", None)]
    assert all(o.trigger == Trigger.MANUAL for o in store.tables.outbox) and not store.tables.unexported


def test_an_unexpected_error_keeps_the_job_and_backs_off() -> None:
    store = a_day()
    bl = FakeExporter()

    def crash(_voucher: object) -> None:
        raise RuntimeError("an answer nobody expected")

    bl.on_export = crash  # type: ignore[assignment]
    with capture_logs() as logs:
        run_next_job(deps(store, bl))
    assert store.tables.job_delays == {1: POLICY.backoff(0)}
    assert only_export(store).export.status == ExportStatus.POSTING  # kept; looked up before any new post
    assert [e["event"] for e in logs if e["log_level"] == "error"] == ["job.crashed"]

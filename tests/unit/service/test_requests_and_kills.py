"""Two requests per booked day, and what a kill at each point in between leaves for the restart.

The first post of an export goes without a look-up only when the export's durable state proves no earlier post was
attempted (recorded with the lease, before BL hears of it); the day report goes straight to the voucher only when no
earlier attach was attempted (recorded before the request). A kill at every point between those records and BL's
answers must still end with one voucher and one document: the restart looks up, or reads the voucher back. The
fakes keep what is committed and count BL's requests as the BL adapter would make them.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from service.deps import ExportDeps
from service.exporter import MerchantActionRequired, TransientExportError
from service.jobs import run_next_job
from service.messages import Trigger
from service.model import DocumentStatus, ExportStatus, Job
from service.reasons import ReasonCode
from tests.unit.service.fakes import Crash, FakeExporter, FakeReports, Row, Store, outcomes
from tests.unit.service.test_export_lifecycle import DAY, POLICY, a_day, only_export, run_again


def deps(store: Store, bl: FakeExporter, reports: FakeReports | None = None, instance: str = "first") -> ExportDeps:
    return ExportDeps(store.uow, bl, reports or FakeReports(), POLICY, today=lambda: DAY, instance=instance)


def killed(store: Store, d: ExportDeps) -> None:
    """Run the job until the process dies; then its connections are gone, and with them its leases."""
    with pytest.raises(Crash):
        run_next_job(d)
    for row in store.tables.exports.values():
        if row.lease_owner and row.lease_owner.startswith(f"{d.instance}:"):
            row.lease_owner = None
    for job_id, owner in list(store.tables.job_leases.items()):
        if owner.startswith(f"{d.instance}:"):
            del store.tables.job_leases[job_id]


def restarted(store: Store, bl: FakeExporter) -> ExportDeps:
    bl.requests.clear()
    d = deps(store, bl, instance="restarted")
    assert run_again(store, d) is True
    return d


def booked_once(store: Store, bl: FakeExporter) -> Row:
    row = only_export(store)
    assert row.export.status == ExportStatus.BOOKED and len(bl.posted) == 1
    assert row.document == DocumentStatus.ATTACHED and len(bl.attached) == 1
    assert store.tables.jobs == []
    return row


def test_a_day_is_booked_with_a_post_and_an_attach_and_nothing_else() -> None:
    store, bl = a_day(), FakeExporter()
    run_next_job(deps(store, bl))
    assert bl.requests == ["post", "attach"]
    row = booked_once(store, bl)
    assert row.post_attempted and row.attach_attempted  # on record before each request


def test_a_kill_after_the_post_is_on_record_but_before_it_is_sent_makes_the_restart_look_up_first() -> None:
    store, bl = a_day(), FakeExporter(crashes={"before post"})
    killed(store, deps(store, bl))
    row = only_export(store)
    assert (row.export.status, row.post_attempted, bl.posted) == (ExportStatus.POSTING, True, [])

    restarted(store, bl)

    assert bl.requests == ["look up", "post", "attach"]  # nothing found, so posted: once
    booked_once(store, bl)
    assert outcomes(store) == [("SUCCEEDED", None)]


def test_a_kill_after_bl_booked_the_post_finds_the_voucher_instead_of_posting_it_again() -> None:
    store, bl = a_day(), FakeExporter(crashes={"after post"})
    killed(store, deps(store, bl))
    assert only_export(store).export.status == ExportStatus.POSTING and len(bl.posted) == 1  # we never heard back

    restarted(store, bl)

    assert bl.requests == ["look up", "attach"]  # found by its reference; BL's answer gave its entity id
    # The dead process's post may have been on its way to BL until the restart: the look-up waits the whole quiet.
    assert bl.last_post_ages == [None, 0.0]
    booked_once(store, bl)
    assert store.tables.outbox[-1].voucher is not None and store.tables.outbox[-1].voucher.already_existed


def test_a_transient_failure_of_the_post_makes_every_later_attempt_look_up_first() -> None:
    store, bl = a_day(), FakeExporter(failures=[TransientExportError("BL timed out")])
    d = deps(store, bl)
    run_next_job(d)
    assert bl.requests == ["post"] and only_export(store).export.status == ExportStatus.POSTING
    bl.requests.clear()
    store.tables.now += timedelta(seconds=45)
    run_again(store, d)
    assert bl.requests == ["look up", "post", "attach"]
    # The failed attempt recorded its end: its posts were all sent 45 s before this look-up.
    assert bl.last_post_ages == [None, 45.0]
    booked_once(store, bl)


def test_a_refused_pre_flight_puts_no_post_on_record_so_the_post_after_the_fix_needs_no_look_up() -> None:
    missing = MerchantActionRequired(ReasonCode.ACCOUNT_MISSING_IN_BL, "accounts missing in BL: 3002")
    store, bl = a_day(), FakeExporter(preflight_failures=[missing])
    d = deps(store, bl)
    run_next_job(d)
    row = only_export(store)
    assert (row.export.status, row.post_attempted, bl.requests) == (ExportStatus.FAILED, False, [])
    assert ("exports.take_lease",) not in store.commits  # refused before the lease: nothing was about to be posted
    assert outcomes(store) == [("FAILED", "ACCOUNT_MISSING_IN_BL")]

    # The merchant adds the account; the store's next job retries the export.
    store.tables.jobs.append(Job(2, row.export.organization_id, row.export.store_id, None, Trigger.RETRY, 0, 0.0))
    run_again(store, d)
    assert bl.requests == ["post", "attach"]
    booked_once(store, bl)


def test_a_kill_after_booking_but_before_any_attach_attaches_without_reading_the_voucher_back() -> None:
    store, bl = a_day(), FakeExporter()
    killed(store, deps(store, bl, FakeReports(crashes=1)))
    row = only_export(store)
    assert (row.export.status, row.document) == (ExportStatus.BOOKED, DocumentStatus.PENDING)
    assert not row.attach_attempted
    assert outcomes(store) == [("SUCCEEDED", None)]  # the outcome never waits for the report

    restarted(store, bl)

    assert bl.requests == ["attach"]  # the entity id kept from the booking; nothing of ours can be on the voucher
    booked_once(store, bl)


def test_a_kill_after_the_attach_is_on_record_but_before_it_is_sent_reads_the_voucher_back_first() -> None:
    store, bl = a_day(), FakeExporter(crashes={"before attach"})
    killed(store, deps(store, bl))
    row = only_export(store)
    assert (row.document, row.attach_attempted, bl.attached) == (DocumentStatus.PENDING, True, [])

    restarted(store, bl)

    assert bl.requests == ["read back", "attach"]  # ours is not on it, so attached: once
    assert bl.last_attach_ages == [None, 0.0]  # the read-back waits for an attach the dead process may have sent
    booked_once(store, bl)


def test_a_kill_after_bl_attached_finds_the_document_instead_of_attaching_it_again() -> None:
    store, bl = a_day(), FakeExporter(crashes={"after attach"})
    killed(store, deps(store, bl))
    assert only_export(store).document == DocumentStatus.PENDING and len(bl.attached) == 1

    restarted(store, bl)

    assert bl.requests == ["read back"]  # found by its name on the voucher
    booked_once(store, bl)


def test_an_attach_bl_could_not_take_reads_the_voucher_back_on_the_next_attempt() -> None:
    store, bl = a_day(), FakeExporter(attach_failures=[TransientExportError("BL down")])
    d = deps(store, bl)
    run_next_job(d)
    assert bl.requests == ["post", "attach"] and only_export(store).document == DocumentStatus.PENDING
    bl.requests.clear()
    run_again(store, d)
    assert bl.requests == ["read back", "attach"]
    booked_once(store, bl)

"""A worker whose job is taken over while it runs (its connections were gone a while, or its lease lapsed) writes
nothing more: not to BL (the fence before each post and attach raises), not to the job (its end is the new holder's).
With the fake unit of work and exporter; the race against PostgreSQL and the BL stand-in is
tests/integration/pipeline/test_lease_fence.py."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from structlog.testing import capture_logs

from service.exporter import TransientExportError
from service.jobs import run_next_job
from service.model import DocumentStatus, ExportStatus, Job
from tests.unit.service.fakes import FakeExporter, Store, outcomes
from tests.unit.service.fakes.jobs import FakeJobs
from tests.unit.service.test_export_lifecycle import POLICY, a_day, deps, only_export, run_again

OTHER = "other:worker-1"


def taken_over(store: Store) -> None:
    """Another worker leases the store's job (as it may once this worker's lease is void)."""
    (job,) = store.tables.jobs
    store.tables.job_leases[job.id] = OTHER


def test_a_job_taken_over_before_the_post_sends_nothing_and_writes_nothing_of_the_job() -> None:
    store, bl = a_day(), FakeExporter()
    bl.on_export = lambda _voucher: taken_over(store)  # type: ignore[assignment]
    with capture_logs() as logs:
        assert run_next_job(deps(store, bl)) is True
    assert bl.requests == [] and bl.posted == []  # the post never left
    (job,) = store.tables.jobs
    assert store.tables.job_leases[job.id] == OTHER and store.tables.job_delays == {}  # not ended nor rescheduled
    row = only_export(store)
    assert row.export.status == ExportStatus.POSTING and row.lease_owner is None  # let go: the new holder takes it
    assert row.attempt_ended is not None  # its look-up waits the quiet period from now
    assert outcomes(store) == []
    assert [e.get("step") for e in logs if e["event"] == "job.lease_lost"] == ["before a write to BL"]


def test_the_new_holder_looks_up_and_books_the_day_once() -> None:
    store, bl = a_day(), FakeExporter()
    bl.on_export = lambda _voucher: taken_over(store)  # type: ignore[assignment]
    d = deps(store, bl)
    run_next_job(d)
    bl.on_export = lambda _voucher: None  # type: ignore[assignment]
    (job,) = store.tables.jobs
    store.tables.job_leases.pop(job.id)  # the other worker's lease ended (here: it never ran it)
    assert run_again(store, d) is True
    assert bl.requests == ["look up", "post", "attach"] and len(bl.posted) == 1
    assert bl.last_post_ages == [None, 0.0]  # the post attempt's end was just recorded: the full quiet period
    assert only_export(store).export.status == ExportStatus.BOOKED and outcomes(store) == [("SUCCEEDED", None)]


def test_a_job_taken_over_after_the_post_attaches_nothing_and_its_report_stays_pending() -> None:
    store, bl = a_day(), FakeExporter()
    real_attach = bl.attach_document

    def attach(*args: object, **kwargs: object) -> object:
        taken_over(store)
        return real_attach(*args, **kwargs)  # type: ignore[arg-type]

    bl.attach_document = attach  # type: ignore[method-assign]
    assert run_next_job(deps(store, bl)) is True
    assert bl.requests == ["post"] and bl.attached == []
    row = only_export(store)
    assert (row.export.status, row.document) == (ExportStatus.BOOKED, DocumentStatus.PENDING)
    (job,) = store.tables.jobs
    assert store.tables.job_leases[job.id] == OTHER


def test_a_job_taken_over_while_bl_was_down_is_not_rescheduled_by_its_old_holder() -> None:
    """BL could not take the day report (nothing sent), and meanwhile another worker took the job: ending or
    rescheduling it is the new holder's to write, not this worker's."""
    store, bl = a_day(), FakeExporter()

    def attach(*_args: object, **_kwargs: object) -> object:
        taken_over(store)
        raise TransientExportError("BL down")

    bl.attach_document = attach  # type: ignore[method-assign]
    with capture_logs() as logs:
        assert run_next_job(deps(store, bl)) is True
    (job,) = store.tables.jobs
    assert store.tables.job_leases[job.id] == OTHER and store.tables.job_delays == {}
    assert [e.get("step") for e in logs if e["event"] == "job.lease_lost"] == ["at the end"]


def test_a_job_found_taken_over_at_its_renewal_before_an_export_attempts_nothing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    store, bl = a_day(), FakeExporter()
    d = replace(deps(store, bl), policy=replace(POLICY, job_lease=timedelta(0)))  # renewed before every export

    def renew(self: FakeJobs, job: Job, owner: str, lease: timedelta) -> bool:
        self.t.job_leases[job.id] = OTHER  # another worker holds it by now
        self.uow.wrote("jobs.renew", "job_leases")
        return False

    monkeypatch.setattr(FakeJobs, "renew", renew)
    with capture_logs() as logs:
        assert run_next_job(d) is True
    assert bl.requests == [] and not any(c == ("exports.take_lease",) for c in store.commits)
    assert [e.get("step") for e in logs if e["event"] == "job.lease_lost"] == ["before an export"]
    (job,) = store.tables.jobs
    assert store.tables.job_leases[job.id] == OTHER and store.tables.job_delays == {}

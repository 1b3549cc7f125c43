"""BackOffice's commands through the bus: which stores get which job, once per (organization, command id), with
small fakes of the three ports the handlers use (no database)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from types import TracebackType
from typing import Any, get_args

import pytest

from mapping.plan import AccountPlan
from service import bus
from service.bl_checks import CheckAndActivate, VerifyKey
from service.commands import (
    MANUAL_GRACE,
    IntegrationNotActive,
    JobsQueued,
    Resumed,
    ResumeExports,
    RetryPlanFixes,
    retry_now,
)
from service.correction_checks import CheckAndCorrect
from service.correction_requests import CorrectDay
from service.integration_lifecycle import Activate, Deactivate, SetStartDate, StoreVerifiedKey
from service.manual_exports import RequestManualExport
from service.messages import ManualExportRequested, RetryFailedExports, Trigger
from service.model import Integration, IntegrationStatus
from service.plan_saves import CheckAndSavePlan, SavePlan
from service.retention import PurgeSales
from service.sales import RecordSales
from tests.unit.service.fakes import FakeCommandJobs

AT = datetime(2026, 11, 29, 22, 0, tzinfo=UTC)


@dataclass
class FakeIntegrations:
    by_org: dict[str, Integration] = field(default_factory=dict)

    def get(self, org: str, *, lock: bool = False) -> Integration | None:
        return self.by_org.get(org)


@dataclass
class FakeExports:
    #: (organization, store, status) of each export.
    rows: list[tuple[str, str, str]] = field(default_factory=list)
    stores: dict[str, list[str]] = field(default_factory=dict)
    #: Why each store's failed exports were refused (default: an account missing in BL).
    reasons: dict[str, tuple[str, Any]] = field(default_factory=dict)

    def failed(self, org: str) -> list[tuple[str, str | None, Any]]:
        default = ("ACCOUNT_MISSING_IN_BL", None)
        return [(s, *self.reasons.get(s, default)) for o, s, status in self.rows if o == org and status == "failed"]

    def stores_with_open(self, org: str) -> list[str]:
        return sorted({s for o, s, status in self.rows if o == org and status != "booked"})

    def known_stores(self, org: str) -> list[str]:
        return self.stores.get(org, [])


@dataclass
class FakeDayCloses:
    #: (store, business date, register) of the register-days closed and not fully booked, per organization.
    unbooked: dict[str, list[tuple[str, date, str]]] = field(default_factory=dict)

    def unbooked_since(self, org: str, since: date) -> list[tuple[str, date, str]]:
        return sorted((d for d in self.unbooked.get(org, []) if d[1] >= since), key=lambda d: (d[1], d[0], d[2]))


@dataclass
class FakeWork:
    integrations: FakeIntegrations = field(default_factory=FakeIntegrations)
    jobs: FakeCommandJobs = field(default_factory=FakeCommandJobs)
    exports: FakeExports = field(default_factory=FakeExports)
    day_closes: FakeDayCloses = field(default_factory=FakeDayCloses)
    commits: int = 0

    def __enter__(self) -> FakeWork:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        pass

    def commit(self) -> None:
        self.commits += 1


def active(
    org: str, status: IntegrationStatus = IntegrationStatus.ACTIVE, plan_version: int | None = None
) -> FakeIntegrations:
    return FakeIntegrations({org: Integration(org, status, None, None, plan_version=plan_version)})


def manual(command_id: str, org: str = "org-a", store: str | None = None) -> ManualExportRequested:
    return ManualExportRequested(command_id, org, store, AT, "anna")


def retry(command_id: str, org: str = "org-a", store: str | None = None) -> RetryFailedExports:
    return RetryFailedExports(command_id, org, store, AT, None)


def test_a_manual_export_queues_every_known_store_and_every_store_with_an_open_export_after_the_grace() -> None:
    work = FakeWork(
        exports=FakeExports(
            rows=[("org-a", "s3", "failed"), ("org-a", "s4", "posting"), ("org-a", "s5", "booked")],
            stores={"org-a": ["s2", "s1"], "org-b": ["s9"]},
        )
    )
    assert bus.handle(work, manual("cmd-1")) == JobsQueued(["s1", "s2", "s3", "s4"], 4)
    assert [(q.org, q.store, q.trigger, q.source_id, q.delay) for q in work.jobs.queued] == [
        ("org-a", s, Trigger.MANUAL, f"cmd-1:{s}", MANUAL_GRACE) for s in ("s1", "s2", "s3", "s4")
    ]
    assert MANUAL_GRACE == timedelta(seconds=1)


def test_a_manual_export_of_one_store_queues_that_store_even_before_its_first_sale_arrives() -> None:
    work = FakeWork(exports=FakeExports(rows=[("org-a", "s3", "failed")], stores={"org-a": ["s1"]}))
    assert bus.handle(work, manual("cmd-1", store="s7")) == JobsQueued(["s7"], 1)
    assert [q.source_id for q in work.jobs.queued] == ["cmd-1:s7"]


def test_a_command_is_acted_on_once_per_organization_and_command_id() -> None:
    work = FakeWork(exports=FakeExports(stores={"org-a": ["s1"], "org-b": ["s1"]}))
    assert bus.handle(work, manual("cmd-1")).jobs == 1
    # A redelivery queues nothing, even with a store added since ...
    work.exports.stores["org-a"].append("s2")
    assert bus.handle(work, manual("cmd-1")) == JobsQueued([], 0)
    # ... while another organization's command with the same id is its own.
    assert bus.handle(work, manual("cmd-1", org="org-b")).jobs == 1
    assert [(q.org, q.store) for q in work.jobs.queued] == [("org-a", "s1"), ("org-b", "s1")]


def test_a_retry_queues_one_retry_job_per_store_with_a_failed_export_now() -> None:
    rows = [("org-a", "s1", "failed"), ("org-a", "s1", "failed"), ("org-a", "s2", "booked"), ("org-b", "s3", "failed")]
    work = FakeWork(integrations=active("org-a"), exports=FakeExports(rows=rows, stores={"org-a": ["s1", "s2"]}))
    assert bus.handle(work, retry("r-1")) == JobsQueued(["s1"], 1)
    assert [(q.store, q.trigger, q.source_id, q.delay) for q in work.jobs.queued] == [
        ("s1", Trigger.RETRY, "r-1:s1", None)
    ]
    assert bus.handle(work, retry("r-1")) == JobsQueued([], 0)


def test_a_retry_of_one_store_leaves_the_other_stores_failed_exports_alone() -> None:
    rows = [("org-a", "s1", "failed"), ("org-a", "s2", "failed")]
    work = FakeWork(integrations=active("org-a"), exports=FakeExports(rows=rows))
    assert bus.handle(work, retry("r-1", store="s2")) == JobsQueued(["s2"], 1)
    assert bus.handle(work, retry("r-2", store="s9")) == JobsQueued([], 0)


@pytest.mark.parametrize("status", [None, IntegrationStatus.SETUP, IntegrationStatus.INACTIVE])
def test_a_retry_is_refused_while_the_integration_is_not_active(status: IntegrationStatus | None) -> None:
    integrations = active("org-a", status) if status is not None else FakeIntegrations()
    work = FakeWork(integrations=integrations, exports=FakeExports(rows=[("org-a", "s1", "failed")]))
    with pytest.raises(IntegrationNotActive):
        bus.handle(work, retry("r-1"))
    assert work.jobs.queued == []


def test_handle_in_commits_what_the_handler_did_and_nothing_when_it_raises() -> None:
    work = FakeWork(integrations=active("org-a"), exports=FakeExports(rows=[("org-a", "s1", "failed")]))
    assert bus.handle_in(lambda: work, retry_now("org-a")).jobs == 1
    assert work.commits == 1
    work.integrations = active("org-a", IntegrationStatus.INACTIVE)
    with pytest.raises(IntegrationNotActive):
        bus.handle_in(lambda: work, retry_now("org-a"))
    assert work.commits == 1


def test_a_saved_plan_retries_the_stores_whose_failures_it_cures_once_per_plan_version() -> None:
    plan = AccountPlan(organization_id="org-a", series="A", payment_methods={"card": "1686"})
    rows = [("org-a", s, "failed") for s in ("s1", "s2", "s3", "s4")]
    reasons = {
        "s1": ("UNMAPPED_ITEMS", [{"kind": "payment_method", "code": "card"}]),  # mapped now
        "s2": ("UNMAPPED_ITEMS", [{"kind": "payment_method", "code": "not-in-the-plan"}]),  # still not
        "s3": ("FISCAL_YEAR_CLOSED", []),  # not the plan's to cure
    }  # s4: an account missing in BL, which the saved plan no longer uses (checked against the chart)
    work = FakeWork(integrations=active("org-a", plan_version=3), exports=FakeExports(rows=rows, reasons=reasons))
    assert bus.handle(work, RetryPlanFixes(plan)) == JobsQueued(["s1", "s4"], 2)
    assert [(q.store, q.trigger, q.source_id) for q in work.jobs.queued] == [
        ("s1", Trigger.RETRY, "plan:org-a:v3:s1"),
        ("s4", Trigger.RETRY, "plan:org-a:v3:s4"),
    ]
    assert bus.handle(work, RetryPlanFixes(plan)).jobs == 0  # the same version again: nothing new
    work.integrations = active("org-a", IntegrationStatus.INACTIVE, plan_version=4)
    assert bus.handle(work, RetryPlanFixes(plan)) == JobsQueued([], 0)  # inactive: the activation retries


def test_an_activation_retries_every_open_export_and_queues_every_unbooked_closed_day_since_the_start() -> None:
    start = date(2026, 11, 1)
    unbooked = [("s2", date(2026, 11, 3), "k1"), ("s1", date(2026, 11, 3), "k2"), ("s1", date(2026, 10, 31), "k1")]
    rows = [("org-a", "s3", "failed"), ("org-a", "s4", "posting"), ("org-a", "s5", "booked"), ("org-b", "s6", "failed")]
    work = FakeWork(exports=FakeExports(rows=rows), day_closes=FakeDayCloses({"org-a": unbooked}))
    assert bus.handle(work, ResumeExports("org-a", start, source="activation-1")) == Resumed(retries=2, days=2)
    assert [(q.store, q.trigger, q.source_id) for q in work.jobs.queued] == [
        ("s3", Trigger.RETRY, "activation-1:s3"),
        ("s4", Trigger.RETRY, "activation-1:s4"),
        ("s1", Trigger.RETRY, "activation-1:org-a:s1:k2:2026-11-03"),
        ("s2", Trigger.RETRY, "activation-1:org-a:s2:k1:2026-11-03"),
    ]
    assert bus.handle(work, ResumeExports("org-a", start, source="activation-1")) == Resumed(0, 0)
    assert ResumeExports("org-a", start).source != ResumeExports("org-a", start).source  # each activation its own


def test_every_command_has_its_handler() -> None:
    messages = {
        ManualExportRequested,
        RetryFailedExports,
        RetryPlanFixes,
        ResumeExports,
        RecordSales,
        CorrectDay,
        RequestManualExport,
        Activate,
        Deactivate,
        SetStartDate,
        StoreVerifiedKey,
        SavePlan,
        PurgeSales,
    }
    assert set(bus.HANDLERS) == set(get_args(bus.Message)) == messages
    asking = {VerifyKey, CheckAndActivate, CheckAndSavePlan, CheckAndCorrect}
    assert set(bus.ASKING_BL) == set(get_args(bus.AskingMessage)) == asking
    assert not asking & messages  # one way in per command
    assert retry_now("org-a", "s1", "anna").command_id.startswith("retry-")
    assert retry_now("org-a").command_id != retry_now("org-a").command_id

"""A plan save through the bus (service/plan_saves.py): stored under the organization's lock, the kept BL facts
forgotten, and the failed exports it cures retried, in the one transaction; no retry while not active. With a small
fake of each port it uses (no database)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from mapping.plan import AccountPlan
from service import bus
from service.messages import Trigger
from service.model import Integration, IntegrationStatus
from service.plan_saves import PlanStored, SavePlan
from tests.unit.service.fakes import FakeCommandJobs

PLAN = AccountPlan(organization_id="org-a", series="A", payment_methods={"card": "1686"})


@dataclass
class FakeIntegrations:
    state: Integration
    #: Every call, in order (the lock before the save).
    calls: list[str] = field(default_factory=list)

    def get(self, org: str, *, lock: bool = False) -> Integration | None:
        self.calls.append("lock" if lock else "get")
        return self.state

    def save_plan(self, plan: AccountPlan) -> None:
        self.calls.append("save")
        self.state = replace(self.state, plan_version=(self.state.plan_version or 0) + 1)


@dataclass
class FakeKeptFacts:
    forgotten: list[str] = field(default_factory=list)

    def forget_organization(self, org: str) -> None:
        self.forgotten.append(org)


@dataclass
class FakeExports:
    #: (store, reason code, details) of each failed export.
    failures: list[tuple[str, str | None, Any]] = field(default_factory=list)

    def failed(self, org: str) -> list[tuple[str, str | None, Any]]:
        return self.failures

    def stores_with_open(self, org: str) -> list[str]:
        return []

    def known_stores(self, org: str) -> list[str]:
        return []


@dataclass
class FakeDayCloses:
    def unbooked_since(self, org: str, since: date) -> list[tuple[str, date, str]]:
        return []


@dataclass
class FakeWork:
    integrations: FakeIntegrations
    kept_facts: FakeKeptFacts = field(default_factory=FakeKeptFacts)
    jobs: FakeCommandJobs = field(default_factory=FakeCommandJobs)
    exports: FakeExports = field(default_factory=FakeExports)
    day_closes: FakeDayCloses = field(default_factory=FakeDayCloses)


def source_ids(work: FakeWork) -> list[str]:
    """The source id of each job queued (each a retry)."""
    assert all(q.trigger == Trigger.RETRY for q in work.jobs.queued)
    return [q.source_id for q in work.jobs.queued]


def work(status: IntegrationStatus) -> FakeWork:
    failures = [
        ("s1", "UNMAPPED_ITEMS", [{"kind": "payment_method", "code": "card"}]),  # mapped by the plan
        ("s2", "FISCAL_YEAR_CLOSED", []),  # not the plan's to cure
    ]
    state = Integration("org-a", status, date(2026, 11, 1), None, plan_version=2)
    return FakeWork(FakeIntegrations(state), exports=FakeExports(failures))


def test_a_saved_plan_is_stored_under_the_lock_forgets_the_kept_facts_and_retries_what_it_cures() -> None:
    active = work(IntegrationStatus.ACTIVE)
    assert bus.handle(active, SavePlan(PLAN)) == PlanStored(retries=1)
    assert active.integrations.calls[:2] == ["lock", "save"]
    assert active.kept_facts.forgotten == ["org-a"]
    assert source_ids(active) == ["plan:org-a:v3:s1"]  # the version just saved


def test_a_plan_saved_while_not_active_retries_nothing_but_still_forgets_the_kept_facts() -> None:
    setup = work(IntegrationStatus.SETUP)
    assert bus.handle(setup, SavePlan(PLAN)) == PlanStored(retries=0)
    assert "save" in setup.integrations.calls and setup.kept_facts.forgotten == ["org-a"]
    assert source_ids(setup) == []

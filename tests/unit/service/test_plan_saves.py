"""A plan save through the bus (service/plan_saves.py): stored under the organization's lock, the kept BL facts
forgotten, and the failed exports it cures retried, in the one transaction; no retry while not active. The API's save
(CheckAndSavePlan) first checks the plan's own rules, a verified key and BL's chart, asked with no transaction open.
With a small fake of each port it uses (no database)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

import pytest

from mapping.plan import AccountPlan
from service import bus
from service.exporter import Chart
from service.messages import Trigger
from service.model import Integration, IntegrationStatus
from service.plan_saves import CheckAndSavePlan, PlanStored, SavePlan
from service.refusals import FieldProblem, InputRefused, LifecycleRefused
from service.secrets import Secret
from tests.unit.service.fakes import FakeCommandJobs

PLAN = AccountPlan(organization_id="org-a", series="A", payment_methods={"card": "1686"})
KEY = "0a1b2c3d-0000-4000-8000-00000000abcd"


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


class Units:
    """A factory of units of work over one fake: counts the commits and knows whether a unit is open now."""

    def __init__(self, work: FakeWork) -> None:
        self.work, self.commits, self.open = work, 0, False

    def __call__(self) -> Units:
        return self

    def __enter__(self) -> Units:
        self.open = True
        return self

    def __exit__(self, *exc: object) -> None:
        self.open = False

    def commit(self) -> None:
        self.commits += 1

    def __getattr__(self, name: str) -> Any:
        return getattr(self.work, name)


@dataclass
class FakeChartReader:
    units: Units
    answer: Chart = field(default_factory=lambda: Chart({"1686": False}, {}))
    #: (key, was a unit of work open) of every question.
    asked: list[tuple[str, bool]] = field(default_factory=list)

    def chart(self, user_key: str) -> Chart:
        self.asked.append((user_key, self.units.open))
        return self.answer


def keyed(status: IntegrationStatus = IntegrationStatus.SETUP) -> Units:
    keyed_work = work(status)
    keyed_work.integrations.state = replace(keyed_work.integrations.state, user_key=Secret(KEY))
    return Units(keyed_work)


def test_a_checked_plan_is_saved_after_bl_answers_with_no_transaction_open() -> None:
    units = keyed(IntegrationStatus.ACTIVE)
    bl = FakeChartReader(units)
    assert bus.handle_asking(bl, units, CheckAndSavePlan(PLAN)) == PlanStored(retries=1)
    assert bl.asked == [(KEY, False)] and units.commits == 1 and "save" in units.work.integrations.calls


def test_a_plan_breaking_its_own_rules_is_refused_per_field_before_bl_is_asked() -> None:
    units = keyed()
    bl = FakeChartReader(units)
    kept = replace(PLAN, events={"CASH_DIFFERENCE": "3590"})
    with pytest.raises(InputRefused) as refused:
        bus.handle_asking(bl, units, CheckAndSavePlan(kept))
    assert refused.value.code == "INVALID_PLAN"
    assert [(p.field, p.code) for p in refused.value.problems] == [("events.CASH_DIFFERENCE", "INVALID_VALUE")]
    assert bl.asked == [] and units.commits == 0


def test_a_plan_before_a_verified_key_is_refused_without_asking_bl() -> None:
    units = Units(work(IntegrationStatus.SETUP))  # no key
    bl = FakeChartReader(units)
    with pytest.raises(LifecycleRefused) as refused:
        bus.handle_asking(bl, units, CheckAndSavePlan(PLAN))
    assert refused.value.code == "KEY_MISSING" and bl.asked == [] and units.commits == 0


def test_a_plan_whose_accounts_bl_does_not_have_is_refused_per_field_and_not_saved() -> None:
    units = keyed()
    bl = FakeChartReader(units, Chart({"1686": True}, {}))
    with pytest.raises(InputRefused) as refused:
        bus.handle_asking(bl, units, CheckAndSavePlan(PLAN))
    assert refused.value.code == "INVALID_PLAN"
    assert refused.value.problems == (
        FieldProblem("payment_methods.card", "ACCOUNT_CLOSED", "account 1686 is closed (spärrat) in Björn Lundén"),
    )
    assert "save" not in units.work.integrations.calls and units.commits == 0

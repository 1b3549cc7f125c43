"""The integration's lifecycle through the bus (service/integration_lifecycle.py): what blocks an activation, what
an activation queues, what a deactivation writes (BL's with its outcome), and what a start date reports; refusals
write nothing. With a small fake of each port it uses (no database)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, timedelta

import pytest

from backoffice.models_plan import PlanIn
from backoffice.plan_rules import to_plan
from devstack.sampledata import SAMPLE_PLAN
from mapping.plan import AccountPlan
from service import bus
from service.integration_lifecycle import (
    Activate,
    Activated,
    Deactivate,
    Deactivated,
    LifecycleRefused,
    SetStartDate,
    StartDateSet,
    StoreVerifiedKey,
    blockers,
)
from service.messages import Outcome, OutcomeStatus, Trigger
from service.model import DeactivatedBy, Integration, IntegrationStatus
from service.plan_items import Registered, SeenItems
from service.reasons import ReasonCode
from service.refusals import FieldProblem, InputRefused
from service.secrets import Secret
from service.start_dates import StartDateWindow
from tests.unit.service.fakes import FakeCommandJobs

TODAY = date(2026, 11, 30)
START = date(2026, 11, 1)
PLAN = to_plan("org-a", PlanIn(**SAMPLE_PLAN))
WINDOW = StartDateWindow(TODAY, kept_days=90)


@dataclass
class FakeIntegrations:
    by_org: dict[str, Integration] = field(default_factory=dict)
    plans: dict[str, AccountPlan] = field(default_factory=dict)
    #: What was written, in order.
    writes: list[str] = field(default_factory=list)

    def get(self, org: str, *, lock: bool = False) -> Integration | None:
        return self.by_org.get(org)

    def plan(self, org: str) -> AccountPlan | None:
        return self.plans.get(org)

    def save(self, org: str, *, start_date: date | None = None) -> None:
        self.writes.append(f"start {start_date}")
        current = self.by_org.get(org) or Integration(org, IntegrationStatus.SETUP, None, None)
        self.by_org[org] = replace(current, start_date=start_date or current.start_date)

    def store_verified_key(self, org: str, user_key: Secret, company_name: str, org_number: str) -> None:
        self.writes.append(f"key {company_name} {org_number}")

    def set_status(self, org: str, status: IntegrationStatus, by: DeactivatedBy | None = None) -> None:
        self.writes.append(f"{status.value} {by.value if by else ''}".strip())
        self.by_org[org] = replace(self.by_org[org], status=status, deactivated_by=by)


@dataclass
class FakePlanItems:
    seen_by_org: dict[str, SeenItems] = field(default_factory=dict)
    registered_by_org: dict[str, list[Registered]] = field(default_factory=dict)
    #: The lookbacks asked for.
    since: list[date] = field(default_factory=list)

    def registered(self, org: str) -> list[Registered]:
        return self.registered_by_org.get(org, [])

    def seen(self, org: str, since: date) -> SeenItems:
        self.since.append(since)
        return self.seen_by_org.get(org, {})


@dataclass
class FakeSales:
    unbooked: tuple[int, date | None, date | None] = (0, None, None)
    asked: list[date] = field(default_factory=list)

    def unbooked_before(self, org: str, day: date) -> tuple[int, date | None, date | None]:
        self.asked.append(day)
        return self.unbooked


@dataclass
class FakeOutbox:
    outcomes: list[Outcome] = field(default_factory=list)

    def outcome(self, outcome: Outcome) -> None:
        self.outcomes.append(outcome)


@dataclass
class FakeKeptFacts:
    forgotten: list[str] = field(default_factory=list)

    def forget_organization(self, org: str) -> None:
        self.forgotten.append(org)


@dataclass
class FakeExports:
    open_stores: list[str] = field(default_factory=list)

    def stores_with_open(self, org: str) -> list[str]:
        return self.open_stores

    def known_stores(self, org: str) -> list[str]:
        return self.open_stores


@dataclass
class FakeDayCloses:
    unbooked: list[tuple[str, date, str]] = field(default_factory=list)
    since: list[date] = field(default_factory=list)

    def unbooked_since(self, org: str, since: date) -> list[tuple[str, date, str]]:
        self.since.append(since)
        return [u for u in self.unbooked if u[1] >= since]


@dataclass
class FakeWork:
    integrations: FakeIntegrations = field(default_factory=FakeIntegrations)
    plan_items: FakePlanItems = field(default_factory=FakePlanItems)
    sales: FakeSales = field(default_factory=FakeSales)
    outbox: FakeOutbox = field(default_factory=FakeOutbox)
    jobs: FakeCommandJobs = field(default_factory=FakeCommandJobs)
    exports: FakeExports = field(default_factory=FakeExports)
    day_closes: FakeDayCloses = field(default_factory=FakeDayCloses)
    kept_facts: FakeKeptFacts = field(default_factory=FakeKeptFacts)


def queued(work: FakeWork) -> list[tuple[str, date | None, str]]:
    """(store, business date, source id) of each job queued."""
    return [(q.store, q.day, q.source_id) for q in work.jobs.queued]


def ready(status: IntegrationStatus = IntegrationStatus.SETUP, **changes: object) -> FakeWork:
    state = Integration(
        "org-a", status, START, None, key_hint="ab…cd", company_name="Kafé AB", company_org_number="556677-8899"
    )
    return FakeWork(FakeIntegrations({"org-a": replace(state, **changes)}, {"org-a": PLAN}))  # type: ignore[arg-type]


def test_a_ready_integration_activates_and_queues_its_open_exports_and_unbooked_days_since_the_start_date() -> None:
    work = ready()
    work.exports.open_stores = ["s3"]
    work.day_closes.unbooked = [("s1", date(2026, 11, 3), ""), ("s1", date(2026, 10, 31), "")]
    assert bus.handle(work, Activate("org-a", TODAY)) == Activated(days=1)
    assert work.integrations.writes == ["active"]
    assert [(store, day) for store, day, _ in queued(work)] == [("s3", None), ("s1", date(2026, 11, 3))]
    assert work.day_closes.since == [START]


def test_nothing_blocks_a_ready_integration_and_each_missing_piece_is_named_in_the_wizards_order() -> None:
    assert blockers(ready(), "org-a", ready().integrations.by_org["org-a"], TODAY) == []
    empty = FakeWork()
    assert [b.code for b in blockers(empty, "org-a", None, TODAY)] == [
        "KEY_MISSING",
        "START_DATE_MISSING",
        "PLAN_MISSING",
    ]
    bad_number = ready(company_org_number="123")
    state = bad_number.integrations.by_org["org-a"]
    assert [b.code for b in blockers(bad_number, "org-a", state, TODAY)] == ["COMPANY_ORG_NUMBER_INVALID"]


def test_an_item_sales_use_that_the_plan_does_not_map_blocks_with_its_name_and_looks_back_90_days() -> None:
    work = ready(start_date=TODAY - timedelta(days=10))
    work.plan_items.seen_by_org["org-a"] = {("payment_method", "klarna"): date(2026, 11, 20)}
    (found,) = blockers(work, "org-a", work.integrations.by_org["org-a"], TODAY)
    assert (found.code, found.message) == ("PLAN_INCOMPLETE", "1 item(s) still need an account: payment_method klarna")
    assert work.plan_items.since == [TODAY - timedelta(days=90)]
    with pytest.raises(LifecycleRefused) as refused:
        bus.handle(work, Activate("org-a", TODAY))
    assert (refused.value.code, [b.code for b in refused.value.blocking]) == ("NOT_READY", ["PLAN_INCOMPLETE"])
    assert work.integrations.writes == [] and queued(work) == []


def test_an_active_integration_is_not_activated_again_and_a_first_activation_takes_no_start_date() -> None:
    with pytest.raises(LifecycleRefused, match="already active") as again:
        bus.handle(ready(IntegrationStatus.ACTIVE), Activate("org-a", TODAY))
    assert again.value.code == "ALREADY_ACTIVE"
    first = ready()
    with pytest.raises(LifecycleRefused) as early:
        bus.handle(first, Activate("org-a", TODAY, start_date=START))
    assert early.value.code == "START_DATE_ON_FIRST_ACTIVATION" and first.integrations.writes == []


def test_a_reactivation_with_a_new_start_date_resumes_from_it() -> None:
    work = ready(IntegrationStatus.INACTIVE, deactivated_by=DeactivatedBy.MERCHANT)
    work.day_closes.unbooked = [("s1", date(2026, 11, 3), ""), ("s1", date(2026, 11, 20), "")]
    assert bus.handle(work, Activate("org-a", TODAY, start_date=date(2026, 11, 10))) == Activated(days=1)
    assert work.integrations.writes == ["start 2026-11-10", "active"]


def test_bls_callback_reactivates_only_what_bls_own_deactivation_left_inactive() -> None:
    by_bl = ready(IntegrationStatus.INACTIVE, deactivated_by=DeactivatedBy.BL)
    assert bus.handle(by_bl, Activate("org-a", TODAY, only_after=DeactivatedBy.BL)) == Activated(days=0)
    assert by_bl.integrations.writes == ["active"]
    for work in (
        ready(IntegrationStatus.INACTIVE, deactivated_by=DeactivatedBy.MERCHANT),  # the merchant's stands
        ready(),  # set-up continues in the wizard
        ready(IntegrationStatus.ACTIVE),
    ):
        with pytest.raises(LifecycleRefused) as refused:
            bus.handle(work, Activate("org-a", TODAY, only_after=DeactivatedBy.BL))
        assert refused.value.code == "NOT_DEACTIVATED_BY" and work.integrations.writes == []
    merchant = ready(IntegrationStatus.INACTIVE, deactivated_by=DeactivatedBy.MERCHANT)
    assert bus.handle(merchant, Activate("org-a", TODAY)) == Activated(days=0)  # the wizard's own button may


def test_the_merchants_deactivation_writes_no_outcome_and_bls_tells_the_merchant_why() -> None:
    merchant = ready(IntegrationStatus.ACTIVE)
    assert bus.handle(merchant, Deactivate("org-a", DeactivatedBy.MERCHANT)) == Deactivated(DeactivatedBy.MERCHANT)
    assert merchant.integrations.writes == ["inactive MERCHANT"] and merchant.outbox.outcomes == []
    by_bl = ready(IntegrationStatus.ACTIVE)
    bus.handle(by_bl, Deactivate("org-a", DeactivatedBy.BL))
    (outcome,) = by_bl.outbox.outcomes
    assert (outcome.organization_id, outcome.trigger, outcome.status, outcome.reason_code) == (
        "org-a",
        Trigger.INTEGRATION,
        OutcomeStatus.FAILED,
        ReasonCode.KEY_NOT_ACTIVATED,
    )
    assert [d.code for d in outcome.details] == ["DEACTIVATED_IN_BL"]


@pytest.mark.parametrize("status", [IntegrationStatus.SETUP, IntegrationStatus.INACTIVE])
def test_only_an_active_integration_is_deactivated(status: IntegrationStatus) -> None:
    work = ready(status)
    with pytest.raises(LifecycleRefused, match=f"it is {status.value}") as refused:
        bus.handle(work, Deactivate("org-a", DeactivatedBy.BL))
    assert refused.value.code == "NOT_ACTIVE" and work.integrations.writes == [] and work.outbox.outcomes == []


def test_a_start_date_is_stored_and_reports_the_unbooked_sales_before_it_but_not_while_active() -> None:
    work = ready(start_date=None)
    work.sales.unbooked = (2, date(2026, 10, 1), date(2026, 10, 2))
    assert bus.handle(work, SetStartDate("org-a", START, WINDOW)) == StartDateSet(
        2, date(2026, 10, 1), date(2026, 10, 2)
    )
    assert work.integrations.writes == [f"start {START}"] and work.sales.asked == [START]
    active = ready(IntegrationStatus.ACTIVE)
    with pytest.raises(LifecycleRefused) as refused:
        bus.handle(active, SetStartDate("org-a", START, WINDOW))
    assert refused.value.code == "INTEGRATION_ACTIVE" and active.integrations.writes == []


@pytest.mark.parametrize(
    ("day", "code", "field_message"),
    [
        (TODAY + timedelta(days=1), "START_DATE_IN_FUTURE", "must be 2026-11-30 or earlier"),
        (TODAY - timedelta(days=91), "START_DATE_TOO_OLD", "must be 2026-09-01 or later"),
    ],
)
def test_a_start_date_outside_its_window_is_refused_on_its_field_before_anything_is_read(
    day: date, code: str, field_message: str
) -> None:
    work = ready(start_date=None)
    with pytest.raises(InputRefused) as refused:
        bus.handle(work, SetStartDate("org-a", day, WINDOW))
    assert refused.value.code == code
    assert refused.value.problems == (FieldProblem("start_date", code, field_message),)
    assert work.integrations.writes == [] and work.sales.asked == []
    for edge in (TODAY, TODAY - timedelta(days=90)):  # both ends are in the window
        assert bus.handle(ready(start_date=None), SetStartDate("org-a", edge, WINDOW)).days == 0


def test_a_verified_key_is_stored_and_forgets_the_kept_facts_but_an_active_one_keeps_its_company() -> None:
    key = Secret("00000000-0000-0000-0000-000000000001")
    fresh = FakeWork()
    bus.handle(fresh, StoreVerifiedKey("org-a", key, "Kafé AB", "556677-8899"))
    assert fresh.integrations.writes == ["key Kafé AB 556677-8899"] and fresh.kept_facts.forgotten == ["org-a"]
    same = ready(IntegrationStatus.ACTIVE)
    bus.handle(same, StoreVerifiedKey("org-a", key, "Kafé AB", "556677-8899"))
    assert same.integrations.writes == ["key Kafé AB 556677-8899"]
    other = ready(IntegrationStatus.ACTIVE)
    with pytest.raises(LifecycleRefused) as refused:
        bus.handle(other, StoreVerifiedKey("org-a", key, "Annat AB", "556036-0793"))
    assert refused.value.code == "KEY_COMPANY_CHANGED"
    assert other.integrations.writes == [] and other.kept_facts.forgotten == []
    inactive = ready(IntegrationStatus.INACTIVE)
    bus.handle(inactive, StoreVerifiedKey("org-a", key, "Annat AB", "556036-0793"))  # switching companies
    assert inactive.integrations.writes == ["key Annat AB 556036-0793"]

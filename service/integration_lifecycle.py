"""The integration's state machine, shared by the wizard's endpoints and BL's activation callbacks:

    setup ──activate──▶ active ◀──activate── inactive
                          └──────deactivate─────▶┘

Activating needs a verified key, a start date and a complete, valid plan (:func:`blockers`). Every activation queues
the closed days since the start date that are not booked yet (days closed before set-up or while inactive) and a
retry of every export left failed or posting (the consumer drops jobs while inactive:
:func:`service.commands.resume_exports`), so the service resumes exactly where it stopped. A start date is set
before the first activation (later, with the reactivation) and reports the stored sales before it that will not be
exported. A key is stored once BL has verified it (:func:`service.bl_checks.verify_key` asks first); a new key
forgets what the pre-flight kept of the company. BL's deactivation tells the merchant with a ``KEY_NOT_ACTIVATED``
outcome in the same transaction.

Reached through :mod:`service.bus` (:class:`StoreVerifiedKey`, :class:`SetStartDate`, :class:`Activate`,
:class:`Deactivate`) by the API and
BL's callbacks in their unit of work; the caller commits. A refusal is :class:`~service.refusals.LifecycleRefused` or,
for a start date out of its window, :class:`~service.refusals.InputRefused` (nothing written). The wizard's steps that
ask BL first (verify a key, activate) are :mod:`service.bl_checks`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Protocol

from mapping.money import percent
from mapping.orgnr import formatted_org_number
from mapping.plan import AccountPlan
from mapping.plan_checks import plan_problems
from mapping.text import clean_text
from service import commands
from service.commands import CommandWork, ResumeExports
from service.messages import Detail, Outcome, OutcomeStatus, Trigger
from service.model import DeactivatedBy, Integration, IntegrationStatus
from service.plan_items import PlanItemReads, current_missing
from service.reasons import ReasonCode
from service.refusals import Blocker, LifecycleRefused
from service.secrets import Secret
from service.start_dates import StartDateWindow


@dataclass(frozen=True)
class Activate:
    organization_id: str
    #: Today in Stockholm (what still needs an account looks back from it).
    today: date
    #: A new start date, on a reactivation only.
    start_date: date | None = None
    #: Only a reactivation after this one's deactivation (BL's callback: the merchant's own deactivation stands, and
    #: set-up continues in the wizard); anything else is refused ``NOT_DEACTIVATED_BY``.
    only_after: DeactivatedBy | None = None


@dataclass(frozen=True)
class Activated:
    #: Register-days queued for export.
    days: int


@dataclass(frozen=True)
class Deactivate:
    organization_id: str
    by: DeactivatedBy


@dataclass(frozen=True)
class Deactivated:
    by: DeactivatedBy


@dataclass(frozen=True)
class StoreVerifiedKey:
    """A key BL has just verified (``GET /details``), with the company it opens."""

    organization_id: str
    #: In :func:`service.secrets.canonical_key`'s form.
    key: Secret
    company_name: str
    company_org_number: str


@dataclass(frozen=True)
class KeyStored:
    company_org_number: str


@dataclass(frozen=True)
class SetStartDate:
    organization_id: str
    start_date: date
    #: The dates it may be (:class:`service.start_dates.StartDateWindow`).
    window: StartDateWindow


@dataclass(frozen=True)
class StartDateSet:
    #: Store-days with stored sales before the start date that no export claimed (they will not be exported).
    days: int
    first: date | None
    last: date | None


class LifecycleIntegrations(Protocol):
    def get(self, org: str, *, lock: bool = False) -> Integration | None: ...

    def plan(self, org: str) -> AccountPlan | None: ...

    def save(self, org: str, *, start_date: date | None = None) -> None:
        """Create or update the integration; only the given fields change."""
        ...

    def set_status(self, org: str, status: IntegrationStatus, by: DeactivatedBy | None = None) -> None: ...

    def store_verified_key(self, org: str, user_key: Secret, company_name: str, org_number: str) -> None: ...


class KeptFacts(Protocol):
    def forget_organization(self, org: str) -> None:
        """Forget what the pre-flight kept of the organization's companies (its next pre-flight asks BL)."""
        ...


class UnbookedSales(Protocol):
    def unbooked_before(self, org: str, day: date) -> tuple[int, date | None, date | None]:
        """(days, first, last) of stored sales before ``day`` that no export claimed."""
        ...


class OutcomeOutbox(Protocol):
    def outcome(self, outcome: Outcome) -> None: ...


class ReadinessWork(Protocol):
    """What deciding whether an integration can be activated reads."""

    @property
    def integrations(self) -> LifecycleIntegrations: ...

    @property
    def plan_items(self) -> PlanItemReads: ...


class LifecycleWork(CommandWork, ReadinessWork, Protocol):
    """What the lifecycle's handlers use of the API's unit of work (activation resumes exports: the commands'
    ports)."""

    @property
    def integrations(self) -> LifecycleIntegrations: ...

    @property
    def sales(self) -> UnbookedSales: ...

    @property
    def outbox(self) -> OutcomeOutbox: ...

    @property
    def kept_facts(self) -> KeptFacts: ...


def blockers(uow: ReadinessWork, org: str, state: Integration | None, today: date) -> list[Blocker]:
    """What keeps ``org``'s integration from being activated, in the order the wizard shows it (none: ready)."""
    found = [*_key_blockers(state)]
    if state is None or state.start_date is None:
        found.append(Blocker("START_DATE_MISSING", "Choose the date from which sales are exported."))
    plan = uow.integrations.plan(org)
    if plan is None:
        found.append(Blocker("PLAN_MISSING", "Map the accounts of the account plan."))
        return found
    if plan_problems(plan):
        found.append(Blocker("PLAN_INVALID", "The account plan has invalid fields."))
    missing = current_missing(uow.plan_items, org, plan, state, today)
    if missing:
        listed = ", ".join(
            f"{m.kind} {m.code}" + (f" at {percent(m.vat_rate)} %" if m.vat_rate is not None else "")
            for m in missing[:10]
        ) + (" …" if len(missing) > 10 else "")
        found.append(Blocker("PLAN_INCOMPLETE", f"{len(missing)} item(s) still need an account: {listed}"))
    return found


def _key_blockers(state: Integration | None) -> list[Blocker]:
    if state is None or state.key_hint is None:
        return [Blocker("KEY_MISSING", "Enter and verify the public key from Björn Lundén.")]
    if formatted_org_number(state.company_org_number) is None:
        # BL's callbacks name the company by this number (they would never match), and SIE files carry it.
        shown = clean_text(state.company_org_number or "", 20) or "none"
        return [
            Blocker(
                "COMPANY_ORG_NUMBER_INVALID",
                f"Björn Lundén gives the company the organization number {shown!r}, which is not a valid "
                "Swedish organization number: correct it in Björn Lundén, then verify the key again.",
            )
        ]
    return []


def activate(uow: LifecycleWork, command: Activate) -> Activated:
    """setup/inactive → active, and what was left undone queued (:func:`service.commands.resume_exports`); with
    ``only_after``, only an integration that deactivation left inactive."""
    org = command.organization_id
    state = uow.integrations.get(org, lock=True)
    wanted = command.only_after
    if wanted is not None and (
        state is None or state.status != IntegrationStatus.INACTIVE or state.deactivated_by != wanted
    ):
        raise LifecycleRefused("NOT_DEACTIVATED_BY", f"Only an integration {wanted.value} deactivated is reactivated.")
    if state is not None and state.status == IntegrationStatus.ACTIVE:
        raise LifecycleRefused("ALREADY_ACTIVE", "The integration is already active.")
    if command.start_date is not None:
        if state is None or state.status != IntegrationStatus.INACTIVE:
            raise LifecycleRefused(
                "START_DATE_ON_FIRST_ACTIVATION",
                "Set the start date with PUT …/start-date before the first activation.",
            )
        uow.integrations.save(org, start_date=command.start_date)
        state = uow.integrations.get(org, lock=True)
    found = blockers(uow, org, state, command.today)
    since = state.start_date if state is not None else None
    if found or since is None:  # no start date is a blocker: found is never empty then
        raise LifecycleRefused("NOT_READY", "The integration cannot be activated yet.", tuple(found))
    uow.integrations.set_status(org, IntegrationStatus.ACTIVE)
    return Activated(commands.resume_exports(uow, ResumeExports(org, since)).days)


def deactivate(uow: LifecycleWork, command: Deactivate) -> Deactivated:
    """active → inactive; deactivated by BL, the merchant reads why in a ``KEY_NOT_ACTIVATED`` outcome."""
    org = command.organization_id
    state = uow.integrations.get(org, lock=True)
    if state is None or state.status != IntegrationStatus.ACTIVE:
        status = state.status.value if state else "setup"
        raise LifecycleRefused("NOT_ACTIVE", f"Only an active integration can be deactivated (it is {status}).")
    uow.integrations.set_status(org, IntegrationStatus.INACTIVE, command.by)
    if command.by == DeactivatedBy.BL:
        uow.outbox.outcome(
            Outcome(
                organization_id=org,
                trigger=Trigger.INTEGRATION,
                status=OutcomeStatus.FAILED,
                reason_code=ReasonCode.KEY_NOT_ACTIVATED,
                details=[_DEACTIVATED_IN_BL],
            )
        )
    return Deactivated(command.by)


_DEACTIVATED_IN_BL = Detail(
    "integration", "DEACTIVATED_IN_BL", "The Open 2 integration was deactivated in Björn Lundén; exports are paused."
)


def store_verified_key(uow: LifecycleWork, command: StoreVerifiedKey) -> KeyStored:
    """The verified key stored (encrypted) with its company, and what the pre-flight kept of the organization's
    company forgotten. An active integration's new key must open the same company (deactivate to switch)."""
    org, number = command.organization_id, command.company_org_number
    state = uow.integrations.get(org, lock=True)
    if state and state.status == IntegrationStatus.ACTIVE and state.company_org_number not in (None, number):
        raise LifecycleRefused(
            "KEY_COMPANY_CHANGED",
            "This key opens another company's books; deactivate the integration before switching companies.",
        )
    uow.integrations.store_verified_key(org, command.key, command.company_name, number)
    uow.kept_facts.forget_organization(org)
    return KeyStored(number)


def set_start_date(uow: LifecycleWork, command: SetStartDate) -> StartDateSet:
    """The start date stored (in its window, :class:`~service.refusals.InputRefused` otherwise; not while active:
    reactivate with a new one instead), and the stored sales before it that no export claimed."""
    command.window.check(command.start_date)
    org = command.organization_id
    state = uow.integrations.get(org, lock=True)
    if state and state.status == IntegrationStatus.ACTIVE:
        raise LifecycleRefused(
            "INTEGRATION_ACTIVE", "Deactivate the integration, then reactivate it with a new start date."
        )
    uow.integrations.save(org, start_date=command.start_date)
    return StartDateSet(*uow.sales.unbooked_before(org, command.start_date))

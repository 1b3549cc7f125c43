"""The integration's state machine, shared by the wizard's endpoints and BL's activation callbacks:

    setup ──activate──▶ active ◀──activate── inactive
                          └──────deactivate─────▶┘

Activating needs a verified key, a start date and a complete, valid plan. Every activation queues the
closed days since the start date that are not booked yet (days closed before set-up or while inactive)
and a retry of every export left failed or posting (the consumer drops jobs while inactive), so the
service resumes exactly where it stopped.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from backoffice.errors import conflict
from backoffice.models import Blocker, Company, Integration, KeyInfo
from backoffice.plan_rules import missing_items
from mapping.money import percent
from mapping.orgnr import formatted_org_number
from mapping.plan import AccountPlan
from mapping.plan_checks import plan_problems
from mapping.text import clean_text
from service import bus, model
from service.commands import ResumeExports
from service.model import DeactivatedBy, IntegrationStatus
from storage.history import seen_items
from storage.uow import PostgresUnitOfWork

#: How far back "what still needs an account" looks at booked sales, when the start date is not older.
RECENT_DAYS = 90


def lookback(state: model.Integration | None, today: date) -> date:
    recent = today - timedelta(days=RECENT_DAYS)
    return min(state.start_date, recent) if state and state.start_date else recent


def current_missing(
    uow: PostgresUnitOfWork, org: str, plan: AccountPlan | None, state: model.Integration | None, today: date
) -> list[Any]:
    registered = [(kind, code, rates) for kind, code, _, rates in uow.registered_items.all(org)]
    return missing_items(plan, seen_items(uow.conn, org, lookback(state, today)), registered)


def blockers(uow: PostgresUnitOfWork, org: str, state: model.Integration | None, today: date) -> list[Blocker]:
    found = []
    if state is None or state.key_hint is None:
        found.append(Blocker(code="KEY_MISSING", message="Enter and verify the public key from Björn Lundén."))
    elif formatted_org_number(state.company_org_number) is None:
        # BL's callbacks name the company by this number (they would never match), and SIE files carry it.
        shown = clean_text(state.company_org_number or "", 20) or "none"
        found.append(
            Blocker(
                code="COMPANY_ORG_NUMBER_INVALID",
                message=f"Björn Lundén gives the company the organization number {shown!r}, which is not a valid "
                "Swedish organization number: correct it in Björn Lundén, then verify the key again.",
            )
        )
    if state is None or state.start_date is None:
        found.append(Blocker(code="START_DATE_MISSING", message="Choose the date from which sales are exported."))
    plan = uow.integrations.plan(org)
    if plan is None:
        found.append(Blocker(code="PLAN_MISSING", message="Map the accounts of the account plan."))
        return found
    if plan_problems(plan):
        found.append(Blocker(code="PLAN_INVALID", message="The account plan has invalid fields."))
    missing = current_missing(uow, org, plan, state, today)
    if missing:
        listed = ", ".join(
            f"{m.kind} {m.code}" + (f" at {percent(m.vat_rate)} %" if m.vat_rate is not None else "")
            for m in missing[:10]
        ) + (" …" if len(missing) > 10 else "")
        found.append(Blocker(code="PLAN_INCOMPLETE", message=f"{len(missing)} item(s) still need an account: {listed}"))
    return found


def view(uow: PostgresUnitOfWork, org: str, today: date) -> Integration:
    state = uow.integrations.get(org)
    blocking = blockers(uow, org, state, today)
    if state is None:
        return Integration(
            organization_id=org,
            status="setup",
            key=None,
            company=None,
            start_date=None,
            plan_version=None,
            activated_at=None,
            deactivated_at=None,
            deactivated_by=None,
            ready_to_activate=False,
            blocking=blocking,
        )
    company = (
        Company(name=state.company_name or "", org_number=state.company_org_number or "")
        if state.company_name is not None
        else None
    )
    key = KeyInfo(masked=state.key_hint or "****", verified_at=state.key_verified_at) if state.key_hint else None
    return Integration(
        organization_id=org,
        status=state.status.value,
        key=key,
        company=company,
        start_date=state.start_date,
        plan_version=state.plan_version,
        activated_at=state.activated_at,
        deactivated_at=state.deactivated_at,
        deactivated_by=state.deactivated_by.value if state.deactivated_by else None,
        ready_to_activate=state.status != IntegrationStatus.ACTIVE and not blocking,
        blocking=blocking,
    )


def activate(uow: PostgresUnitOfWork, org: str, today: date, start_date: date | None = None) -> int:
    """setup/inactive → active (the caller commits). Returns the number of days queued for export."""
    state = uow.integrations.get(org, lock=True)
    if state is not None and state.status == IntegrationStatus.ACTIVE:
        raise conflict("ALREADY_ACTIVE", "The integration is already active.")
    if start_date is not None:
        if state is None or state.status != IntegrationStatus.INACTIVE:
            raise conflict(
                "START_DATE_ON_FIRST_ACTIVATION",
                "Set the start date with PUT …/start-date before the first activation.",
            )
        uow.integrations.save(org, start_date=start_date)
        state = uow.integrations.get(org, lock=True)
    found = blockers(uow, org, state, today)
    since = state.start_date if state is not None else None
    if found or since is None:  # no start date is a blocker: found is never empty then
        raise conflict(
            "NOT_READY",
            "The integration cannot be activated yet.",
            details={"blocking": [b.model_dump() for b in found]},
        )
    uow.integrations.set_status(org, IntegrationStatus.ACTIVE)
    return bus.handle(uow, ResumeExports(org, since)).days


def deactivate(uow: PostgresUnitOfWork, org: str, by: DeactivatedBy) -> None:
    """active → inactive (the caller commits)."""
    state = uow.integrations.get(org, lock=True)
    if state is None or state.status != IntegrationStatus.ACTIVE:
        status = state.status.value if state else "setup"
        raise conflict("NOT_ACTIVE", f"Only an active integration can be deactivated (it is {status}).")
    uow.integrations.set_status(org, IntegrationStatus.INACTIVE, by)

"""The integration's state as the wizard shows it (the lifecycle's refusals as the API answers them:
:mod:`backoffice.refusals`).

The state machine (activate, deactivate, the start date) and what blocks activation are decided in
:mod:`service.integration_lifecycle`, reached through :mod:`service.bus` by the routes (``routes_integration.py``)
and BL's callbacks (``routes_bl.py``); what still needs an account in :mod:`service.plan_items`.
"""

from __future__ import annotations

from datetime import date

from backoffice.models_integration import Company, Integration, KeyInfo
from backoffice.models_plan import MissingItem
from backoffice.plan_rules import to_missing
from backoffice.refusals import blocker
from mapping.plan import AccountPlan
from service import model, plan_items
from service.integration_lifecycle import blockers
from service.model import IntegrationStatus
from storage.uow import PostgresUnitOfWork


def lookback(state: model.Integration | None, today: date) -> date:
    return plan_items.lookback(state, today)


def current_missing(
    uow: PostgresUnitOfWork, org: str, plan: AccountPlan | None, state: model.Integration | None, today: date
) -> list[MissingItem]:
    return to_missing(plan_items.current_missing(uow.plan_items, org, plan, state, today))


def view(uow: PostgresUnitOfWork, org: str, today: date) -> Integration:
    state = uow.integrations.get(org)
    blocking = [blocker(b) for b in blockers(uow, org, state, today)]
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

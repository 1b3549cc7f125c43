"""The integration's state machine, shared by the wizard's endpoints and BL's activation callbacks:

    setup ──activate──▶ active ◀──activate── inactive
                          └──────deactivate─────▶┘

Activating needs a verified key, a start date and a complete, valid plan. Every activation queues the
closed days since the start date that are not booked yet (days closed before set-up or while inactive)
and a retry of every export left failed or posting (the consumer drops jobs while inactive), so the
service resumes exactly where it stopped.
"""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

import psycopg

from backoffice.errors import conflict
from backoffice.models import Blocker, Company, Integration, KeyInfo
from backoffice.plan_rules import missing_items
from dayclose.db import backoffice as db
from dayclose.db.history import seen_items
from dayclose.db.integrations import get_plan
from mapping.money import percent
from mapping.plan import AccountPlan

#: How far back "what still needs an account" looks at booked sales, when the start date is not older.
RECENT_DAYS = 90


def lookback(state: db.IntegrationState | None, today: date) -> date:
    recent = today - timedelta(days=RECENT_DAYS)
    return min(state.start_date, recent) if state and state.start_date else recent


def current_missing(conn: psycopg.Connection[Any], org: str, plan: AccountPlan | None,
                    state: db.IntegrationState | None, today: date) -> list[Any]:
    registered = [(kind, code, rates) for kind, code, _, rates in db.registered_items(conn, org)]
    return missing_items(plan, seen_items(conn, org, lookback(state, today)), registered)


def blockers(conn: psycopg.Connection[Any], org: str, state: db.IntegrationState | None, today: date) -> list[Blocker]:
    found = []
    if state is None or state.key_hint is None:
        found.append(Blocker(code="KEY_MISSING", message="Enter and verify the public key from Björn Lundén."))
    if state is None or state.start_date is None:
        found.append(Blocker(code="START_DATE_MISSING", message="Choose the date from which sales are exported."))
    plan = get_plan(conn, org)
    if plan is None:
        found.append(Blocker(code="PLAN_MISSING", message="Map the accounts of the account plan."))
        return found
    if plan.problems():
        found.append(Blocker(code="PLAN_INVALID", message="The account plan has invalid fields."))
    missing = current_missing(conn, org, plan, state, today)
    if missing:
        listed = ", ".join(f"{m.kind} {m.code}" + (f" at {percent(m.vat_rate)} %" if m.vat_rate is not None else "")
                           for m in missing[:10]) + (" …" if len(missing) > 10 else "")
        found.append(Blocker(code="PLAN_INCOMPLETE", message=f"{len(missing)} item(s) still need an account: {listed}"))
    return found


def view(conn: psycopg.Connection[Any], org: str, today: date) -> Integration:
    state = db.integration_state(conn, org)
    blocking = blockers(conn, org, state, today)
    if state is None:
        return Integration(organization_id=org, status="setup", key=None, company=None, start_date=None,
                           plan_version=None, activated_at=None, deactivated_at=None, deactivated_by=None,
                           ready_to_activate=False, blocking=blocking)
    company = Company(name=state.company_name or "", org_number=state.company_org_number or "") \
        if state.company_name is not None else None
    key = KeyInfo(masked=state.key_hint or "****", verified_at=state.key_verified_at) if state.key_hint else None
    return Integration(
        organization_id=org, status=state.status, key=key, company=company,  # type: ignore[arg-type]
        start_date=state.start_date, plan_version=state.plan_version, activated_at=state.activated_at,
        deactivated_at=state.deactivated_at, deactivated_by=state.deactivated_by,  # type: ignore[arg-type]
        ready_to_activate=state.status != db.ACTIVE and not blocking, blocking=blocking,
    )


def activate(conn: psycopg.Connection[Any], org: str, vault: Any, today: date, start_date: date | None = None) -> int:
    """setup/inactive → active (call in a transaction). Returns the number of days queued for export."""
    state = db.integration_state(conn, org, lock=True)
    if state is not None and state.status == db.ACTIVE:
        raise conflict("ALREADY_ACTIVE", "The integration is already active.")
    if start_date is not None:
        if state is None or state.status != db.INACTIVE:
            raise conflict("START_DATE_ON_FIRST_ACTIVATION",
                           "Set the start date with PUT …/start-date before the first activation.")
        db.set_start_date(conn, org, vault, start_date)
        state = db.integration_state(conn, org, lock=True)
    found = blockers(conn, org, state, today)
    if found:
        raise conflict("NOT_READY", "The integration cannot be activated yet.",
                       details={"blocking": [b.model_dump() for b in found]})
    assert state is not None and state.start_date is not None
    db.set_status(conn, org, vault, db.ACTIVE)
    source = f"activation-{uuid.uuid4().hex[:12]}"
    # Jobs that ran while inactive were dropped; an export left failed or posting needs its own retry.
    db.queue_retries(conn, org, db.stores_with_open_exports(conn, org), source)
    return db.queue_unbooked_closed_days(conn, org, state.start_date, source)


def deactivate(conn: psycopg.Connection[Any], org: str, vault: Any, by: str) -> None:
    state = db.integration_state(conn, org, lock=True)
    if state is None or state.status != db.ACTIVE:
        status = state.status if state else "setup"
        raise conflict("NOT_ACTIVE", f"Only an active integration can be deactivated (it is {status}).")
    db.set_status(conn, org, vault, db.INACTIVE, by)

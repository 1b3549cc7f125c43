"""The activation wizard's steps 1–2 and the state machine: key, start date, activate, deactivate. Each route
translates the request into a command for :mod:`service.bus` and its result or refusal into the answer; the rules are
:mod:`service.bl_checks`, :mod:`service.start_dates` and :mod:`service.integration_lifecycle`."""

from __future__ import annotations

from dataclasses import astuple
from typing import Annotated

from fastapi import APIRouter, Body, Depends

from backoffice import lifecycle
from backoffice.context import Context, context, organization
from backoffice.errors import responses
from backoffice.models_integration import (
    ActivationIn,
    Integration,
    KeyIn,
    StartDateIn,
    StartDateOut,
    StateChange,
    Warning,
)
from backoffice.refusals import answered
from service import bus
from service.bl_checks import CheckAndActivate, VerifyKey
from service.integration_lifecycle import Deactivate, SetStartDate
from service.model import DeactivatedBy
from service.start_dates import StartDateWindow

router = APIRouter(prefix="/v1/organizations/{organization_id}/bjorn-lunden", tags=["integration"])
Org = Annotated[str, Depends(organization)]
Ctx = Annotated[Context, Depends(context)]


@router.get("", response_model=Integration, responses=responses(401, 403, 422))
def get_integration_state(org: Org, ctx: Ctx) -> Integration:
    """The wizard's state: status, masked key and company, start date, and what still blocks activation."""
    with ctx.uow() as uow:
        return lifecycle.view(uow, org, ctx.today())


@router.put("/key", response_model=Integration, responses=responses(400, 401, 403, 409, 422, 502, 503))
def put_key(org: Org, ctx: Ctx, body: KeyIn) -> Integration:
    """Verify the public key against BL (`GET /details`) and, only if BL accepts it, store it encrypted.

    Errors (`code`): `KEY_MALFORMED` (not a GUID), `KEY_NOT_ACTIVATED` (the Open 2 integration is not
    activated in BL), `KEY_UNKNOWN` (BL does not know the key) — all 422 on field `public_key`;
    `BL_UNAVAILABLE` (503); `KEY_COMPANY_CHANGED` (409: an active integration's key must open the same company).
    """
    with answered(bl_field="public_key"):
        bus.handle_asking(ctx.bl, ctx.uow, VerifyKey(org, body.public_key))
    with ctx.uow() as uow:
        return lifecycle.view(uow, org, ctx.today())


def _window(ctx: Context) -> StartDateWindow:
    return StartDateWindow(ctx.today(), ctx.sales_retention_days)


@router.put("/start-date", response_model=StartDateOut, responses=responses(400, 401, 403, 409, 422))
def put_start_date(org: Org, ctx: Ctx, body: StartDateIn) -> StartDateOut:
    """Sales from this business date on are exported. Not after today (Europe/Stockholm) and not before
    the sales retention period. Warns (`SALES_BEFORE_START_DATE`) when stored sales before it will not be
    exported. While active: 409 `INTEGRATION_ACTIVE` (reactivate with a new start date instead)."""
    with ctx.uow() as uow, answered():
        days, first, last = astuple(bus.handle(uow, SetStartDate(org, body.start_date, _window(ctx))))
        uow.commit()
    warnings = []
    if days:
        warnings.append(
            Warning(
                code="SALES_BEFORE_START_DATE",
                message=f"Sales of {days} day(s) from {first} to {last} are before the start date "
                "and will not be exported.",
                details={"days": str(days), "first": str(first), "last": str(last)},
            )
        )
    return StartDateOut(start_date=body.start_date, warnings=warnings)


@router.post("/activation", response_model=StateChange, responses=responses(400, 401, 403, 409, 422, 502, 503))
def post_activation(org: Org, ctx: Ctx, body: Annotated[ActivationIn | None, Body()] = None) -> StateChange:
    """setup → active, or inactive → active (optionally from a new `start_date`). Needs a verified key, a start
    date and a complete plan whose accounts exist and are open in BL (409 `NOT_READY` lists what is missing;
    409 `ALREADY_ACTIVE`). Closed days since the start date that are not booked are queued for export."""
    command = CheckAndActivate(org, _window(ctx), body.start_date if body else None)
    with answered():
        activated = bus.handle_asking(ctx.bl, ctx.uow, command)
    with ctx.uow() as uow:
        return StateChange(integration=lifecycle.view(uow, org, ctx.today()), exports_queued=activated.days)


@router.post("/deactivation", response_model=StateChange, responses=responses(401, 403, 409, 422))
def post_deactivation(org: Org, ctx: Ctx) -> StateChange:
    """active → inactive: nothing more is exported. Sales keep being stored (retention permitting) and are
    exported on reactivation. 409 `NOT_ACTIVE` otherwise."""
    with ctx.uow() as uow:
        with answered():
            bus.handle(uow, Deactivate(org, DeactivatedBy.MERCHANT))
        uow.commit()
        return StateChange(integration=lifecycle.view(uow, org, ctx.today()), exports_queued=0)

"""BL's activation callbacks: ``…/{publicKey}/ON/{orgNr}`` and ``…/{publicKey}/OFF/{orgNr}``.

BL calls these when the merchant activates or deactivates the Open 2 integration in BL. They carry no
bearer token (BL has none of ours); what authenticates them is the key itself — a secret only BL and the
merchant hold — plus the company's organization number, and then BL's own word: before changing anything
we ask BL (``GET /details``) whether the key is activated, so a forged call cannot deactivate anyone. An
unknown key or a mismatching org number gets the same 404, revealing nothing.

OFF deactivates here (``deactivated_by = BL``) and tells the merchant through an outcome event (reason
KEY_NOT_ACTIVATED, the banner's text); ON after such a deactivation reactivates and queues what was missed.
"""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, Depends, Path

from backoffice import lifecycle
from backoffice.bl import api_error
from backoffice.context import Context, context
from backoffice.errors import ApiError, conflict, responses
from backoffice.models import CallbackResult
from consumer.outcomes import Detail, Outcome
from dayclose.db import backoffice as db
from exporters.base import ExportError, MerchantActionRequired, ReasonCode

router = APIRouter(prefix="/v1/bl/activation", tags=["bl callbacks"])
Ctx = Annotated[Context, Depends(context)]
Key = Annotated[str, Path(max_length=64, pattern=r"^[0-9a-fA-F-]{1,64}$", description="The company's public key.")]
OrgNr = Annotated[str, Path(max_length=20, pattern=r"^[0-9-]{1,20}$", description="The company's org number.")]


def _digits(value: str | None) -> str:
    return re.sub(r"\D", "", value or "")


def _organizations(ctx: Context, key: str, org_nr: str) -> list[str]:
    with ctx.transaction() as conn:
        found = [org for org, number in db.organizations_with_key(conn, key, ctx.vault)
                 if _digits(number) == _digits(org_nr)]
    if not found:
        raise ApiError(404, "NOT_FOUND", "No integration for this key and organization number.")
    return found


def _activated_in_bl(ctx: Context, key: str) -> bool:
    try:
        ctx.bl.verify(key)
    except MerchantActionRequired as exc:
        if exc.reason_code in (ReasonCode.KEY_NOT_ACTIVATED, ReasonCode.KEY_UNKNOWN):
            return False
        raise api_error(exc) from None
    except ExportError as exc:
        raise api_error(exc) from None  # 503: BL retries, or the merchant's next visit sorts it out
    return True


def _off(ctx: Context, key: str, org_nr: str) -> CallbackResult:
    orgs = _organizations(ctx, key, org_nr)
    if _activated_in_bl(ctx, key):
        raise conflict("BL_STATE_DIFFERS", "BL reports the integration as activated; nothing changed.")
    result = "unchanged"
    for org in orgs:
        with ctx.transaction() as conn:
            state = db.integration_state(conn, org, lock=True)
            if state is None or state.status != db.ACTIVE:
                continue
            lifecycle.deactivate(conn, org, ctx.vault, db.BY_BL)
            ctx.events.outcome(conn, Outcome(
                organization_id=org, trigger="INTEGRATION", status="FAILED", reason_code="KEY_NOT_ACTIVATED",
                details=[Detail("integration", "DEACTIVATED_IN_BL",
                                "The Open 2 integration was deactivated in Björn Lundén; exports are paused.")],
            ))
            result = "deactivated"
    return CallbackResult(result=result)  # type: ignore[arg-type]


def _on(ctx: Context, key: str, org_nr: str) -> CallbackResult:
    orgs = _organizations(ctx, key, org_nr)
    if not _activated_in_bl(ctx, key):
        raise conflict("BL_STATE_DIFFERS", "BL reports the integration as not activated; nothing changed.")
    result = "unchanged"
    for org in orgs:
        with ctx.transaction() as conn:
            state = db.integration_state(conn, org, lock=True)
            if state is None or state.status != db.INACTIVE or state.deactivated_by != db.BY_BL:
                continue  # the merchant's own deactivation stands; set-up continues in the wizard
            try:
                lifecycle.activate(conn, org, ctx.vault, ctx.today())
            except ApiError:
                continue  # no longer ready (e.g. a new payment method): the banner tells the merchant
            result = "reactivated"
    return CallbackResult(result=result)  # type: ignore[arg-type]


def bl_activated(ctx: Ctx, public_key: Key, org_nr: OrgNr) -> CallbackResult:
    return _on(ctx, public_key, org_nr)


def bl_deactivated(ctx: Ctx, public_key: Key, org_nr: OrgNr) -> CallbackResult:
    return _off(ctx, public_key, org_nr)


_ERRORS = responses(404, 409, 422, 502, 503)

for _method in ("GET", "POST"):  # BL's documentation does not say which; both are harmless
    router.add_api_route("/{public_key}/ON/{org_nr}", bl_activated, methods=[_method], response_model=CallbackResult,
                         responses=_ERRORS, operation_id=f"bl_activated_{_method.lower()}",
                         summary="BL: the integration was activated")
    router.add_api_route("/{public_key}/OFF/{org_nr}", bl_deactivated, methods=[_method],
                         response_model=CallbackResult, responses=_ERRORS,
                         operation_id=f"bl_deactivated_{_method.lower()}",
                         summary="BL: the integration was deactivated")

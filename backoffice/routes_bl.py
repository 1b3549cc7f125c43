"""BL's activation callbacks: ``…/{publicKey}/ON/{orgNr}`` and ``…/{publicKey}/OFF/{orgNr}``.

BL calls these when the merchant activates or deactivates the Open 2 integration in BL. They carry no
bearer token (BL has none of ours), so nothing in the request is trusted to change state:

1. The integration is found by the key in its canonical form (:func:`service.secrets.canonical_key`) and by
   the organization number, which must be a valid Swedish one on both sides (ours is the number BL gave for
   the company when the key was verified). An unknown key or a mismatching number gets the same 404.
2. BL is asked (``GET /details``) with the key as **we stored it** — never the string from the path — and
   only BL's definite answer changes anything (what an answer means: :func:`service.bl_checks.activated_in_bl`):
   "not activated" (KEY_NOT_ACTIVATED, BL's 403 "out of allowed scope") for OFF, a company for ON. BL not knowing
   the stored key (KEY_UNKNOWN, BL's unstable 500) or any other BL failure leaves the state as it is: logged
   (without the key), counted (``dayclose_bl_callbacks_total{result="unconfirmed"}``), and answered 409/502/503.

OFF deactivates (``deactivated_by = BL``) and tells the merchant through an outcome event (reason
KEY_NOT_ACTIVATED, the banner's text); ON after such a deactivation reactivates and queues what was missed. Both
are decided in :mod:`service.integration_lifecycle`, reached through :mod:`service.bus`.
"""

from __future__ import annotations

from typing import Annotated

import structlog
from fastapi import APIRouter, Depends, Path

from backoffice import metrics
from backoffice.bl import api_error
from backoffice.context import Context, context
from backoffice.errors import ApiError, conflict, responses
from backoffice.models_exports import CallbackResult
from mapping.orgnr import canonical_org_number, same_organization
from service import bus
from service.bl_checks import Unconfirmed, activated_in_bl
from service.integration_lifecycle import Activate, Deactivate
from service.model import DeactivatedBy
from service.refusals import LifecycleRefused
from storage.integrations import KeyHolder

log = structlog.get_logger("dayclose.api.bl_callbacks")
router = APIRouter(prefix="/v1/bl/activation", tags=["bl callbacks"])
Ctx = Annotated[Context, Depends(context)]
Key = Annotated[str, Path(max_length=64, pattern=r"^[0-9a-fA-F-]{1,64}$", description="The company's public key.")]
OrgNr = Annotated[
    str,
    Path(
        max_length=20,
        pattern=r"^[0-9+-]{1,20}$",
        description="The company's organization number (NNNNNN-NNNN, 10 or 12 digits).",
    ),
]


def _integrations(ctx: Context, direction: str, key: str, org_nr: str) -> list[KeyHolder]:
    found: list[KeyHolder] = []
    if canonical_org_number(org_nr) is not None:
        with ctx.uow() as uow:
            found = [h for h in uow.integrations.with_key(key) if same_organization(h.company_org_number, org_nr)]
            uow.commit()  # the digests of keys stored before migration 0004, added on the way
    if not found:
        metrics.bl_callback(direction, "not_found")
        raise ApiError(404, "NOT_FOUND", "No integration for this key and organization number.")
    return found


def _activated_in_bl(ctx: Context, direction: str, holders: list[KeyHolder]) -> dict[str, bool]:
    """Organization → is the integration activated in BL, asked with each integration's stored key (one
    question per distinct key). Raises, changing nothing, unless BL answers definitely for every one."""
    answers: dict[str, bool] = {}
    for holder in holders:
        key = holder.stored_key.reveal()
        if key not in answers:
            answers[key] = _ask_bl(ctx, direction, holder)
    return {h.organization_id: answers[h.stored_key.reveal()] for h in holders}


def _ask_bl(ctx: Context, direction: str, holder: KeyHolder) -> bool:
    try:
        return activated_in_bl(ctx.bl, holder.stored_key)
    except Unconfirmed as exc:
        metrics.bl_callback(direction, "unconfirmed")
        log.warning(
            "bl_callback.unconfirmed",
            direction=direction,
            organization_id=holder.organization_id,
            reason_code=str(exc.cause.reason_code),
        )
        if exc.answered:
            raise conflict("BL_UNCONFIRMED", "Björn Lundén did not confirm the change; nothing changed.") from None
        raise api_error(exc.cause) from None  # 503: BL retries, or the merchant's next visit sorts it out


def _off(ctx: Context, key: str, org_nr: str) -> CallbackResult:
    holders = _integrations(ctx, "OFF", key, org_nr)
    activated = _activated_in_bl(ctx, "OFF", holders)
    if all(activated.values()):
        metrics.bl_callback("OFF", "state_differs")
        raise conflict("BL_STATE_DIFFERS", "BL reports the integration as activated; nothing changed.")
    result = "unchanged"
    for org in sorted(org for org, is_activated in activated.items() if not is_activated):
        with ctx.uow() as uow:
            try:
                bus.handle(uow, Deactivate(org, DeactivatedBy.BL))
            except LifecycleRefused:
                continue  # not active (any more): nothing to pause
            uow.commit()
            log.info("bl_callback.deactivated", organization_id=org)
            result = "deactivated"
    metrics.bl_callback("OFF", result)
    return CallbackResult(result=result)  # type: ignore[arg-type]


def _on(ctx: Context, key: str, org_nr: str) -> CallbackResult:
    holders = _integrations(ctx, "ON", key, org_nr)
    activated = _activated_in_bl(ctx, "ON", holders)
    if not any(activated.values()):
        metrics.bl_callback("ON", "state_differs")
        raise conflict("BL_STATE_DIFFERS", "BL reports the integration as not activated; nothing changed.")
    result = "unchanged"
    for org in sorted(org for org, is_activated in activated.items() if is_activated):
        with ctx.uow() as uow:
            try:
                bus.handle(uow, Activate(org, ctx.today(), only_after=DeactivatedBy.BL))
            except LifecycleRefused:
                # Not deactivated by BL (the merchant's own deactivation stands; set-up continues in the wizard), or
                # no longer ready (e.g. a new payment method): the banner tells the merchant.
                continue
            uow.commit()
            log.info("bl_callback.reactivated", organization_id=org)
            result = "reactivated"
    metrics.bl_callback("ON", result)
    return CallbackResult(result=result)  # type: ignore[arg-type]


def bl_activated(ctx: Ctx, public_key: Key, org_nr: OrgNr) -> CallbackResult:
    """Reactivates an integration that BL deactivated, once BL, asked with the key we stored, returns the
    company. 404 `NOT_FOUND`: no integration with this key (any letter case) and this organization number
    (a valid Swedish one, on our side too). 409 `BL_STATE_DIFFERS`: BL says not activated; 409
    `BL_UNCONFIRMED`: BL does not know the stored key; 502/503: BL failed. Nothing changes on any error."""
    return _on(ctx, public_key, org_nr)


def bl_deactivated(ctx: Ctx, public_key: Key, org_nr: OrgNr) -> CallbackResult:
    """Deactivates the integration and notifies the merchant, only once BL, asked with the key we stored,
    answers "not activated". 404 `NOT_FOUND`: no integration with this key (any letter case) and this
    organization number (a valid Swedish one, on our side too). 409 `BL_STATE_DIFFERS`: BL says activated;
    409 `BL_UNCONFIRMED`: BL does not know the stored key; 502/503: BL failed. Nothing changes on any error."""
    return _off(ctx, public_key, org_nr)


_ERRORS = responses(404, 409, 422, 502, 503)

for _method in ("GET", "POST"):  # BL's documentation does not say which; both are harmless
    router.add_api_route(
        "/{public_key}/ON/{org_nr}",
        bl_activated,
        methods=[_method],
        response_model=CallbackResult,
        responses=_ERRORS,
        operation_id=f"bl_activated_{_method.lower()}",
        summary="BL: the integration was activated",
    )
    router.add_api_route(
        "/{public_key}/OFF/{org_nr}",
        bl_deactivated,
        methods=[_method],
        response_model=CallbackResult,
        responses=_ERRORS,
        operation_id=f"bl_deactivated_{_method.lower()}",
        summary="BL: the integration was deactivated",
    )

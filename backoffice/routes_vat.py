"""The merchant's VAT reporting and the VAT-period report: what the period's Z-reports say per rate, what dayclose
booked, the difference and its causes, the momsdeklaration's boxes, and BL's own balances compared."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from backoffice.context import Context, context, organization
from backoffice.errors import ApiError, FieldError, responses
from backoffice.models_vat import VatReportingIn, VatReportingOut, VatReportOut
from mapping.vatperiods import DEFAULT_REPORTING, VatFrequency, VatPeriod, VatReporting, parse_period
from service.vat_report import vat_period_report

router = APIRouter(prefix="/v1/organizations/{organization_id}/bjorn-lunden", tags=["vat"])
Org = Annotated[str, Depends(organization)]
Ctx = Annotated[Context, Depends(context)]


@router.get("/vat-reporting", response_model=VatReportingOut, responses=responses(401, 403, 422))
def get_vat_reporting(org: Org, ctx: Ctx) -> VatReportingOut:
    """How often the merchant files the momsdeklaration (`is_set` false: not said, MONTHLY assumed)."""
    with ctx.uow() as uow:
        integration = uow.integrations.get(org)
    return VatReportingOut.of(integration.vat_reporting if integration else DEFAULT_REPORTING)


@router.put("/vat-reporting", response_model=VatReportingOut, responses=responses(400, 401, 403, 422))
def put_vat_reporting(org: Org, ctx: Ctx, body: VatReportingIn) -> VatReportingOut:
    """Set how often the merchant files the momsdeklaration: it decides which period a correction's VAT belongs to
    and when that period's return is due (a correction that changes the VAT of a period whose return is due or
    filed sends a `VAT_RETURN_CHANGED` warning). `turnover_above_40_msek` only with MONTHLY (422 otherwise)."""
    if body.turnover_above_40_msek and body.frequency != VatFrequency.MONTHLY:
        raise ApiError(
            422,
            "INVALID_REQUEST",
            "Above 40 MSEK of taxable base, VAT is reported monthly.",
            field_errors=[
                FieldError(field="turnover_above_40_msek", code="INVALID_REQUEST", message="only with MONTHLY")
            ],
        )
    reporting = VatReporting(VatFrequency(body.frequency), body.turnover_above_40_msek)
    with ctx.uow() as uow:
        uow.integrations.set_vat_reporting(org, reporting)
        uow.commit()
    return VatReportingOut.of(reporting)


@router.get("/vat-report", response_model=VatReportOut, responses=responses(401, 403, 422))
def get_vat_report(
    org: Org,
    ctx: Ctx,
    period: Annotated[
        str | None, Query(pattern=r"^20[0-9]{2}-(0[1-9]|1[0-2])$", description="A month, e.g. 2026-11.")
    ] = None,
    quarter: Annotated[str | None, Query(pattern=r"^20[0-9]{2}Q[1-4]$", description="A quarter, e.g. 2026Q4.")] = None,
    year: Annotated[str | None, Query(pattern=r"^20[0-9]{2}$", description="A calendar year, e.g. 2026.")] = None,
    compare_bl: Annotated[bool, Query(description="Compare with BL's own balances (asks BL).")] = True,
) -> VatReportOut:
    """The VAT-period report for exactly one of `period`, `quarter` or `year`: per VAT rate the gross, net and
    output VAT of the period's Z-reports against what dayclose's vouchers dated in the period book (each voucher
    listed with its BL series and number), the difference with its causes (days not booked, days failing
    reconciliation, corrections dated into or out of the period…), the momsdeklaration's boxes 05, 10, 11 and 12,
    and BL's movements on its 26xx and 30xx accounts against dayclose's (`bl.status` UNAVAILABLE when BL does not
    answer: the rest of the report stands). Amounts in öre."""
    chosen = [p for p in (period, quarter, year) if p is not None]
    if len(chosen) != 1:
        raise ApiError(
            422,
            "INVALID_REQUEST",
            "Give exactly one of `period` (YYYY-MM), `quarter` (YYYYQN) or `year` (YYYY).",
            field_errors=[FieldError(field="period", code="INVALID_REQUEST", message="exactly one of three")],
        )
    selected: VatPeriod = parse_period(chosen[0])
    result = vat_period_report(ctx.uow, ctx.ledger if compare_bl else None, org, selected, ctx.today())
    return VatReportOut.of(result)

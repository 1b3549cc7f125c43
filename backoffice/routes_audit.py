"""Corrections from BackOffice and the audit trail: who corrected a day and why; which voucher holds a
receipt; which receipts a voucher holds (kept seven years after the fiscal year, see the runbook)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query

from backoffice.context import Context, context, organization
from backoffice.errors import ApiError, conflict, responses
from backoffice.models_audit import (
    AuditReceipt,
    AuditVoucher,
    CorrectionIn,
    CorrectionOut,
    ReceiptVouchers,
    VoucherReceipts,
)
from backoffice.refusals import answered
from mapping.periods import PeriodChoice
from service import bus
from service.correction_checks import CheckAndCorrect, ExportNotFound
from service.correction_requests import NothingToCorrect
from storage import audit

router = APIRouter(prefix="/v1/organizations/{organization_id}/bjorn-lunden", tags=["audit"])
Org = Annotated[str, Depends(organization)]
Ctx = Annotated[Context, Depends(context)]


@router.post(
    "/exports/{export_id}/corrections",
    status_code=202,
    response_model=CorrectionOut,
    responses=responses(400, 401, 403, 404, 409, 422),
)
def post_correction(org: Org, ctx: Ctx, export_id: uuid.UUID, body: CorrectionIn) -> CorrectionOut:
    """Correct the booked store-day of this export: every booked voucher of that store and day is reversed,
    then the day is booked anew through the current account plan (a booked voucher is never edited).
    The reversal and the new voucher are dated where the error is found: the day the correction is made, or
    the first day after it that BL takes; with `period` ORIGINAL and the accountant's statement that the work
    on that period is not finished, the original business date (while BL takes it). Texts name the original.
    `reason`, `acting_user` and the statement are stored with the correction and shown in the history. When the
    correction changes the VAT of a period whose return is due or filed, a WARNING outcome
    `VAT_RETURN_CHANGED` follows its new voucher. 404 no such export; 409 `NOT_ACTIVE`, `NOTHING_TO_CORRECT`
    (not booked, already being corrected, or its sales purged), `ORIGINAL_PERIOD_CLOSED`; 503 BL unavailable
    (ORIGINAL only: BL is asked whether it still takes the date)."""
    period, today = PeriodChoice(body.period), ctx.today()
    command = CheckAndCorrect(
        org,
        export_id,
        reason=body.reason,
        requested_by=body.acting_user,
        via="API",
        period=period,
        statement=body.original_period_statement,
        found_on=today,
    )
    try:
        with answered():
            asked = bus.handle_asking(ctx.bl, ctx.uow, command)
    except ExportNotFound:
        raise ApiError(404, "NOT_FOUND", "No such export.") from None
    except NothingToCorrect as exc:
        raise conflict("NOTHING_TO_CORRECT", str(exc)) from None
    return CorrectionOut(
        correction_id=asked.requested.correction_id,
        store_id=asked.store_id,
        business_date=asked.business_date,
        reason=body.reason,
        requested_by=body.acting_user,
        period=period.value,
        found_on=today,
        reversal_export_ids=asked.requested.reversal_export_ids,
    )


@router.get("/audit/receipts/{receipt_id}", response_model=ReceiptVouchers, responses=responses(401, 403, 404, 422))
def receipt_vouchers(
    org: Org,
    ctx: Ctx,
    receipt_id: Annotated[str, Path(min_length=1, max_length=200, pattern=r"^[^\x00-\x1f\x7f]*$")],
) -> ReceiptVouchers:
    """Which voucher(s) in BL hold this receipt (the POS's receipt id): the original, and after a correction
    its reversal and the new voucher."""
    with ctx.uow() as uow:
        found = audit.vouchers_holding_receipt(uow.conn, org, receipt_id)
    if not found:
        raise ApiError(404, "NOT_FOUND", "No booked voucher holds this receipt.")
    return ReceiptVouchers(
        receipt_id=receipt_id, receipt_number=found[0][0], vouchers=[AuditVoucher(**_fields(v)) for _, v in found]
    )


@router.get(
    "/audit/vouchers/{series}/{number}", response_model=list[VoucherReceipts], responses=responses(401, 403, 404, 422)
)
def voucher_receipts(
    org: Org,
    ctx: Ctx,
    series: Annotated[str, Path(pattern=r"^[A-Z0-9]$")],
    number: Annotated[int, Path(ge=1, le=10**9)],
    financial_year: Annotated[
        str | None,
        Query(
            pattern=r"^[0-9]{6}$", description=("BL's fiscal year id, e.g. 202601: numbers restart every fiscal year.")
        ),
    ] = None,
) -> list[VoucherReceipts]:
    """Which receipts are in voucher `series number` (one entry per fiscal year that has such a voucher)."""
    with ctx.uow() as uow:
        vouchers = audit.vouchers_by_number(uow.conn, org, series, number, financial_year)
        result = [
            VoucherReceipts(
                **_fields(v),
                control_totals=v.control_totals,
                receipts=[
                    AuditReceipt(receipt_id=r, receipt_number=n) for r, n in audit.receipts_of(uow.conn, v.export_id)
                ],
            )
            for v in vouchers
        ]
    if not result:
        raise ApiError(404, "NOT_FOUND", "No booked voucher with this series and number.")
    return result


def _fields(v: audit.AuditVoucher) -> dict[str, Any]:
    return {k: val for k, val in v.__dict__.items() if k not in ("voucher", "control_totals")}

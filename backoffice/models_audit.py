"""Bodies of corrections and the audit trail (receipt ↔ voucher)."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, StringConstraints, model_validator

from backoffice.models import PRINTABLE, StrictIn


class CorrectionIn(StrictIn):
    reason: Annotated[
        str, StringConstraints(min_length=1, max_length=500, pattern=PRINTABLE, strip_whitespace=True)
    ] = Field(description="Why the day is corrected; kept with the correction and shown in the history.")
    acting_user: Annotated[
        str, StringConstraints(min_length=1, max_length=100, pattern=PRINTABLE, strip_whitespace=True)
    ] = Field(description="The BackOffice user asking for the correction.")
    period: Literal["FOUND", "ORIGINAL"] = Field(
        "FOUND",
        description="FOUND (default): dated the day the correction is made, where the error is found (BFN's "
        "comment to BFNAR 2013:2 p. 2.17–2.18), or the first day after it that BL takes. ORIGINAL: dated the "
        "original business date, the accountant stating that the work on that period is not finished; allowed "
        "only while BL takes vouchers on that date (409 ORIGINAL_PERIOD_CLOSED otherwise).",
    )
    original_period_statement: (
        Annotated[str, StringConstraints(min_length=1, max_length=500, pattern=PRINTABLE, strip_whitespace=True)] | None
    ) = Field(
        None,
        description="Required with ORIGINAL, refused otherwise: why the work on the original period is not "
        "finished (kept with the correction, with who asked).",
    )

    @model_validator(mode="after")
    def _statement_with_original_only(self) -> CorrectionIn:
        if (self.period == "ORIGINAL") != (self.original_period_statement is not None):
            raise ValueError("original_period_statement is required with period ORIGINAL and refused otherwise")
        return self


class CorrectionOut(BaseModel):
    correction_id: uuid.UUID
    store_id: str
    business_date: date
    reason: str
    requested_by: str
    period: Literal["FOUND", "ORIGINAL"]
    found_on: date = Field(description="The day the correction is made (Europe/Stockholm).")
    reversal_export_ids: list[uuid.UUID] = Field(
        description="One reversal per booked voucher of the store-day; the day is then booked anew."
    )


class AuditReceipt(BaseModel):
    receipt_id: str
    receipt_number: str | None


class AuditVoucher(BaseModel):
    export_id: str
    reference: str
    store_id: str
    business_date: date
    trigger: str
    series: str
    number: int
    entry_date: date
    financial_year_id: str | None
    z_report_number: int | None
    receipt_count: int
    reverses: str | None = Field(description="Set on a reversal: the export it reverses.")
    correction_id: str | None
    retain_until: date = Field(description="Kept until this date (7 years after the fiscal year's calendar year).")


class ReceiptVouchers(BaseModel):
    receipt_id: str
    receipt_number: str | None
    vouchers: list[AuditVoucher] = Field(description="Oldest first: the original, a reversal, the new voucher…")


class VoucherReceipts(AuditVoucher):
    control_totals: dict[str, Any] | None = Field(
        description="The Z-report's control totals it was reconciled against (none for a partial export)."
    )
    receipts: list[AuditReceipt]

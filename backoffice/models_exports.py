"""Bodies of the manual export, the export history, the missing days, the card's status and BL's callbacks."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field

from backoffice.models import Detail, Identifier, Status, StrictIn


class ManualExportIn(StrictIn):
    store_id: Identifier | None = Field(None, description="Only this store; omitted = every store.")


class ManualExport(BaseModel):
    request_id: uuid.UUID
    store_id: str | None
    requested_at: datetime
    state: Literal["requested", "exporting", "done"]
    coalesced: bool = Field(False, description="True when an earlier request still in progress covers this one.")


class CorrectionInfo(BaseModel):
    """Who corrected the day, when and why (Bokföringslagen 5 kap. 5 §), and how it was dated."""

    correction_id: str
    reason: str
    requested_by: str
    requested_via: Literal["API", "CLI"]
    requested_at: datetime
    entry_date: date | None = Field(description="The date of the reversal and the new voucher, once decided.")
    in_original_period: bool | None = Field(
        description="True: dated in the original business date's month (BL's accounting period)."
    )
    found_on: date | None = Field(None, description="The day the correction was made: the day the error is found.")
    requested_period: Literal["FOUND", "ORIGINAL"] | None = Field(
        None, description="Where it was asked to be dated: where the error is found, or the original period."
    )
    period_statement: str | None = Field(
        None, description="With ORIGINAL: the accountant's statement that the work on that period is not finished."
    )
    dating: Literal["ORIGINAL_DATE", "FOUND_DATE", "FIRST_OPEN_DATE", "BEFORE_ISSUE_22"] | None = Field(
        None,
        description="How the date was decided: the original date (asked for, BL's period open), the day the "
        "correction was made, the first day after it BL takes (that period locked), or by the rule before "
        "issue #22.",
    )


class Export(BaseModel):
    export_id: str
    reference: str = Field(description="Our unique reference, also in the voucher text in BL.")
    store_id: str
    store_name: str | None
    business_date: date
    trigger: str
    status: Literal["posting", "booked", "failed"]
    z_report_number: int | None
    voucher_series: str | None
    voucher_number: int | None
    total_debit_ore: int | None
    event_count: int
    attempts: int
    reason_code: str | None
    reason_details: list[Detail]
    created_at: datetime
    updated_at: datetime
    booked_at: datetime | None
    reverses: str | None
    document_status: Literal["pending", "attached", "failed"] | None = Field(
        None, description="The day report (PDF) attached to the voucher in BL."
    )
    document_id: int | None = Field(None, description="BL's id of the attached document.")
    document_name: str | None = None
    correction: CorrectionInfo | None = Field(
        None, description="Set on the reversal(s) and the new voucher of a correction."
    )


class ExportPage(BaseModel):
    items: list[Export]
    total: int
    limit: int
    offset: int


class MissingDay(BaseModel):
    store_id: str
    store_name: str | None
    business_date: date
    z_report_number: int | None
    reason_code: str
    explanation: str
    details: list[Detail]
    export_ids: list[str]


class MissingDays(BaseModel):
    since: date
    until: date
    items: list[MissingDay]


class Banner(BaseModel):
    reason_code: str
    severity: Literal["INFO", "WARNING", "ERROR"]
    title_sv: str
    message_sv: str
    title_en: str
    message_en: str
    details: list[Detail]
    affected_days: int


class StatusOut(BaseModel):
    status: Status
    banner: Banner | None
    failed_exports: int
    missing_days: int
    last_booked_at: datetime | None


class CallbackResult(BaseModel):
    result: Literal["deactivated", "reactivated", "unchanged"]

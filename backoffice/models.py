"""Request and response bodies. Strings are bounded and free of control characters at the edge, so
nothing odd reaches SQL, BL or the logs."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

_PRINTABLE = r"^[^\x00-\x1f\x7f]*$"
IDENTIFIER = r"^[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}$"

Identifier = Annotated[str, StringConstraints(pattern=IDENTIFIER)]
Code = Annotated[str, StringConstraints(min_length=1, max_length=100, pattern=_PRINTABLE)]
Account = Annotated[str, StringConstraints(max_length=32, pattern=_PRINTABLE)]
VatKey = Annotated[str, StringConstraints(pattern=r"^[0-9]{1,5}$")]
Status = Literal["setup", "active", "inactive"]
ItemKind = Literal["payment_method", "vat_rate", "product_group", "event"]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Detail(BaseModel):
    kind: str
    code: str
    message: str | None = None


# --- integration and wizard ------------------------------------------------------------------------


class KeyIn(_In):
    public_key: Annotated[str, StringConstraints(min_length=1, max_length=100, pattern=_PRINTABLE)] = Field(
        description="The public key from BL (Tilläggstjänster → Open 2 → gear icon), a GUID.")


class Company(BaseModel):
    name: str
    org_number: str


class KeyInfo(BaseModel):
    masked: str = Field(description="The key with all but its first and last characters hidden.")
    verified_at: datetime | None


class Blocker(BaseModel):
    code: Literal["KEY_MISSING", "START_DATE_MISSING", "PLAN_MISSING", "PLAN_INVALID", "PLAN_INCOMPLETE"]
    message: str


class Integration(BaseModel):
    organization_id: str
    status: Status
    key: KeyInfo | None
    company: Company | None
    start_date: date | None
    plan_version: int | None
    activated_at: datetime | None
    deactivated_at: datetime | None
    deactivated_by: Literal["MERCHANT", "BL"] | None
    ready_to_activate: bool
    blocking: list[Blocker]


class StartDateIn(_In):
    start_date: date


class Warning(BaseModel):  # noqa: A001 - a response field name, not the builtin
    code: str
    message: str
    details: dict[str, str] = Field(default_factory=dict)


class StartDateOut(BaseModel):
    start_date: date
    warnings: list[Warning]


class ActivationIn(_In):
    start_date: date | None = Field(None, description="Reactivation only: export from this date instead.")


class StateChange(BaseModel):
    integration: Integration
    exports_queued: int = Field(description="Closed days not yet booked that were queued for export.")


# --- account plan ------------------------------------------------------------------------------------


class PlanIn(_In):
    series: Annotated[str, StringConstraints(max_length=8, pattern=_PRINTABLE)] = Field(
        description="Voucher series in BL: one capital letter or digit.")
    payment_methods: dict[Code, Account] = Field(default_factory=dict, max_length=500)
    vat_rates: dict[VatKey, Account] = Field(default_factory=dict, max_length=50,
                                             description="Basis points (2500 = 25 %) → output VAT account.")
    product_groups: dict[Code, Account] = Field(default_factory=dict, max_length=2000)
    events: dict[Code, Account] = Field(default_factory=dict, max_length=50, description=(
        "TIPS, ROUNDING, CASH_DIFFERENCE, CASH_DEPOSIT, CASH_WITHDRAWAL, FLOAT_CHANGE, EXPIRED_GIFT_CARD."))
    store_cost_centres: dict[Identifier, Account] = Field(default_factory=dict, max_length=2000)
    cost_centre_on_balance_accounts: bool = False


class MissingItem(BaseModel):
    kind: ItemKind
    code: str
    source: Literal["sales", "registered", "standard"] = Field(
        description="sales: used by stored sales; registered: announced by the POS; standard: every plan needs it.")
    last_seen: date | None = Field(None, description="Last business date a sale used it.")


class MissingItems(BaseModel):
    items: list[MissingItem]


class Plan(PlanIn):
    model_config = ConfigDict(extra="ignore")
    version: int
    complete: bool
    missing: list[MissingItem]


class PlanSaved(BaseModel):
    plan: Plan
    retries_queued: int = Field(description="Stores whose failed exports this change fixes, queued for retry.")


class RegisteredItem(_In):
    code: Code
    name: Annotated[str, StringConstraints(max_length=200, pattern=_PRINTABLE)] | None = None


class RegisteredItems(_In):
    payment_methods: list[RegisteredItem] = Field(default_factory=list, max_length=500)
    product_groups: list[RegisteredItem] = Field(default_factory=list, max_length=2000)


# --- exports, history, status ------------------------------------------------------------------------


class ManualExportIn(_In):
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
        description="True: dated the original business date; false: its period was locked or its fiscal year "
                    "closed, so dated the first open date.")


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
        None, description="The day report (PDF) attached to the voucher in BL.")
    document_id: int | None = Field(None, description="BL's id of the attached document.")
    document_name: str | None = None
    correction: CorrectionInfo | None = Field(
        None, description="Set on the reversal(s) and the new voucher of a correction.")


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


# --- corrections and the audit trail -------------------------------------------------------------------


class CorrectionIn(_In):
    reason: Annotated[str, StringConstraints(min_length=1, max_length=500, pattern=_PRINTABLE,
                                             strip_whitespace=True)] = Field(
        description="Why the day is corrected; kept with the correction and shown in the history.")
    acting_user: Annotated[str, StringConstraints(min_length=1, max_length=100, pattern=_PRINTABLE,
                                                  strip_whitespace=True)] = Field(
        description="The BackOffice user asking for the correction.")


class CorrectionOut(BaseModel):
    correction_id: uuid.UUID
    store_id: str
    business_date: date
    reason: str
    requested_by: str
    reversal_export_ids: list[uuid.UUID] = Field(
        description="One reversal per booked voucher of the store-day; the day is then booked anew.")


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
    control_totals: dict[str, Any] | None = Field(description="The Z-report's control totals it was reconciled "
                                                               "against (none for a partial export).")
    receipts: list[AuditReceipt]

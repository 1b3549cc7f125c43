"""Request and response bodies. Strings are bounded and free of control characters at the edge, so
nothing odd reaches SQL, BL or the logs."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Literal

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

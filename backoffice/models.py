"""Request and response bodies. Strings are bounded and free of control characters at the edge, so
nothing odd reaches SQL, BL or the logs."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

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
        description="The public key from BL (Tilläggstjänster → Open 2 → gear icon), a GUID."
    )


class Company(BaseModel):
    name: str
    org_number: str


class KeyInfo(BaseModel):
    masked: str = Field(description="The key with all but its first and last characters hidden.")
    verified_at: datetime | None


class Blocker(BaseModel):
    code: Literal[
        "KEY_MISSING",
        "COMPANY_ORG_NUMBER_INVALID",
        "START_DATE_MISSING",
        "PLAN_MISSING",
        "PLAN_INVALID",
        "PLAN_INCOMPLETE",
    ]
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


RateKey = Annotated[str, StringConstraints(pattern=r"^[0-9]{1,5}$")]
RateValue = Annotated[int, Field(ge=0, le=10_000)]
EVENTS_DOC = (
    "TIPS, ROUNDING, CASH_SHORTAGE (kassabrist: a cost account), CASH_OVERAGE (kassaöverskott: an income "
    "account), CASH_DEPOSIT, CASH_WITHDRAWAL, FLOAT_CHANGE, EXPIRED_GIFT_CARD. CASH_DIFFERENCE (one account "
    "for both) is only kept from plans saved before format 2: a saved plan maps the two instead."
)


class PlanIn(_In):
    format_version: Literal[2] = Field(
        2,
        description=(
            "The plan's format: 2 = sales accounts per (product group, VAT rate). Format 1 (one account per product "
            "group) is not accepted; stored format 1 plans were migrated."
        ),
    )
    series: Annotated[str, StringConstraints(max_length=8, pattern=_PRINTABLE)] = Field(
        description="Voucher series in BL: one capital letter or digit."
    )
    payment_methods: dict[Code, Account] = Field(default_factory=dict, max_length=500)
    vat_rates: dict[VatKey, Account] = Field(
        default_factory=dict, max_length=50, description="Basis points (2500 = 25 %) → output VAT account."
    )
    sales_default_by_rate: dict[RateKey, Account] = Field(
        default_factory=dict,
        max_length=50,
        description=(
            "Basis points → the sales account (class 3) of every product group without an account of its own at that "
            'rate, e.g. {"2500": "3001", "1200": "3002", "600": "3003", "0": "3004"}.'
        ),
    )
    product_groups: dict[Code, dict[RateKey, Account]] = Field(
        default_factory=dict,
        max_length=2000,
        description=(
            "Product group → {basis points → sales account}: the group's own account at a rate, overriding the rate's "
            'default (e.g. {"coffee": {"600": "3003", "1200": "3002"}}).'
        ),
    )
    events: dict[Code, Account] = Field(default_factory=dict, max_length=50, description=EVENTS_DOC)
    single_purpose_groups: list[Code] = Field(
        default_factory=list,
        max_length=200,
        description=(
            "Product groups that are single-purpose gift cards (enfunktionsvoucher): sold with VAT to a liability "
            "account (class 2)."
        ),
    )
    single_purpose_methods: dict[Code, RateValue] = Field(
        default_factory=dict,
        max_length=200,
        description=(
            "Payment methods that redeem single-purpose gift cards → the cards' VAT rate (basis points): the "
            "method's account (a liability) is debited without the VAT, which was booked when the card was sold."
        ),
    )
    vat_policy: Literal["EXACT", "Z_REPORT"] = Field(
        "EXACT",
        description=(
            "EXACT: the day's VAT is Σ line VAT and the Z-report must agree to the öre. Z_REPORT: book the Z-report's "
            "VAT per rate when it is within ½ öre per line at that rate of Σ line VAT (rounding moves between that "
            "rate's sales and VAT accounts only)."
        ),
    )
    store_cost_centres: dict[Identifier, Account] = Field(default_factory=dict, max_length=2000)
    cost_centre_on_balance_accounts: bool = False
    invoice_sales: Literal["OWN_VOUCHER", "BOOKED_ELSEWHERE"] = Field(
        "OWN_VOUCHER",
        description=(
            "Sales paid by invoice (receipts that name their customer and invoice): OWN_VOUCHER books each as a "
            "voucher of its own, with the customer and invoice number in its text (the default: nothing booked before "
            "stops being booked); BOOKED_ELSEWHERE leaves them to the POS's or BL's invoicing, which books the "
            "invoice. Either way they are kept out of the day's joint voucher and still count in the Z-report's totals."
        ),
    )
    register_cash_accounts: dict[Identifier, Account] = Field(
        default_factory=dict,
        max_length=2000,
        description=(
            "Register (till) id → its own cash account (class 1, e.g. 1911, 1912 under 1910): its cash takings, cash "
            "movements and cash differences are booked there. A register without one uses the cash method's account."
        ),
    )


class MissingItem(BaseModel):
    kind: ItemKind
    code: str = Field(description="The payment method, VAT rate (basis points), product group or event.")
    vat_rate: int | None = Field(
        None,
        description=(
            "For a product group: the VAT rate (basis points) it needs an account at; null when the POS registered "
            "the group without saying at which rates it sells it."
        ),
    )
    source: Literal["sales", "registered", "standard"] = Field(
        description="sales: used by stored sales; registered: announced by the POS; standard: every plan needs it."
    )
    last_seen: date | None = Field(None, description="Last business date a sale used it.")


class MissingItems(BaseModel):
    items: list[MissingItem]


class ReviewItem(BaseModel):
    field: str = Field(description="Dotted path of the field, e.g. `product_groups.coffee.600`.")
    message: str


class ProductGroupRate(BaseModel):
    """One row of the wizard's "Varugrupper" step: a product group at a VAT rate it is sold at."""

    product_group: str
    vat_rate: int = Field(description="Basis points.")
    account: str | None = Field(description="The sales account it is booked on, or null: it still needs one.")
    account_source: Literal["product_group", "default", "missing"] = Field(
        description="product_group: the group's own account at the rate; default: the rate's default account."
    )
    seen_in: list[Literal["sales", "registered", "plan"]]
    last_seen: date | None = None
    needs_review: bool = Field(False, description="Migrated from a format 1 plan: check it and save the plan.")


class Plan(PlanIn):
    model_config = ConfigDict(extra="ignore")
    version: int = Field(description="How many times the plan was saved (0 before the first save).")
    complete: bool
    missing: list[MissingItem]
    needs_review: list[ReviewItem] = Field(
        default_factory=list,
        description=(
            "What the migration to format 2 could not decide for the merchant (each product group's account at each "
            "rate it was sold at; a single CASH_DIFFERENCE account). Shown until the plan is saved again."
        ),
    )
    product_group_rates: list[ProductGroupRate] = Field(
        default_factory=list,
        description=(
            "Every (product group, VAT rate) seen in sales, registered by the POS or mapped, and its account."
        ),
    )


class PlanSaved(BaseModel):
    plan: Plan
    retries_queued: int = Field(description="Stores whose failed exports this change fixes, queued for retry.")


class RegisteredItem(_In):
    code: Code
    name: Annotated[str, StringConstraints(max_length=200, pattern=_PRINTABLE)] | None = None
    vat_rates: list[RateValue] | None = Field(
        None,
        max_length=10,
        description=(
            "Product groups: the VAT rates (basis points) the POS sells the group at, so each gets a row in the plan."
        ),
    )


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


# --- corrections and the audit trail -------------------------------------------------------------------


class CorrectionIn(_In):
    reason: Annotated[
        str, StringConstraints(min_length=1, max_length=500, pattern=_PRINTABLE, strip_whitespace=True)
    ] = Field(description="Why the day is corrected; kept with the correction and shown in the history.")
    acting_user: Annotated[
        str, StringConstraints(min_length=1, max_length=100, pattern=_PRINTABLE, strip_whitespace=True)
    ] = Field(description="The BackOffice user asking for the correction.")
    period: Literal["FOUND", "ORIGINAL"] = Field(
        "FOUND",
        description="FOUND (default): dated the day the correction is made, where the error is found (BFN's "
        "comment to BFNAR 2013:2 p. 2.17–2.18), or the first day after it that BL takes. ORIGINAL: dated the "
        "original business date, the accountant stating that the work on that period is not finished; allowed "
        "only while BL takes vouchers on that date (409 ORIGINAL_PERIOD_CLOSED otherwise).",
    )
    original_period_statement: (
        Annotated[str, StringConstraints(min_length=1, max_length=500, pattern=_PRINTABLE, strip_whitespace=True)]
        | None
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

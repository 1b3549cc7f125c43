"""Bodies of the account plan (the wizard's step 3), what still needs an account and what the POS registers."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from backoffice.models import PRINTABLE, Account, Code, Identifier, ItemKind, StrictIn, VatKey

RateKey = Annotated[str, StringConstraints(pattern=r"^[0-9]{1,5}$")]
RateValue = Annotated[int, Field(ge=0, le=10_000)]
EVENTS_DOC = (
    "TIPS, ROUNDING, CASH_SHORTAGE (kassabrist: a cost account), CASH_OVERAGE (kassaöverskott: an income "
    "account), CASH_DEPOSIT, CASH_WITHDRAWAL, FLOAT_CHANGE, EXPIRED_GIFT_CARD. CASH_DIFFERENCE (one account "
    "for both) is only kept from plans saved before format 2: a saved plan maps the two instead."
)


class PlanIn(StrictIn):
    format_version: Literal[2] = Field(
        2,
        description=(
            "The plan's format: 2 = sales accounts per (product group, VAT rate). Format 1 (one account per product "
            "group) is not accepted; stored format 1 plans were migrated."
        ),
    )
    series: Annotated[str, StringConstraints(max_length=8, pattern=PRINTABLE)] = Field(
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


class RegisteredItem(StrictIn):
    code: Code
    name: Annotated[str, StringConstraints(max_length=200, pattern=PRINTABLE)] | None = None
    vat_rates: list[RateValue] | None = Field(
        None,
        max_length=10,
        description=(
            "Product groups: the VAT rates (basis points) the POS sells the group at, so each gets a row in the plan."
        ),
    )


class RegisteredItems(StrictIn):
    payment_methods: list[RegisteredItem] = Field(default_factory=list, max_length=500)
    product_groups: list[RegisteredItem] = Field(default_factory=list, max_length=2000)

"""The merchant's account plan: which BAS account every payment method, VAT rate, product group
(per VAT rate) and other event is booked on, optional cost centres per store, and the voucher series.

Sales are credited to an account chosen per **(product group, VAT rate)**: a product group is sold at
several rates (6 % take-away and 12 % eat-in coffee) and each sales account belongs to one rate
(BAS 3001/3002/3003/3004 = 25/12/6 %/exempt), so a sales account's net × its rate equals the VAT
booked for that rate. Resolution: the group's own account at that rate (an override), else the
rate's default sales account, else the pair is missing.

A plan may be stored half-filled while the merchant works through BackOffice, so building one
never raises; :func:`mapping.plan_checks.plan_problems` lists per-field problems for the form, and
:func:`mapping.totals_booking.missing_for` lists what a given day needs that the plan lacks. Both build on
this module, which imports neither.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import TypeVar

from mapping.errors import MissingItem, split_product_group_code
from mapping.fields import MAX_VAT_RATE_BP
from mapping.sales import CASH_METHOD, DEPOSIT, FLOAT_CHANGE, TIP_PAYOUT, WITHDRAWAL
from mapping.voucher import ACCOUNT_PATTERN, SERIES_PATTERN

#: The stored plan's format (``"version"`` in its JSON): 2 = sales accounts per (product group, VAT rate).
PLAN_FORMAT = 2


class Event(StrEnum):
    """Other events (övriga händelser) and what their account means."""

    TIPS = "TIPS"  # liability to staff for card tips (credit); debited when tips are paid out of the till
    ROUNDING = "ROUNDING"  # öresavrundning, e.g. 3740
    CASH_SHORTAGE = "CASH_SHORTAGE"  # kassabrist at day close: a cost account, debited
    CASH_OVERAGE = "CASH_OVERAGE"  # kassaöverskott at day close: an income account, credited
    CASH_DIFFERENCE = "CASH_DIFFERENCE"  # v1 plans only: one account for both; serves until the two above are set
    CASH_DEPOSIT = "CASH_DEPOSIT"  # where cash put into the register comes from, e.g. 1930
    CASH_WITHDRAWAL = "CASH_WITHDRAWAL"  # where cash taken out goes, e.g. 1930 / kassaöverföring
    FLOAT_CHANGE = "FLOAT_CHANGE"  # counter account when the change float (växelkassa) changes
    EXPIRED_GIFT_CARD = "EXPIRED_GIFT_CARD"  # revenue from expired multi-purpose gift cards


#: The events a new plan maps (CASH_DIFFERENCE is only kept from v1 plans).
CURRENT_EVENTS = tuple(e for e in Event if e is not Event.CASH_DIFFERENCE)

#: The account that takes the other side of a cash movement (a tip payout settles the tip liability).
MOVEMENT_EVENT = {
    DEPOSIT: Event.CASH_DEPOSIT,
    WITHDRAWAL: Event.CASH_WITHDRAWAL,
    FLOAT_CHANGE: Event.FLOAT_CHANGE,
    TIP_PAYOUT: Event.TIPS,
}


class VatPolicy(StrEnum):
    """Which VAT the day-close voucher books per rate (the rules: :mod:`mapping.totals_closing`)."""

    EXACT = "EXACT"  # Σ line VAT; the Z-report must agree to the öre
    Z_REPORT = "Z_REPORT"  # the Z-report's VAT, when within ½ öre per line of Σ line VAT


class InvoiceSales(StrEnum):
    """Who books a sale paid by invoice (a receipt that names its customer and invoice)."""

    #: We do, as a voucher of its own per invoice (customer and invoice number in its text): the default, so no sale
    #: that was booked before invoices were told apart stops being booked.
    OWN_VOUCHER = "OWN_VOUCHER"
    #: The POS's invoicing (or BL's) books the invoice: kept out of our vouchers (still in the Z-report's totals).
    BOOKED_ELSEWHERE = "BOOKED_ELSEWHERE"


K = TypeVar("K")
V = TypeVar("V")


def _frozen(mapping: Mapping[K, V]) -> Mapping[K, V]:
    return MappingProxyType(dict(mapping))


@dataclass(frozen=True)
class AccountPlan:
    """One organization's mapping to accounts. All accounts are 4-digit BAS numbers as strings.

    ``vat_rates`` maps basis points (2500 = 25 %) to the output VAT account; a 0 % rate books no VAT
    and needs no account. ``product_groups`` maps a group to {rate: sales account} (overrides),
    ``sales_default_by_rate`` maps a rate to the sales account of every group without an override.
    ``events`` maps :class:`Event` codes to accounts. Cost centres go on result rows (accounts
    3xxx–8xxx) only, unless ``cost_centre_on_balance_accounts``: cash and receivables are not
    followed up per store in Swedish practice.

    Single-purpose gift cards (enfunktionsvoucher): a group in ``single_purpose_groups`` is sold
    with VAT at issue to a liability account (class 2); a payment method in
    ``single_purpose_methods`` (method → the card's VAT rate) redeems it without booking VAT again.
    """

    organization_id: str
    series: str
    payment_methods: Mapping[str, str] = field(default_factory=dict)
    vat_rates: Mapping[int, str] = field(default_factory=dict)
    product_groups: Mapping[str, Mapping[int, str]] = field(default_factory=dict)
    sales_default_by_rate: Mapping[int, str] = field(default_factory=dict)
    events: Mapping[str, str] = field(default_factory=dict)
    store_cost_centres: Mapping[str, str] = field(default_factory=dict)
    cost_centre_on_balance_accounts: bool = False
    single_purpose_groups: frozenset[str] = frozenset()
    single_purpose_methods: Mapping[str, int] = field(default_factory=dict)
    vat_policy: str = VatPolicy.EXACT.value
    #: Optional cash account per register (sub-accounts of 1910 such as 1911, 1912): its cash takings, movements
    #: and cash differences; a register without one uses the cash payment method's account.
    register_cash_accounts: Mapping[str, str] = field(default_factory=dict)
    #: Who books a sale paid by invoice (:class:`InvoiceSales`).
    invoice_sales: str = InvoiceSales.OWN_VOUCHER.value

    def __post_init__(self) -> None:
        # Copied and read-only, so a plan cannot change under a running aggregation.
        for name in (
            "payment_methods",
            "vat_rates",
            "sales_default_by_rate",
            "events",
            "store_cost_centres",
            "single_purpose_methods",
            "register_cash_accounts",
        ):
            object.__setattr__(self, name, _frozen(getattr(self, name)))
        object.__setattr__(
            self,
            "product_groups",
            _frozen(
                {g: _frozen(rates) if isinstance(rates, Mapping) else rates for g, rates in self.product_groups.items()}
            ),
        )
        object.__setattr__(self, "single_purpose_groups", frozenset(self.single_purpose_groups))

    # --- resolution --------------------------------------------------------------------------------

    def sales_account(self, group: str, rate: int) -> str | None:
        """The account net sales of ``group`` at ``rate`` are credited to: override, else the rate's default."""
        own = self.product_groups.get(group)
        if isinstance(own, Mapping) and rate in own:
            return own[rate]
        return self.sales_default_by_rate.get(rate)

    def event_account(self, event: Event) -> str | None:
        """An event's account; a cash shortage or overage falls back to a v1 plan's single CASH_DIFFERENCE."""
        account = self.events.get(event.value)
        if account is None and event in (Event.CASH_SHORTAGE, Event.CASH_OVERAGE):
            return self.events.get(Event.CASH_DIFFERENCE.value)
        return account

    def cash_account(self, register_id: str) -> str | None:
        """The account a register's cash is booked on: its own, else the cash payment method's."""
        return self.register_cash_accounts.get(register_id) or self.payment_methods.get(CASH_METHOD)

    def cost_centre_for(self, store_id: str) -> str | None:
        return self.store_cost_centres.get(store_id)

    def mapped_accounts(self) -> frozenset[str]:
        """Every account the plan maps: the accounts any of its vouchers can book on."""
        sales = (a for rates in self.product_groups.values() if isinstance(rates, Mapping) for a in rates.values())
        return frozenset(
            (
                *self.payment_methods.values(),
                *self.vat_rates.values(),
                *sales,
                *self.sales_default_by_rate.values(),
                *self.events.values(),
            )
        )

    def maps(self, item: MissingItem) -> bool:
        """Whether the plan has an account for ``item`` (a cash shortage/overage counts a v1 CASH_DIFFERENCE)."""
        if item.kind == "payment_method":
            return item.code in self.payment_methods
        if item.kind == "vat_rate":
            return item.code.isdigit() and int(item.code) in self.vat_rates
        if item.kind == "product_group":
            group, rate = split_product_group_code(item.code)
            if rate is None:  # a code from before plans had rates: any account for the group will do
                return group in self.product_groups or bool(self.sales_default_by_rate)
            return self.sales_account(group, rate) is not None
        return item.code in Event.__members__ and self.event_account(Event(item.code)) is not None


_KIND_ORDER = {"payment_method": 0, "vat_rate": 1, "product_group": 2, "event": 3}


def sort_missing(items: Iterable[MissingItem]) -> tuple[MissingItem, ...]:
    """Stable order for errors and forms: by kind, VAT rates numerically, groups by name then rate."""

    def key(item: MissingItem) -> tuple[int, str, int]:
        if item.kind == "vat_rate":
            return (_KIND_ORDER[item.kind], "", int(item.code) if item.code.isdigit() else -1)
        if item.kind == "product_group":
            group, rate = split_product_group_code(item.code)
            return (_KIND_ORDER[item.kind], group, -1 if rate is None else rate)
        return (_KIND_ORDER[item.kind], item.code, 0)

    return tuple(sorted(set(items), key=key))


def is_valid_rate(rate: object) -> bool:
    return not isinstance(rate, bool) and isinstance(rate, int) and 0 <= rate <= MAX_VAT_RATE_BP


def is_account(account: object) -> bool:
    return isinstance(account, str) and ACCOUNT_PATTERN.match(account) is not None


def is_series(series: object) -> bool:
    return isinstance(series, str) and SERIES_PATTERN.match(series) is not None

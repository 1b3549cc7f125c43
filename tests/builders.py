"""Builders for sales, batches and account plans, so tests read like the receipts they describe.

Amounts: a ``str`` is SEK ("125.00"), an ``int`` is öre. Importable from any test folder as
``from tests.builders import receipt, plan, ...`` (pytest runs with ``pythonpath = ["."]``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from itertools import count

from msgspec.structs import replace as replace_struct

from mapping.money import format_sek, ore, parse_sek, round_half_up_ore
from mapping.plan import AccountPlan
from mapping.register_day import CashMovement, DayClose, GiftCardExpiry
from mapping.sales import Payment, Receipt, ReceiptLine
from mapping.voucher import Voucher
from tests.unit.mapping.receipts_path import SalesBatch

DAY = date(2026, 4, 1)
STORE = "store-1"
Amount = str | int

_ids = count(1)


def amount(value: Amount) -> int:
    """SEK text → öre; int is already öre."""
    return parse_sek(value) if isinstance(value, str) else ore(value)


def vat_included(gross: Amount, rate: int) -> int:
    """The VAT inside a VAT-inclusive ``gross`` at ``rate`` basis points, rounded half up to öre."""
    return round_half_up_ore(Decimal(amount(gross)) * rate / (10_000 + rate))


def line(
    group: str = "goods",
    rate: int = 2500,
    gross: Amount = "125.00",
    vat: Amount | None = None,
    discount: Amount = 0,
) -> ReceiptLine:
    """A line; VAT defaults to what is inside ``gross`` at ``rate``."""
    gross_ore = amount(gross)
    vat_ore = vat_included(gross_ore, rate) if vat is None else amount(vat)
    return ReceiptLine(group, rate, gross_ore, vat_ore, amount(discount))


def pay(method: str, value: Amount) -> Payment:
    return Payment(method, amount(value))


def receipt(
    *lines: ReceiptLine,
    payments: tuple[Payment, ...] | None = None,
    method: str = "card",
    kind: str = "sale",
    tip: Amount = 0,
    rounding: Amount = 0,
    receipt_id: str | None = None,
    store: str = STORE,
    day: date = DAY,
    z: int | None = None,
) -> Receipt:
    """A receipt; without ``payments`` it is paid in full (incl. tip and rounding) by ``method``."""
    lines = lines or (line(),)
    tip_ore, rounding_ore = amount(tip), amount(rounding)
    if payments is None:
        payments = (Payment(method, sum(x.gross_ore for x in lines) + tip_ore + rounding_ore),)
    return Receipt(
        receipt_id=receipt_id or f"r{next(_ids)}",
        store_id=store,
        business_date=day,
        kind=kind,
        lines=tuple(lines),
        payments=payments,
        tip_ore=tip_ore,
        rounding_ore=rounding_ore,
        z_report_number=z,
    )


def returned(sale: Receipt, receipt_id: str | None = None) -> Receipt:
    """The return of ``sale``: same amounts as printed, kind "return"."""
    return replace_struct(sale, kind="return", receipt_id=receipt_id or f"r{next(_ids)}")


def cash_movement(kind: str, value: Amount, *, store: str = STORE, day: date = DAY) -> CashMovement:
    return CashMovement(f"m{next(_ids)}", store, day, kind, amount(value))


def gift_card_expiry(
    value: Amount, *, store: str = STORE, day: date = DAY, method: str = "gift_card", rate: int | None = None
) -> GiftCardExpiry:
    """An expired balance: a multi-purpose card (``rate`` None) or a single-purpose card sold at ``rate``."""
    card = {} if (method, rate) == ("gift_card", None) else {"method": method, "vat_rate": rate}  # (issue #21)
    return GiftCardExpiry(f"g{next(_ids)}", store, day, amount(value), **card)  # type: ignore[arg-type]


def day_close(
    counted: Amount = 0, expected: Amount = 0, *, z: int = 1, store: str = STORE, day: date = DAY
) -> DayClose:
    return DayClose(store, day, z, amount(counted), amount(expected))


def batch(
    *items: Receipt | CashMovement | GiftCardExpiry,
    close: DayClose | None = None,
    store: str = STORE,
    day: date = DAY,
) -> SalesBatch:
    """A batch for ``store`` on ``day``, sorting ``items`` into their places."""
    return SalesBatch(
        store_id=store,
        business_date=day,
        receipts=tuple(i for i in items if isinstance(i, Receipt)),
        cash_movements=tuple(i for i in items if isinstance(i, CashMovement)),
        gift_card_expiries=tuple(i for i in items if isinstance(i, GiftCardExpiry)),
        day_close=close,
    )


STANDARD_PAYMENT_METHODS: Mapping[str, str] = {
    "cash": "1910",
    "card": "1580",
    "swish": "1930",
    "gift_card": "2421",
    "invoice": "1510",
}
STANDARD_VAT_RATES: Mapping[int, str] = {2500: "2611", 1200: "2621", 600: "2631"}
#: Sales accounts per (product group, VAT rate): BAS 3001/3002/3003/3004 are 25/12/6 %/exempt.
STANDARD_PRODUCT_GROUPS: Mapping[str, Mapping[int, str]] = {
    "goods": {2500: "3001", 1200: "3002", 600: "3003", 0: "3004"},
    "restaurant": {1200: "3002"},
    "food": {600: "3003", 1200: "3002"},
    "books": {600: "3003", 0: "3004"},
    "cafe": {600: "3003", 1200: "3002"},
    "gift_card": {0: "2421"},
}
STANDARD_EVENTS: Mapping[str, str] = {
    "TIPS": "2890",
    "ROUNDING": "3740",
    "CASH_SHORTAGE": "6990",
    "CASH_OVERAGE": "3999",
    "CASH_DEPOSIT": "1930",
    "CASH_WITHDRAWAL": "1930",
    "FLOAT_CHANGE": "1930",
    "EXPIRED_GIFT_CARD": "3990",
}
ALL_RATES = (2500, 1200, 600, 0)


def _rates(accounts: str | Mapping[int, str]) -> dict[int, str]:
    """A group's accounts per rate; a bare income account means "at every rate", a liability "at 0 %"."""
    if isinstance(accounts, str):
        return {rate: accounts for rate in ALL_RATES} if accounts[0] == "3" else {0: accounts}
    return {int(rate): account for rate, account in accounts.items()}


def plan(
    *,
    series: str = "K",
    payment_methods: Mapping[str, str] | None = None,
    vat_rates: Mapping[int, str] | None = None,
    product_groups: Mapping[str, str | Mapping[int, str]] | None = None,
    events: Mapping[str, str] | None = None,
    cost_centres: Mapping[str, str] | None = None,
    cost_centre_on_balance_accounts: bool = False,
    sales_defaults: Mapping[int, str] | None = None,
    single_purpose_groups: tuple[str, ...] = (),
    single_purpose_methods: Mapping[str, int] | None = None,
    vat_policy: str = "EXACT",
    without: tuple[tuple[str, str | int], ...] = (),
) -> AccountPlan:
    """A complete BAS-style plan; override sections, or drop entries with ``without=(("events", "TIPS"),)``
    (a whole product group with ``("product_groups", "books")``, one rate with ``("product_groups", "books@600")``)."""
    groups = {str(g): _rates(a) for g, a in (product_groups or STANDARD_PRODUCT_GROUPS).items()}
    sections: dict[str, dict[str | int, str]] = {
        "payment_methods": dict(payment_methods or STANDARD_PAYMENT_METHODS),
        "vat_rates": dict(vat_rates or STANDARD_VAT_RATES),
        "events": dict(events or STANDARD_EVENTS),
        "sales_defaults": dict(sales_defaults or {}),
    }
    for section, key in without:
        if section != "product_groups":
            del sections[section][key]
        elif "@" in str(key):
            group, rate = str(key).rsplit("@", 1)
            del groups[group][int(rate)]
        else:
            del groups[str(key)]
    return AccountPlan(
        organization_id="org-1",
        series=series,
        payment_methods={str(k): v for k, v in sections["payment_methods"].items()},
        vat_rates={int(k): v for k, v in sections["vat_rates"].items()},
        product_groups=groups,
        sales_default_by_rate={int(k): v for k, v in sections["sales_defaults"].items()},
        events={str(k): v for k, v in sections["events"].items()},
        store_cost_centres=dict(cost_centres or {}),
        cost_centre_on_balance_accounts=cost_centre_on_balance_accounts,
        single_purpose_groups=frozenset(single_purpose_groups),
        single_purpose_methods=dict(single_purpose_methods or {}),
        vat_policy=vat_policy,
    )


def rows_of(voucher: Voucher) -> list[tuple[str, str, str | None]]:
    """A voucher's rows as (account, signed SEK text, cost centre), for hand-written expectations."""
    return [(r.account, format_sek(r.amount_ore), r.cost_centre) for r in voucher.rows]


def entries_of(voucher: Voucher) -> list[tuple[str, str, str | None]]:
    """A voucher's rows as (account, signed SEK text, row text): one row per account and kind of event."""
    return [(r.account, format_sek(r.amount_ore), r.text) for r in voucher.rows]

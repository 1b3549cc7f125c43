"""The rest of a register's day besides its receipts (:mod:`mapping.sales`): cash put in or taken out of the
till, gift card balances that expired, the Z-report that closes the day, and the check that a batch of items is one
register-day, each once: what one voucher books.

Frozen dataclasses (rarer than receipts, so plain Python checks); every amount is integer öre.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from mapping.errors import InvalidSalesDataError
from mapping.fields import MAX_VAT_RATE_BP
from mapping.fields import amount as _amount
from mapping.fields import business_date as _business_date
from mapping.fields import code as _code
from mapping.fields import place as _place
from mapping.fields import register as _register
from mapping.money import vat_included
from mapping.sales import CASH_MOVEMENT_KINDS, CASH_OUT_KINDS, FLOAT_CHANGE, GIFT_CARD_METHOD, Receipt


@dataclass(frozen=True, slots=True)
class CashMovement:
    """Cash put into or taken out of the register outside a sale.

    ``deposit``, ``withdrawal`` and ``tip_payout`` carry a positive amount; ``float_change`` is
    signed (positive = the change float in the drawer grew). A tip payout is card tips handed to
    staff in cash: it settles the tip liability and takes cash out of the till.
    """

    movement_id: str
    store_id: str
    business_date: date
    kind: str
    amount_ore: int
    register_id: str = ""

    def __post_init__(self) -> None:
        _code(self.movement_id, "movement_id")
        _register(self.register_id, "movement")
        _code(self.store_id, "store_id")
        _business_date(self.business_date, f"cash movement {self.movement_id}")
        if self.kind not in CASH_MOVEMENT_KINDS:
            raise InvalidSalesDataError(f"cash movement {self.movement_id}: unknown kind {self.kind!r}")
        amount = _amount(self.amount_ore, "cash movement amount_ore")
        if self.kind != FLOAT_CHANGE and amount <= 0:
            raise InvalidSalesDataError(f"cash movement {self.movement_id}: {self.kind} must be positive")

    @property
    def cash_effect_ore(self) -> int:
        """How much this movement changes the cash in the register (+ in, − out)."""
        return -self.amount_ore if self.kind in CASH_OUT_KINDS else self.amount_ore


@dataclass(frozen=True, slots=True)
class GiftCardExpiry:
    """Unused value on a gift card that expired: leaves the card's liability, becomes revenue.

    ``method`` is the card's type: the payment method that redeems it (its account is the liability).
    ``vat_rate`` is None for a multi-purpose card (flerfunktionsvoucher: no VAT at issue, the whole balance
    becomes revenue); for a single-purpose card (enfunktionsvoucher) it is the rate the card was sold at, whose
    VAT was booked then: only the balance net of that VAT leaves the liability.
    """

    expiry_id: str
    store_id: str
    business_date: date
    amount_ore: int
    method: str = GIFT_CARD_METHOD
    vat_rate: int | None = None
    register_id: str = ""

    def __post_init__(self) -> None:
        _code(self.expiry_id, "expiry_id")
        _register(self.register_id, "expiry")
        _code(self.store_id, "store_id")
        _code(self.method, f"gift card expiry {self.expiry_id} payment method")
        _business_date(self.business_date, f"gift card expiry {self.expiry_id}")
        if _amount(self.amount_ore, "gift card expiry amount_ore") <= 0:
            raise InvalidSalesDataError(f"gift card expiry {self.expiry_id}: amount must be positive")
        if self.vat_rate is not None and not 0 <= _amount(self.vat_rate, "vat_rate") <= MAX_VAT_RATE_BP:
            raise InvalidSalesDataError(f"gift card expiry {self.expiry_id}: vat_rate must be 0..10000 basis points")

    @property
    def vat_ore(self) -> int:
        """The VAT the balance holds, booked when a single-purpose card was sold (0 for a multi-purpose card)."""
        return vat_included(self.amount_ore, self.vat_rate) if self.vat_rate else 0


@dataclass(frozen=True, slots=True)
class DayClose:
    """The Z-report: closes the business day. Counted − expected cash is the cash difference.

    ``cash_reported`` is False when the Z-report carries no cash count (then both amounts are 0 and
    the cash drawer is not reconciled). ``expected_cash_ore`` is what the till should hold at close:
    ``opening_float_ore`` + cash payments − cash refunds + deposits − withdrawals ± float changes −
    tip payouts, for the whole business day. ``gift_card_expired_total_ore`` is the Z-report's total
    of expired gift card balances for the day, or None when it does not report one.
    """

    store_id: str
    business_date: date
    z_report_number: int
    counted_cash_ore: int
    expected_cash_ore: int
    opening_float_ore: int = 0
    cash_reported: bool = True
    gift_card_expired_total_ore: int | None = None
    #: The register this Z-report closes ("": the store's one register).
    register_id: str = ""
    #: False when the Z-report gave no opening float (then 0, and the till's cash chain cannot be checked).
    opening_float_reported: bool = True

    def __post_init__(self) -> None:
        _code(self.store_id, "store_id")
        _register(self.register_id, "day close")
        _business_date(self.business_date, "day close")
        if _amount(self.z_report_number, "z_report_number") < 0:
            raise InvalidSalesDataError("z_report_number must not be negative")
        _amount(self.counted_cash_ore, "counted_cash_ore")
        _amount(self.expected_cash_ore, "expected_cash_ore")
        if _amount(self.opening_float_ore, "opening_float_ore") < 0:
            raise InvalidSalesDataError("opening_float_ore must not be negative")
        if (
            self.gift_card_expired_total_ore is not None
            and _amount(self.gift_card_expired_total_ore, "gift_card_expired_total_ore") < 0
        ):
            raise InvalidSalesDataError("gift_card_expired_total_ore must not be negative")

    @property
    def cash_difference_ore(self) -> int:
        """Positive when the drawer held more cash than expected (kassaöverskott)."""
        return self.counted_cash_ore - self.expected_cash_ore


def check_register_day(
    store_id: str,
    business_date: date,
    register_id: str,
    items: Iterable[Receipt | CashMovement | GiftCardExpiry | DayClose],
) -> None:
    """Every item belongs to this store, business date and register, and each appears once (twice would be booked
    twice): what one voucher books. Raises :class:`InvalidSalesDataError` listing every problem, in the items' order."""
    _code(store_id, "store_id")
    _business_date(business_date, "batch")
    found = [_identity(item) for item in items]
    problems = [
        f"{what} {item_id} belongs to {_place(store, register)} on {day}, not "
        f"{_place(store_id, register_id)} on {business_date}"
        for what, item_id, store, day, register in found
        if (store, day, register) != (store_id, business_date, register_id)
    ]
    counts = Counter((what, item_id) for what, item_id, _, _, _ in found)
    problems += [f"{what} {item_id} appears {n} times" for (what, item_id), n in counts.items() if n > 1]
    if problems:
        raise InvalidSalesDataError(tuple(problems))


def _identity(item: Receipt | CashMovement | GiftCardExpiry | DayClose) -> tuple[str, str, str, date, str]:
    """What an item is, its id, and the register-day it belongs to."""
    if isinstance(item, Receipt):
        return ("receipt", item.receipt_id, item.store_id, item.business_date, item.register_id)
    if isinstance(item, CashMovement):
        return ("cash movement", item.movement_id, item.store_id, item.business_date, item.register_id)
    if isinstance(item, GiftCardExpiry):
        return ("gift card expiry", item.expiry_id, item.store_id, item.business_date, item.register_id)
    return ("day close", str(item.z_report_number), item.store_id, item.business_date, item.register_id)

"""What a POS day contains, as flat frozen values (str, int, date, tuple only): here the receipt and the kinds and
payment methods every item uses; the rest of a register's day (cash movements, expired gift cards, the Z-report) in
:mod:`mapping.register_day`; the checks every field passes in :mod:`mapping.fields`.

The receipt, its lines, payments and invoice (nearly every event ingested) are msgspec Structs: built in C, their
rules in ``__post_init__`` (run by every construction), the common case decided by one fast check that accepts exactly
what the reasoned checks accept (tests/unit/consumer/test_typed_receipt.py). The rarer items are frozen dataclasses.

The Avro contracts are decoded into exactly these classes in one place; nothing here knows
about the wire. Every amount is integer öre (see :mod:`mapping.money`).

Sign convention
---------------
Amounts are written **as printed on the receipt**: a return receipt carries the same
positive line amounts a sale would, and ``kind="return"`` turns the whole receipt around
when it is booked (payments become credits, sales and VAT become debits). So:

* ``ReceiptLine.gross_ore`` and ``vat_ore`` are never negative; an exchange is a return
  receipt plus a sale receipt. (This also stops a decoder from negating twice: a negative
  line is refused outright.)
* ``Payment.amount_ore`` may be negative inside a receipt (cash back, change given out in
  another tender) but the payments must add up to the receipt's total.
* ``tip_ore`` is never negative. ``rounding_ore`` is signed: positive when the customer paid
  more than the lines + tip because the cash total was rounded up.

A receipt balances when ``Σ payments = Σ line gross + tip + rounding``.

Registers
---------
A store may have several registers (tills, kassaregister). Each numbers its own Z-reports and holds its own
cash, so every item carries the ``register_id`` it happened at; ``""`` is the store's one register (a POS
that sends no register id). What a Z-report closes, and what one voucher books, is a register's day.

Tips
----
A card tip is the amount the customer paid *above* the receipt's lines: the card payment
includes it, and ``tip_ore`` states how much of the payments is tip. The tip is a debt to the
staff (credited to the TIPS liability account), never income.
"""

from __future__ import annotations

from datetime import date

import msgspec

from mapping.errors import InvalidSalesDataError
from mapping.fields import MAX_AMOUNT_ORE, MAX_VAT_RATE_BP
from mapping.fields import amount as _amount
from mapping.fields import business_date as _business_date
from mapping.fields import code as _code
from mapping.fields import is_code as _is_code
from mapping.fields import register as _register

SALE = "sale"
RETURN = "return"
RECEIPT_KINDS = (SALE, RETURN)

DEPOSIT = "deposit"
WITHDRAWAL = "withdrawal"
FLOAT_CHANGE = "float_change"
#: Card tips paid out to staff in cash from the till (the tip liability is settled, cash leaves).
TIP_PAYOUT = "tip_payout"
CASH_MOVEMENT_KINDS = (DEPOSIT, WITHDRAWAL, FLOAT_CHANGE, TIP_PAYOUT)
#: Movements that take cash out of the till (their amount is positive, their cash effect negative).
CASH_OUT_KINDS = (WITHDRAWAL, TIP_PAYOUT)

#: The payment method whose account is "the cash register" for cash movements and differences.
CASH_METHOD = "cash"
#: The payment method whose account is the gift card liability (redemption debits it).
GIFT_CARD_METHOD = "gift_card"

#: Rounding to whole kronor never moves a total by more than 50 öre.
MAX_ROUNDING_ORE = 50


class ReceiptLine(msgspec.Struct, frozen=True, gc=False, array_like=True):
    """One sold item (or group of items) after discount.

    ``vat_rate`` is in basis points (2500 = 25 %), taken from the line, never from the product
    group: the same coffee is 6 % take-away and 12 % eat-in. ``discount_ore`` is informational
    only; ``gross_ore`` is already after it.
    """

    product_group: str
    vat_rate: int
    gross_ore: int
    vat_ore: int
    discount_ore: int = 0

    def __post_init__(self) -> None:
        # The common line (int amounts, 0 <= VAT <= gross, a rate above 0) passes in one expression; anything else
        # takes the checks below, which give the reason. Both accept exactly the same lines.
        rate, gross, vat, discount = self.vat_rate, self.gross_ore, self.vat_ore, self.discount_ore
        if (
            type(rate) is int
            and type(gross) is int
            and type(vat) is int
            and type(discount) is int
            and 0 < rate <= MAX_VAT_RATE_BP
            and 0 <= vat <= gross <= MAX_AMOUNT_ORE
            and 0 <= discount <= MAX_AMOUNT_ORE
            and _is_code(self.product_group)
        ):
            return
        self._check()

    def _check(self) -> None:
        _code(self.product_group, "product_group")
        rate = _amount(self.vat_rate, "vat_rate")
        if not 0 <= rate <= MAX_VAT_RATE_BP:
            raise InvalidSalesDataError(f"vat_rate must be 0..10000 basis points, got {rate}")
        gross = _amount(self.gross_ore, "gross_ore")
        vat = _amount(self.vat_ore, "vat_ore")
        discount = _amount(self.discount_ore, "discount_ore")
        if gross < 0 or vat < 0 or discount < 0:
            raise InvalidSalesDataError("line amounts are never negative; returns use kind='return'")
        if vat > gross:
            raise InvalidSalesDataError(f"line VAT {vat} öre exceeds its gross {gross} öre")
        if rate == 0 and vat != 0:
            raise InvalidSalesDataError(f"a 0 % line carries VAT {vat} öre")

    @property
    def net_ore(self) -> int:
        return self.gross_ore - self.vat_ore


class Payment(msgspec.Struct, frozen=True, gc=False, array_like=True):
    """One tender on a receipt: a method code ("cash", "card", "swish", "gift_card", ...) and amount."""

    method: str
    amount_ore: int

    def __post_init__(self) -> None:
        _code(self.method, "payment method")
        _amount(self.amount_ore, "payment amount_ore")


class Invoice(msgspec.Struct, frozen=True, gc=False):
    """A sale paid by invoice: the customer is known, so the invoice is the sale's verifikation (BFNAR 2013:2
    p. 6.4–6.6), booked as a voucher of its own rather than a share of the day's joint one."""

    number: str
    customer_id: str | None = None
    customer_name: str | None = None

    def __post_init__(self) -> None:
        _code(self.number, "invoice number")

    @property
    def customer(self) -> str:
        """The customer as a text names it: name, else id."""
        return self.customer_name or self.customer_id or ""


class Receipt(msgspec.Struct, frozen=True, gc=False):
    """A sale or a return. Amounts as printed; ``kind`` gives the direction (see module doc)."""

    receipt_id: str
    store_id: str
    business_date: date
    kind: str
    lines: tuple[ReceiptLine, ...]
    payments: tuple[Payment, ...]
    tip_ore: int = 0
    rounding_ore: int = 0
    z_report_number: int | None = None
    #: The number printed on the receipt (the POS's sequence), for the audit trail; None in rows
    #: stored before it was carried.
    receipt_number: str | None = None
    #: The register it was rung up at ("": the store's one register).
    register_id: str = ""
    #: A sale paid by invoice (its customer and invoice number): booked as its own voucher.
    invoice: Invoice | None = None

    def __post_init__(self) -> None:
        # The common receipt (ids given, a known kind, an int tip, no rounding) passes in one expression; anything
        # else takes the checks below, which give the reason. Both accept exactly the same receipts.
        tip, register = self.tip_ore, self.register_id
        if (
            self.rounding_ore == 0
            and type(self.rounding_ore) is int
            and type(tip) is int
            and 0 <= tip <= MAX_AMOUNT_ORE
            and self.kind in RECEIPT_KINDS
            and _is_code(self.receipt_id)
            and _is_code(self.store_id)
            and type(register) is str
            and (not register or not register.isspace())
            and isinstance(self.business_date, date)
        ):
            return
        self._check()

    def _check(self) -> None:
        _code(self.receipt_id, "receipt_id")
        _register(self.register_id, "receipt")
        _code(self.store_id, "store_id")
        _business_date(self.business_date, f"receipt {self.receipt_id}")
        if self.kind not in RECEIPT_KINDS:
            raise InvalidSalesDataError(f"receipt {self.receipt_id}: kind must be sale or return")
        if _amount(self.tip_ore, "tip_ore") < 0:
            raise InvalidSalesDataError(f"receipt {self.receipt_id}: negative tip")
        rounding = _amount(self.rounding_ore, "rounding_ore")
        if abs(rounding) > MAX_ROUNDING_ORE:
            raise InvalidSalesDataError(
                f"receipt {self.receipt_id}: rounding {rounding} öre is more than cash rounding can be"
            )
        if rounding and not any(p.method == CASH_METHOD for p in self.payments):
            raise InvalidSalesDataError(f"receipt {self.receipt_id}: rounding without a cash payment")

    @property
    def sign(self) -> int:
        """+1 for a sale, −1 for a return: multiply printed amounts by this to book them."""
        return 1 if self.kind == SALE else -1

    @property
    def gross_ore(self) -> int:
        return sum(line.gross_ore for line in self.lines)

    @property
    def paid_ore(self) -> int:
        return sum(p.amount_ore for p in self.payments)

    @property
    def residual_ore(self) -> int:
        """Payments − (lines + tip + rounding). Zero for every receipt that adds up. (Checked for every receipt
        ingested: summed in loops, which cost less than ``sum`` over generators.)"""
        residual = -(self.tip_ore + self.rounding_ore)
        for payment in self.payments:
            residual += payment.amount_ore
        for line in self.lines:
            residual -= line.gross_ore
        return residual

"""How a store-day's items are summed: the buckets of :class:`mapping.totals.DayTotals` and the ingest's per-event
step that adds one receipt, cash movement or gift card expiry to them.

The account plan is applied *after* aggregation (:mod:`mapping.totals_booking`), so the totals are kept
in buckets the plan maps, not on accounts: a plan changed after ingest still books exactly. Each
bucket is ``(kind, key, rate) → (a, b, n, m)``, integer öre and counts, signed like the booking
(``s`` = +1 for a sale, −1 for a return):

==============  ================  ============  ============  ==================  ===========================
kind            key, rate         a             b             n                   m
==============  ================  ============  ============  ==================  ===========================
``line``        group, VAT rate   Σ s·gross     Σ s·VAT       lines               receipts with a line at the
                                                                                  rate, counted on the
                                                                                  receipt's first group there
``payment``     method, 0         Σ s·amount    0             payments            receipts, counted on the
                                                                                  receipt's first payment
``receipt``     "", 0             0             0             receipts without
                                                                a payment
``tip``         "", 0             Σ s·tip       0             receipts with a tip
``rounding``    "", 0             Σ s·rounding  0             receipts rounded
``movement``    kind, 0           Σ amount      0             movements
``expiry``      method, rate      Σ amount      Σ VAT held    expiries            (method "" = gift_card; rate
                                                                                  0 = multi-purpose)
``redemption``  method, its rate  Σ s·P         Σ s·v         payments            (single-purpose methods only)
``sp_excess``   receipt id, 0     excess        0             1                   (only receipts that fail)
``imbalance``   receipt id, 0     residual      0             1                   (only receipts that fail)
``invoice``     receipt id, 0     s·paid        0             1                   (only receipts paid by
                                                                                  invoice: their own voucher)
``refund``      method, 0         Σ amount      0             payments            (only returns: what went back
                                                                                  per method, for the day report)
==============  ================  ============  ============  ==================  ===========================

Counts are kept besides sums because the rules ask *whether* something occurred, not only how much:
a product group sold and returned the same day nets to zero yet still needs an account, and the
VAT policy's rounding tolerance counts the lines at each rate. Receipt counts ride on the
line and payment buckets (``m``) instead of buckets of their own, so a receipt touches about three
buckets, not five: the ingest updates these rows for every event.

Single-purpose gift cards (enfunktionsvoucher) depend on the plan: a redemption takes the VAT it
holds, ``v`` = :func:`mapping.money.vat_included` of each payment at the card's rate, off the day's
VAT, and a receipt whose cards of a rate pay for more than its goods of that rate is an error naming
the receipt. So the totals are built for a mapping of methods to rates (the plan's
``single_purpose_methods`` when the items were summed): ``redemption`` buckets carry P and Σv per
payment, ``sp_excess`` the receipts that would fail. :func:`mapping.totals_booking.stale_redemptions`
says when the plan no longer matches; the caller then sums the day again from its stored items.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping

from mapping.money import vat_included
from mapping.register_day import CashMovement, GiftCardExpiry
from mapping.sales import GIFT_CARD_METHOD, Receipt

LINE = "line"
PAYMENT = "payment"
RECEIPT = "receipt"
TIP = "tip"
ROUNDING = "rounding"
MOVEMENT = "movement"
EXPIRY = "expiry"
REDEMPTION = "redemption"
SP_EXCESS = "sp_excess"
IMBALANCE = "imbalance"
INVOICE = "invoice"
REFUND = "refund"
KINDS = (LINE, PAYMENT, RECEIPT, TIP, ROUNDING, MOVEMENT, EXPIRY, REDEMPTION, SP_EXCESS, IMBALANCE, INVOICE, REFUND)

BucketKey = tuple[str, str, int]
Amounts = tuple[int, int, int, int]
#: One bucket as a flat row (kind, key, rate, a, b, n, m): the shape of the totals table's rows.
BucketRow = tuple[str, str, int, int, int, int, int]
SalesItem = Receipt | CashMovement | GiftCardExpiry
Buckets = defaultdict[BucketKey, list[int]]


def empty_bucket() -> list[int]:
    return [0, 0, 0, 0]


def add_to(buckets: Buckets, key: BucketKey, a: int = 0, b: int = 0, n: int = 0, m: int = 0) -> None:
    bucket = buckets[key]
    bucket[0] += a
    bucket[1] += b
    bucket[2] += n
    bucket[3] += m


def _receipt_buckets(buckets: Buckets, receipt: Receipt, single_purpose: Mapping[str, int]) -> None:
    # Runs for every event at ingest: one pass over lines and payments, no helper calls per line.
    s = receipt.sign
    gross = paid = 0
    first_at: dict[int, str] = {}
    for line in receipt.lines:
        rate, group = line.vat_rate, line.product_group
        bucket = buckets[(LINE, group, rate)]
        bucket[0] += s * line.gross_ore
        bucket[1] += s * line.vat_ore
        bucket[2] += 1
        gross += line.gross_ore
        if rate not in first_at or group < first_at[rate]:
            first_at[rate] = group
    for rate, group in first_at.items():
        buckets[(LINE, group, rate)][3] += 1
    for payment in receipt.payments:
        bucket = buckets[(PAYMENT, payment.method, 0)]
        bucket[0] += s * payment.amount_ore
        bucket[2] += 1
        paid += payment.amount_ore
        if s < 0:  # what a return paid back, per method: the day report's cash takings and returns apart
            add_to(buckets, (REFUND, payment.method, 0), payment.amount_ore, 0, 1)
    if receipt.payments:
        buckets[(PAYMENT, receipt.payments[0].method, 0)][3] += 1
    else:
        add_to(buckets, (RECEIPT, "", 0), n=1)
    if receipt.tip_ore:
        add_to(buckets, (TIP, "", 0), s * receipt.tip_ore, 0, 1)
    if receipt.rounding_ore:
        add_to(buckets, (ROUNDING, "", 0), s * receipt.rounding_ore, 0, 1)
    if single_purpose:
        _redemptions(buckets, receipt, single_purpose)
    residual = paid - (gross + receipt.tip_ore + receipt.rounding_ore)
    if residual:
        add_to(buckets, (IMBALANCE, receipt.receipt_id, 0), residual, 0, 1)
    if receipt.invoice is not None:  # an export that books it leaves it to a voucher of its own
        add_to(buckets, (INVOICE, receipt.receipt_id, 0), s * paid, 0, 1)


def _redemptions(buckets: Buckets, receipt: Receipt, single_purpose: Mapping[str, int]) -> None:
    """Single-purpose cards: P and v per payment, and the receipt's excess as
    :func:`mapping.totals_booking.check_single_purpose` checks it (printed amounts, per rate, against the goods
    at that rate)."""
    s = receipt.sign
    paid_by_card_rate: defaultdict[int, int] = defaultdict(int)
    for payment in receipt.payments:
        card_rate = single_purpose.get(payment.method)
        if card_rate is not None:
            paid_by_card_rate[card_rate] += payment.amount_ore
            v = vat_included(payment.amount_ore, card_rate) if card_rate else 0
            add_to(buckets, (REDEMPTION, payment.method, card_rate), s * payment.amount_ore, s * v, 1)
    excess = sum(
        max(0, paid - sum(x.gross_ore for x in receipt.lines if x.vat_rate == rate))
        for rate, paid in paid_by_card_rate.items()
    )
    if excess:
        add_to(buckets, (SP_EXCESS, receipt.receipt_id, 0), excess, 0, 1)


def add_item(buckets: Buckets, item: SalesItem, single_purpose: Mapping[str, int] = {}) -> None:  # noqa: B006
    """Add one receipt, cash movement or gift card expiry to ``buckets`` (the ingest's per-event step)."""
    if isinstance(item, Receipt):
        _receipt_buckets(buckets, item, single_purpose)
    elif isinstance(item, CashMovement):
        add_to(buckets, (MOVEMENT, item.kind, 0), item.amount_ore, 0, 1)
    else:
        method = "" if item.method == GIFT_CARD_METHOD else item.method
        add_to(buckets, (EXPIRY, method, item.vat_rate or 0), item.amount_ore, item.vat_ore, 1)


def item_rows(item: SalesItem, single_purpose: Mapping[str, int] = {}) -> list[BucketRow]:  # noqa: B006
    """One item's buckets as rows, for staging next to the item's stored row at ingest."""
    buckets: Buckets = defaultdict(empty_bucket)
    add_item(buckets, item, single_purpose)
    return [(kind, key, rate, a, b, n, m) for (kind, key, rate), (a, b, n, m) in buckets.items()]

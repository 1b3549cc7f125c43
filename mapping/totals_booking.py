"""A store-day's totals + the account plan → one balanced voucher: the one definition of the booking rules.

Booking rules (signs as BL wants them: debit +, credit −), per receipt with ``s`` = +1 for a
sale and −1 for a return, so returns mirror sales exactly (docs/booking-rules.md gives the
source of each rule):

==============================  ======================================  ===================================
What                            Debit (+)                               Credit (−)
==============================  ======================================  ===================================
payment                         payment-method account  s·amount
single-purpose redemption       card liability s·(P − v); VAT of the
 (P at the card's rate r)       card's rate s·v, v = VAT in P at r
line (group g, rate r)                                                  sales account of (g, r) s·(gross − VAT)
                                                                        VAT account of r s·VAT
card tip                                                                TIPS (liability) s·tip
öre rounding                                                            ROUNDING s·rounding
cash deposit / withdrawal       cash ↔ CASH_DEPOSIT / CASH_WITHDRAWAL (cash debited when cash comes in)
float change                    cash ↔ FLOAT_CHANGE
tip payout                      TIPS (the liability is settled)         cash
expired gift card               gift card liability (method gift_card)  EXPIRED_GIFT_CARD income
cash shortage (kassabrist)      CASH_SHORTAGE (a cost)                  cash
cash overage (kassaöverskott)   cash                                    CASH_OVERAGE (income)
Z_REPORT VAT rounding           sales of rate r ↔ VAT of rate r (see :mod:`mapping.totals_closing`)
==============================  ======================================  ===================================

"Cash" is the account mapped for payment method ``"cash"``. A multi-purpose gift card sold is an
ordinary line in a 0 % product group mapped to the liability (e.g. 2421); its redemption is the
payment method ``"gift_card"`` debiting the same liability, and the goods bought carry their VAT.
A single-purpose card (enfunktionsvoucher) is sold in a group flagged single-purpose, at its VAT
rate, so its VAT is booked at issue on the normal line rule; its redemption method takes the VAT it
contains off the receipt's VAT of that rate, because redeeming it is not a second taxable sale.
VAT comes from the receipt lines, summed per rate; net sales = gross − VAT, so nothing is
recomputed or rounded here except v, in :func:`mapping.money.vat_included` (when summed, :mod:`mapping.totals`).

Rows are one per (account, kind of event, cost centre), each with its kind's text (:mod:`mapping.rows`): an
account reconciles against its own statement only when, say, Swish takings and cash taken to the bank are not
netted into one row. Rows that net to zero are dropped; the order is by account, then kind. Receipts that do
not add up are a data error, never plugged.

The rules apply to the buckets of :mod:`mapping.totals`, which a day close keeps as stored running totals: a
payment bucket debits its method's account (less the VAT single-purpose cards hold), a (group, rate) bucket
credits its sales account net and its rate's VAT account, and so on (the rows: :mod:`mapping.entries`). Because
every bucket keeps counts besides sums, the checks give the errors the receipts would give: every unmapped item
at once (a group sold and returned the same day still needs its account), the receipts whose single-purpose
cards pay for too much, the receipts that do not add up. The property tests in
``tests/unit/mapping/test_totals_properties.py`` show that a voucher booked here equals the one an independent
computation from the receipts books, for any generated day, split anywhere.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import date

from mapping.buckets import EXPIRY, IMBALANCE, LINE, MOVEMENT, PAYMENT, REDEMPTION, ROUNDING, SP_EXCESS, TIP
from mapping.entries import DEFAULT_SALES, INCOME_CLASS, RESULT_ACCOUNT_CLASSES, account_totals, voucher_rows
from mapping.errors import (
    InvalidSalesDataError,
    MissingItem,
    NothingToBookError,
    ReceiptImbalanceError,
    ReceiptResidual,
    SinglePurposeRedemptionError,
    UnmappedItemsError,
    product_group_code,
)
from mapping.plan import MOVEMENT_EVENT, AccountPlan, Event, sort_missing
from mapping.plan_checks import ensure_valid
from mapping.register_day import DayClose
from mapping.sales import CASH_METHOD, GIFT_CARD_METHOD, Invoice
from mapping.text import day_voucher_text, invoice_voucher_text
from mapping.totals import DayTotals
from mapping.voucher import Voucher

__all__ = ["INCOME_CLASS", "RESULT_ACCOUNT_CLASSES", "account_totals", "build_voucher_from_totals", "voucher_rows"]


class StaleTotalsError(ValueError):
    """The totals were summed for other single-purpose gift card methods than the plan now has.

    Not a merchant's error: the caller sums the store-day again from its stored items with the plan's
    ``single_purpose_methods`` (:meth:`DayTotals.of`) and books that. ``methods`` are the ones that differ.
    """

    def __init__(self, methods: tuple[str, ...]) -> None:
        self.methods = methods
        super().__init__(f"totals summed for other single-purpose methods than the plan's: {', '.join(methods)}")


def check_day_close(totals: DayTotals, close: DayClose | None) -> None:
    """The day close must be of the totals' register-day (as :func:`mapping.register_day.check_register_day` checks
    items)."""
    if close is not None and (close.store_id, close.business_date, close.register_id) != totals.day:
        raise InvalidSalesDataError(
            (
                f"day close {close.z_report_number} belongs to "
                f"{(close.store_id, close.business_date, close.register_id)}, not {totals.day}",
            )
        )


def check_receipts(totals: DayTotals) -> None:
    """Raise :class:`ReceiptImbalanceError` naming every receipt whose payments do not add up."""
    off = tuple(ReceiptResidual(key, a) for key, _, (a, _, _, _) in totals.of_kind(IMBALANCE))
    if off:
        raise ReceiptImbalanceError(off)


def required_items(totals: DayTotals, close: DayClose | None) -> set[MissingItem]:
    """What the day books on, as (kind, code): every method, non-zero VAT rate, (group, rate) and event."""
    needed = {MissingItem("payment_method", method) for method, _, _ in totals.of_kind(PAYMENT)}
    for group, rate, _ in totals.of_kind(LINE):
        needed.add(MissingItem("product_group", product_group_code(group, rate)))
        if rate != 0:
            needed.add(MissingItem("vat_rate", str(rate)))
    if totals.get(TIP)[2]:
        needed.add(MissingItem("event", Event.TIPS.value))
    if totals.get(ROUNDING)[2]:
        needed.add(MissingItem("event", Event.ROUNDING.value))
    for kind, _, _ in totals.of_kind(MOVEMENT):
        needed.add(MissingItem("payment_method", CASH_METHOD))
        needed.add(MissingItem("event", MOVEMENT_EVENT[kind].value))
    for method, rate, _ in totals.of_kind(EXPIRY):
        needed.add(MissingItem("payment_method", method or GIFT_CARD_METHOD))
        if rate:  # a single-purpose card's revenue: the rate's default sales account
            needed.add(MissingItem("product_group", product_group_code(DEFAULT_SALES, rate)))
        else:
            needed.add(MissingItem("event", Event.EXPIRED_GIFT_CARD.value))
    if close is not None and close.cash_difference_ore:
        needed.add(MissingItem("payment_method", CASH_METHOD))
        short = close.cash_difference_ore < 0
        needed.add(MissingItem("event", (Event.CASH_SHORTAGE if short else Event.CASH_OVERAGE).value))
    return needed


def missing_for(totals: DayTotals, plan: AccountPlan, close: DayClose | None) -> tuple[MissingItem, ...]:
    """Everything the day needs that ``plan`` does not map (a single-purpose card books on its rate's VAT
    account even on a receipt of 0 % lines), sorted by kind then code (:func:`mapping.plan.sort_missing`)."""
    needed = required_items(totals, close)
    needed |= {
        MissingItem("vat_rate", str(plan.single_purpose_methods[method]))
        for method, _, _ in totals.of_kind(PAYMENT)
        if plan.single_purpose_methods.get(method)
    }
    return sort_missing(item for item in needed if not plan.maps(item))


def stale_redemptions(totals: DayTotals, plan: AccountPlan) -> tuple[str, ...]:
    """Methods paid with whose redemption buckets do not cover exactly their payments at the plan's rate."""
    return stale_for(totals, plan.single_purpose_methods)


def stale_for(totals: DayTotals, single_purpose: Mapping[str, int]) -> tuple[str, ...]:
    """Methods paid with whose redemption buckets do not cover exactly their payments at the rate
    ``single_purpose`` (method → rate) gives them: the totals were summed for another mapping.

    Each payment adds at most one redemption bucket, at the rate its method had when it was summed; so
    when, for every method paid with, the plan's rate holds as many payments as the method has and no
    other rate holds any, every receipt was summed under the plan's mapping and its excess is the plan's.
    """
    paid = {method: n for method, _, (_, _, n, _) in totals.of_kind(PAYMENT)}
    redeemed: defaultdict[str, dict[int, int]] = defaultdict(dict)
    for method, rate, (_, _, n, _) in totals.of_kind(REDEMPTION):
        redeemed[method][rate] = n
    stale = {method for method in redeemed if method not in paid}
    for method, n in paid.items():
        card_rate = single_purpose.get(method)
        if redeemed.get(method, {}) != ({} if card_rate is None else {card_rate: n}):
            stale.add(method)
    return tuple(sorted(stale))


def check_single_purpose(totals: DayTotals) -> None:
    """Raise :class:`SinglePurposeRedemptionError` for every receipt whose single-purpose cards of a rate
    pay more than its lines at that rate (receipts in id order)."""
    off = tuple(ReceiptResidual(key, a) for key, _, (a, _, _, _) in totals.of_kind(SP_EXCESS))
    if off:
        raise SinglePurposeRedemptionError(off)


def sales_rates(totals: DayTotals, plan: AccountPlan) -> tuple[tuple[str, int], ...]:
    """(income account, VAT rate) of every (group, rate) sold and of every single-purpose card expired: what
    pre-flight checks against BL's VAT codes."""
    pairs = {
        (account, rate)
        for group, rate, _ in totals.of_kind(LINE)
        if (account := plan.sales_account(group, rate)) and account[0] == INCOME_CLASS
    }
    pairs |= {
        (account, rate)
        for _, rate, _ in totals.of_kind(EXPIRY)
        if rate and (account := plan.sales_default_by_rate.get(rate)) and account[0] == INCOME_CLASS
    }
    return tuple(sorted(pairs))


def build_voucher_from_totals(
    totals: DayTotals,
    plan: AccountPlan,
    day_close: DayClose | None = None,
    *,
    store_name: str,
    reference: str,
    entry_date: date | None = None,
    vat_adjustment: Sequence[tuple[str, int]] = (),
    z_report_number: int | None = None,
    complements_z: int | None = None,
    invoice: Invoice | None = None,
) -> Voucher:
    """Book ``totals`` through ``plan`` as one voucher dated the business date (unless ``entry_date``).

    Checks, in order, each listing every problem it finds: the day close is the totals' register-day, the
    receipts add up (:class:`ReceiptImbalanceError`; malformed data cannot even be built), the plan
    (:class:`InvalidPlanError`), the mapping (:class:`UnmappedItemsError`), the totals' single-purpose methods
    (:class:`StaleTotalsError`), then single-purpose redemptions (:class:`SinglePurposeRedemptionError`). A day
    that nets to zero everywhere raises :class:`NothingToBookError`. The result balances by construction;
    :class:`Voucher` refuses to exist otherwise. ``vat_adjustment`` are the rows that move a rate's VAT rounding
    between its sales and VAT accounts under the Z_REPORT policy (:func:`mapping.totals_closing.adjustment_rows`);
    they sum to zero.

    ``day_close`` is the Z-report this export books (its cash difference), None for a partial export.
    ``z_report_number`` names a Z-report in the text when there is no ``day_close`` (a batch of receipts takes it
    from a receipt that carries one; stored receipts never do). ``complements_z``: sales booked without a Z-report
    of their own after the day's Z-report of that number was booked (the text says so). ``invoice``: the totals
    are one sale paid by invoice, its own voucher (the text names the invoice and the customer).
    """
    if sum(amount for _, amount in vat_adjustment) != 0:
        raise ValueError(f"a VAT adjustment must sum to zero: {vat_adjustment!r}")
    check_day_close(totals, day_close)
    check_receipts(totals)
    ensure_valid(plan)
    missing = missing_for(totals, plan, day_close)
    if missing:
        raise UnmappedItemsError(missing)
    stale = stale_redemptions(totals, plan)
    if stale:
        raise StaleTotalsError(stale)
    check_single_purpose(totals)
    rows = voucher_rows(totals, plan, day_close, vat_adjustment)
    if not rows:
        raise NothingToBookError(f"nothing to book for store {totals.store_id} on {totals.business_date}")
    z = day_close.z_report_number if day_close is not None else z_report_number
    return Voucher(
        series=plan.series,
        entry_date=entry_date or totals.business_date,
        text=(
            invoice_voucher_text(invoice.number, invoice.customer, totals.business_date, reference)
            if invoice is not None
            else day_voucher_text(store_name, totals.business_date, z, reference, totals.register_id, complements_z)
        ),
        reference=reference,
        rows=rows,
        sales_rates=sales_rates(totals, plan),
    )

"""A store-day's totals + the account plan → the voucher :func:`mapping.aggregate.build_voucher` books.

The same rules as :mod:`mapping.aggregate` (its docstring has the booking table), applied to the
buckets of :mod:`mapping.totals` instead of to receipts: a payment bucket debits its method's account
(less the VAT single-purpose cards hold), a (group, rate) bucket credits its sales account net and its
rate's VAT account, and so on. Because every bucket keeps counts besides sums, the checks give the
errors the receipts would give: every unmapped item at once (a group sold and returned the same day
still needs its account), the receipts whose single-purpose cards pay for too much, the receipts
that do not add up. The property tests in ``tests/unit/mapping/test_totals_properties.py`` show the
two paths give equal vouchers and equal errors for any generated day, split anywhere.

This is the one definition of the booking rules: :func:`mapping.aggregate.build_voucher` and
:meth:`mapping.plan.AccountPlan.missing_for` sum their receipts into totals and come here.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import date

from mapping import rows
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
from mapping.sales import (
    CASH_METHOD,
    CASH_OUT_KINDS,
    DEPOSIT,
    FLOAT_CHANGE,
    GIFT_CARD_METHOD,
    TIP_PAYOUT,
    WITHDRAWAL,
    DayClose,
)
from mapping.text import day_voucher_text
from mapping.totals import (
    EXPIRY,
    IMBALANCE,
    LINE,
    MOVEMENT,
    PAYMENT,
    REDEMPTION,
    ROUNDING,
    SP_EXCESS,
    TIP,
    DayTotals,
)
from mapping.voucher import Voucher, VoucherRow

#: Accounts in classes 3–8 are result (income statement) accounts; 1–2 are the balance sheet.
RESULT_ACCOUNT_CLASSES = frozenset("345678")
INCOME_CLASS = "3"
LIABILITY_CLASS = "2"
#: The "product group" of a missing default sales account (an expired single-purpose card books its revenue there).
DEFAULT_SALES = "*"


class StaleTotalsError(ValueError):
    """The totals were summed for other single-purpose gift card methods than the plan now has.

    Not a merchant's error: the caller sums the store-day again from its stored items with the plan's
    ``single_purpose_methods`` (:meth:`DayTotals.of`) and books that. ``methods`` are the ones that differ.
    """

    def __init__(self, methods: tuple[str, ...]) -> None:
        self.methods = methods
        super().__init__(f"totals summed for other single-purpose methods than the plan's: {', '.join(methods)}")


def check_day_close(totals: DayTotals, close: DayClose | None) -> None:
    """The day close must be of the totals' store-day (as :class:`mapping.sales.SalesBatch` checks)."""
    if close is not None and (close.store_id, close.business_date) != (totals.store_id, totals.business_date):
        raise InvalidSalesDataError(
            (
                f"day close {close.z_report_number} belongs to store {close.store_id} on "
                f"{close.business_date}, not {totals.store_id} on {totals.business_date}",
            )
        )


def check_receipts(totals: DayTotals) -> None:
    """Raise :class:`ReceiptImbalanceError` naming every receipt whose payments do not add up."""
    off = tuple(ReceiptResidual(key, a) for key, _, (a, _, _, _) in totals.of_kind(IMBALANCE))
    if off:
        raise ReceiptImbalanceError(off)


def required_items(totals: DayTotals, close: DayClose | None) -> set[MissingItem]:
    """What the day books on, as :func:`mapping.plan.required_items` lists it for a batch."""
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
    account even on a receipt of 0 % lines), sorted as :meth:`AccountPlan.missing_for` sorts it."""
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
    pay more than its lines at that rate (receipts in id order; the receipts path lists them in day order)."""
    off = tuple(ReceiptResidual(key, a) for key, _, (a, _, _, _) in totals.of_kind(SP_EXCESS))
    if off:
        raise SinglePurposeRedemptionError(off)


Entries = dict[tuple[str, rows.RowKind], int]


def entries(
    totals: DayTotals, plan: AccountPlan, close: DayClose | None, vat_adjustment: Sequence[tuple[str, int]] = ()
) -> Entries:
    """Signed öre per (account, kind of event), before cost centres: what each row of the voucher books
    (:mod:`mapping.rows`). Assumes the checks have passed."""
    out: defaultdict[tuple[str, rows.RowKind], int] = defaultdict(int)
    methods = plan.payment_methods
    for method, _, (amount, _, _, _) in totals.of_kind(PAYMENT):
        rate = plan.single_purpose_methods.get(method)
        vat = totals.get(REDEMPTION, method, rate)[1] if rate else 0
        if rate is None:
            out[(methods[method], rows.payment(method))] += amount
            continue
        out[(methods[method], rows.single_purpose_redeemed(method))] += amount - vat
        if vat:
            out[(plan.vat_rates[rate], rows.single_purpose_redeemed_vat(rate))] += vat
    for group, rate, (gross, vat, _, _) in totals.of_kind(LINE):
        account = plan.sales_account(group, rate) or ""
        liability = account[:1] == LIABILITY_CLASS
        kind = rows.gift_cards_sold(rate, group in plan.single_purpose_groups) if liability else rows.sales(rate)
        out[(account, kind)] -= gross - vat
        if vat:
            out[(plan.vat_rates[rate], rows.output_vat(rate))] -= vat
    for bucket, event, kind in ((TIP, Event.TIPS, rows.TIPS), (ROUNDING, Event.ROUNDING, rows.ROUNDING)):
        if amount := totals.get(bucket)[0]:
            out[(_account(plan, event), kind)] -= amount
    for movement, _, (amount, _, _, _) in totals.of_kind(MOVEMENT):
        effect = -amount if movement in CASH_OUT_KINDS else amount
        kind = MOVEMENT_ROWS[movement]
        out[(methods[CASH_METHOD], kind)] += effect
        out[(_account(plan, MOVEMENT_EVENT[movement]), kind)] -= effect
    for method, rate, (expired, held_vat, _, _) in totals.of_kind(EXPIRY):
        liability = methods[method or GIFT_CARD_METHOD]
        if rate:
            # A single-purpose card's VAT was output VAT when it was sold: only the balance net of it is owed. It
            # becomes revenue of a supply taxed at that rate, on the rate's sales account (no VAT now), as a
            # redemption's goods would: each rate's VAT stays the rate × the net on its accounts.
            out[(liability, rows.EXPIRED_SINGLE_PURPOSE)] += expired - held_vat
            out[(plan.sales_default_by_rate[rate], rows.expired_single_purpose_sales(rate))] -= expired - held_vat
        else:  # a multi-purpose card: no supply took place, the whole balance becomes revenue without VAT
            out[(liability, rows.EXPIRED)] += expired
            out[(_account(plan, Event.EXPIRED_GIFT_CARD), rows.EXPIRED)] -= expired
    if close is not None and close.cash_difference_ore:
        difference = close.cash_difference_ore
        event, kind = (Event.CASH_SHORTAGE, rows.SHORTAGE) if difference < 0 else (Event.CASH_OVERAGE, rows.OVERAGE)
        out[(methods[CASH_METHOD], kind)] += difference
        out[(_account(plan, event), kind)] -= difference
    for account, amount in vat_adjustment:
        out[(account, rows.VAT_ROUNDING)] += amount
    return dict(out)


#: The row of each kind of cash movement (both its sides).
MOVEMENT_ROWS = {
    DEPOSIT: rows.DEPOSIT,
    WITHDRAWAL: rows.WITHDRAWAL,
    FLOAT_CHANGE: rows.FLOAT_CHANGE,
    TIP_PAYOUT: rows.TIP_PAYOUT,
}


def account_totals(
    totals: DayTotals, plan: AccountPlan, close: DayClose | None, vat_adjustment: Sequence[tuple[str, int]] = ()
) -> dict[str, int]:
    """Signed öre per account (every kind of event on it summed), before cost centres."""
    out: defaultdict[str, int] = defaultdict(int)
    for (account, _), amount in entries(totals, plan, close, vat_adjustment).items():
        out[account] += amount
    return dict(out)


def _account(plan: AccountPlan, event: Event) -> str:
    account = plan.event_account(event)
    if account is None:  # pragma: no cover - missing_for runs first
        raise UnmappedItemsError(())
    return account


def voucher_rows(
    totals: DayTotals, plan: AccountPlan, close: DayClose | None, vat_adjustment: Sequence[tuple[str, int]] = ()
) -> tuple[VoucherRow, ...]:
    """The voucher's rows: one per (account, cost centre, kind of event) with the kind's text, zeros dropped,
    sorted by account, then kind."""
    centre = plan.cost_centre_for(totals.store_id)
    grouped: defaultdict[tuple[str, rows.RowKind, str], int] = defaultdict(int)
    for (account, kind), amount in entries(totals, plan, close, vat_adjustment).items():
        on_result = account[0] in RESULT_ACCOUNT_CLASSES
        grouped[(account, kind, (centre or "") if on_result or plan.cost_centre_on_balance_accounts else "")] += amount
    return tuple(
        VoucherRow(account=account, amount_ore=amount, cost_centre=cc or None, text=kind.text)
        for (account, kind, cc), amount in sorted(grouped.items())
        if amount != 0
    )


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
) -> Voucher:
    """Book ``totals`` through ``plan`` as one voucher: what :func:`mapping.aggregate.build_voucher` books
    for the same items, with the same checks in the same order and the same errors.

    ``day_close`` is the Z-report this export books (its cash difference), None for a partial export.
    ``z_report_number`` names a Z-report in the text when there is no ``day_close`` (the receipts path
    takes it from a receipt that carries one; stored receipts never do). Raises
    :class:`StaleTotalsError` when the totals were summed for other single-purpose methods than the plan's.
    """
    if sum(amount for _, amount in vat_adjustment) != 0:
        raise ValueError(f"a VAT adjustment must sum to zero: {vat_adjustment!r}")
    check_day_close(totals, day_close)
    check_receipts(totals)
    plan.ensure_valid()
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
        text=day_voucher_text(store_name, totals.business_date, z, reference),
        reference=reference,
        rows=rows,
        sales_rates=sales_rates(totals, plan),
    )

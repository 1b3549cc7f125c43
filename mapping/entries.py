"""What each voucher row books: a store-day's totals through the account plan, as signed öre per (account, kind of
event) (:mod:`mapping.rows`). The booking table is in :mod:`mapping.totals_booking`'s docstring and
docs/booking-rules.md; :mod:`mapping.totals_booking` runs the checks first, then comes here for the rows.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from mapping import rows
from mapping.buckets import EXPIRY, LINE, MOVEMENT, PAYMENT, REDEMPTION, ROUNDING, TIP
from mapping.errors import UnmappedItemsError
from mapping.plan import MOVEMENT_EVENT, AccountPlan, Event
from mapping.register_day import DayClose
from mapping.sales import CASH_METHOD, CASH_OUT_KINDS, DEPOSIT, FLOAT_CHANGE, GIFT_CARD_METHOD, TIP_PAYOUT, WITHDRAWAL
from mapping.totals import DayTotals
from mapping.voucher import VoucherRow

#: Accounts in classes 3–8 are result (income statement) accounts; 1–2 are the balance sheet.
RESULT_ACCOUNT_CLASSES = frozenset("345678")
INCOME_CLASS = "3"
LIABILITY_CLASS = "2"
#: The "product group" of a missing default sales account (an expired single-purpose card books its revenue there).
DEFAULT_SALES = "*"

#: The row of each kind of cash movement (both its sides).
MOVEMENT_ROWS = {
    DEPOSIT: rows.DEPOSIT,
    WITHDRAWAL: rows.WITHDRAWAL,
    FLOAT_CHANGE: rows.FLOAT_CHANGE,
    TIP_PAYOUT: rows.TIP_PAYOUT,
}

Entries = defaultdict[tuple[str, rows.RowKind], int]


def entries(
    totals: DayTotals, plan: AccountPlan, close: DayClose | None, vat_adjustment: Sequence[tuple[str, int]] = ()
) -> dict[tuple[str, rows.RowKind], int]:
    """Signed öre per (account, kind of event), before cost centres: what each row of the voucher books.
    Assumes the checks of :func:`mapping.totals_booking.build_voucher_from_totals` have passed."""
    out: Entries = defaultdict(int)
    _payments(out, totals, plan)
    _lines(out, totals, plan)
    for bucket, event, kind in ((TIP, Event.TIPS, rows.TIPS), (ROUNDING, Event.ROUNDING, rows.ROUNDING)):
        if amount := totals.get(bucket)[0]:
            out[(_account(plan, event), kind)] -= amount
    _cash(out, totals, plan, close)
    _expiries(out, totals, plan)
    for account, amount in vat_adjustment:
        out[(account, rows.VAT_ROUNDING)] += amount
    return dict(out)


def _payments(out: Entries, totals: DayTotals, plan: AccountPlan) -> None:
    """Each method's account its payments; a single-purpose card's liability less the VAT it holds, and that VAT
    back on its rate's VAT account (paid when the card was sold)."""
    methods = plan.payment_methods
    for method, _, (amount, _, _, _) in totals.of_kind(PAYMENT):
        rate = plan.single_purpose_methods.get(method)
        if rate is None:
            account = (plan.cash_account(totals.register_id) if method == CASH_METHOD else None) or methods[method]
            out[(account, rows.payment(method))] += amount
            continue
        vat = totals.get(REDEMPTION, method, rate)[1] if rate else 0
        out[(methods[method], rows.single_purpose_redeemed(method))] += amount - vat
        if vat:
            out[(plan.vat_rates[rate], rows.single_purpose_redeemed_vat(rate))] += vat


def _lines(out: Entries, totals: DayTotals, plan: AccountPlan) -> None:
    """Each (group, rate) its sales account net (a gift card sold: its liability), and the rate's VAT account."""
    for group, rate, (gross, vat, _, _) in totals.of_kind(LINE):
        account = plan.sales_account(group, rate) or ""
        on_liability = account[:1] == LIABILITY_CLASS
        kind = rows.gift_cards_sold(rate, group in plan.single_purpose_groups) if on_liability else rows.sales(rate)
        out[(account, kind)] -= gross - vat
        if vat:
            out[(plan.vat_rates[rate], rows.output_vat(rate))] -= vat


def _cash(out: Entries, totals: DayTotals, plan: AccountPlan, close: DayClose | None) -> None:
    """Cash movements against their counter accounts, and the Z-report's cash difference, on the register's cash
    account."""
    cash = plan.cash_account(totals.register_id) or ""  # mapped whenever it is used (missing_for runs first)
    for movement, _, (amount, _, _, _) in totals.of_kind(MOVEMENT):
        effect = -amount if movement in CASH_OUT_KINDS else amount
        kind = MOVEMENT_ROWS[movement]
        out[(cash, kind)] += effect
        out[(_account(plan, MOVEMENT_EVENT[movement]), kind)] -= effect
    if close is not None and close.cash_difference_ore:
        difference = close.cash_difference_ore
        event, kind = (Event.CASH_SHORTAGE, rows.SHORTAGE) if difference < 0 else (Event.CASH_OVERAGE, rows.OVERAGE)
        out[(cash, kind)] += difference
        out[(_account(plan, event), kind)] -= difference


def _expiries(out: Entries, totals: DayTotals, plan: AccountPlan) -> None:
    for method, rate, (expired, held_vat, _, _) in totals.of_kind(EXPIRY):
        liability = plan.payment_methods[method or GIFT_CARD_METHOD]
        if rate:
            # A single-purpose card's VAT was output VAT when it was sold: only the balance net of it is owed. It
            # becomes revenue of a supply taxed at that rate, on the rate's sales account (no VAT now), as a
            # redemption's goods would: each rate's VAT stays the rate × the net on its accounts.
            out[(liability, rows.EXPIRED_SINGLE_PURPOSE)] += expired - held_vat
            out[(plan.sales_default_by_rate[rate], rows.expired_single_purpose_sales(rate))] -= expired - held_vat
        else:  # a multi-purpose card: no supply took place, the whole balance becomes revenue without VAT
            out[(liability, rows.EXPIRED)] += expired
            out[(_account(plan, Event.EXPIRED_GIFT_CARD), rows.EXPIRED)] -= expired


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

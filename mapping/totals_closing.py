"""What a day close decides before booking, from the whole day's :class:`mapping.totals.DayTotals`.

* :func:`control_totals`: the Z-report's figures as the day's events add up, compared by
  :func:`mapping.reconcile.differences`;
* :func:`closing_differences`: control totals within the VAT policy's tolerance, the cash drawer
  (:mod:`mapping.drawer` gives the rule) and expired gift cards; any difference holds the day;
* :func:`vat_adjustment_to_book` and :func:`adjustment_rows`: the Z_REPORT policy's VAT rounding this
  day-close voucher books: what the whole day needs, less what earlier vouchers of the day (an earlier
  Z-report) already booked.

The VAT policy (:class:`mapping.plan.VatPolicy`): which VAT per rate a day books, the receipts' line VAT
(EXACT) or the Z-report's (Z_REPORT).

A POS may round VAT per line, per receipt or per day; all are legal (Skatteverket: the VAT base is
the price, the VAT is computed on it). So Σ line VAT can differ from the Z-report's VAT by a few
öre at each rate. Under ``EXACT`` (the default) the Z-report must agree to the öre, otherwise the
day waits as a ``RECONCILIATION_MISMATCH``. Under ``Z_REPORT``:

* per rate, |Z-report VAT − Σ line VAT| ≤ ½ öre × the number of lines at that rate is rounding
  (:func:`vat_tolerance`): each line's VAT was rounded to whole öre by at most ½ öre, and a POS that
  rounds per receipt or per day rounds the same amounts once instead; beyond it, a mismatch as before.
  Gross per rate, payments and the grand total must still agree exactly, so only the net/VAT split of a
  rate moves;
* the day-close voucher books the Z-report's VAT: the difference moves between that rate's VAT
  account and that rate's sales accounts, never to any other account (:func:`adjustment_rows`).
  It is computed against the whole day (receipts of earlier manual exports included), because
  those earlier vouchers booked line VAT.

Worked example (two receipts of two 1.03 lines at 25 %): each line holds 0.206 → 0.21 VAT, so
Σ line VAT = 0.84 and net = 3.28; a POS rounding per receipt prints 2.06 × 0.2 = 0.412 → 0.41 per
receipt, 0.82 for the day. The difference, 0.02, is within 4 lines × ½ öre: the day-close voucher
debits 2611 (VAT) 0.02 and credits 3001 (sales) 0.02, so 2611 holds 0.82 and 3001 3.30, as the
Z-report says.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import date

from mapping.buckets import EXPIRY, LINE, MOVEMENT, PAYMENT, RECEIPT, SalesItem
from mapping.drawer import CashDrawer
from mapping.errors import MissingItem, UnmappedItemsError, product_group_code
from mapping.money import allocate
from mapping.plan import AccountPlan, VatPolicy, sort_missing
from mapping.reconcile import ControlTotals, Difference, differences
from mapping.register_day import DayClose
from mapping.sales import CASH_METHOD, DEPOSIT, FLOAT_CHANGE, TIP_PAYOUT, WITHDRAWAL
from mapping.totals import DayTotals


def day_totals(items: Iterable[SalesItem]) -> DayTotals:
    """The totals of one store-day's items (the store-day is theirs; none: an empty day). Single-purpose
    redemptions are not summed: nothing here depends on them."""
    listed = list(items)
    if not listed:
        return DayTotals.empty("", date.min)
    first = listed[0]
    return DayTotals.of(first.store_id, first.business_date, listed, register_id=first.register_id)


def receipt_count(totals: DayTotals) -> int:
    """Receipts, sales and returns: each is counted on its first payment, or on its own without one."""
    return sum(m for _, _, (_, _, _, m) in totals.of_kind(PAYMENT)) + totals.get(RECEIPT)[2]


def item_count(totals: DayTotals) -> int:
    """Receipts, cash movements and gift card expiries: what an export's event count counts."""
    movements = sum(n for _, _, (_, _, n, _) in totals.of_kind(MOVEMENT))
    return receipt_count(totals) + movements + sum(n for _, _, (_, _, n, _) in totals.of_kind(EXPIRY))


def expired_total(totals: DayTotals) -> int:
    """The balances of the day's expired gift cards (VAT included for single-purpose cards): what the Z-report
    states as ``gift_card_expired_total_ore``."""
    return sum(a for _, _, (a, _, _, _) in totals.of_kind(EXPIRY))


def control_totals(totals: DayTotals) -> ControlTotals:
    """The control totals the day's receipts add up to (returns subtract)."""
    vat: defaultdict[int, list[int]] = defaultdict(lambda: [0, 0])
    for _, rate, (gross, line_vat, _, _) in totals.of_kind(LINE):
        vat[rate][0] += gross
        vat[rate][1] += line_vat
    payments = {method: amount for method, _, (amount, _, _, _) in totals.of_kind(PAYMENT)}
    return ControlTotals(
        receipt_count=receipt_count(totals),
        grand_total_ore=sum(payments.values()),
        vat=tuple(sorted((rate, g, v) for rate, (g, v) in vat.items())),
        payments=tuple(sorted(payments.items())),
    )


def receipts_per_rate(totals: DayTotals) -> dict[int, int]:
    """How many receipts have at least one line at each VAT rate."""
    counts: defaultdict[int, int] = defaultdict(int)
    for _, rate, (_, _, _, m) in totals.of_kind(LINE):
        counts[rate] += m
    return dict(counts)


def lines_per_rate(totals: DayTotals) -> dict[int, int]:
    """How many lines (of sales and returns) each VAT rate has."""
    counts: defaultdict[int, int] = defaultdict(int)
    for _, rate, (_, _, n, _) in totals.of_kind(LINE):
        counts[rate] += n
    return dict(counts)


def vat_tolerance(policy: str, totals: DayTotals) -> dict[int, int] | None:
    """None (exact) under EXACT; under Z_REPORT ½ öre per line at the rate (each line's VAT was rounded to whole
    öre, by at most ½ öre), in whole öre: a difference of d öre is rounding when 2·|d| ≤ lines. 0 % excepted."""
    if policy != VatPolicy.Z_REPORT:
        return None
    return {rate: n // 2 for rate, n in lines_per_rate(totals).items() if rate != 0}


def cash_drawer(close: DayClose, totals: DayTotals) -> CashDrawer:
    """The day's cash figures (every receipt and cash movement of the whole day)."""
    by_kind = {kind: amount for kind, _, (amount, _, _, _) in totals.of_kind(MOVEMENT)}
    return CashDrawer(
        close.opening_float_ore,
        totals.get(PAYMENT, CASH_METHOD)[0],
        by_kind.get(DEPOSIT, 0),
        by_kind.get(WITHDRAWAL, 0),
        by_kind.get(FLOAT_CHANGE, 0),
        by_kind.get(TIP_PAYOUT, 0),
    )


def drawer_differences(close: DayClose, totals: DayTotals) -> tuple[Difference, ...]:
    """Where the Z-report's cash and expired gift cards disagree with the whole day's totals."""
    found: list[Difference] = []
    if close.cash_reported:
        drawer = cash_drawer(close, totals)
        if drawer.expected_ore != close.expected_cash_ore:
            found.append(Difference("expected cash", close.expected_cash_ore, drawer.expected_ore, drawer.explain()))
    if close.gift_card_expired_total_ore is not None:
        expired = expired_total(totals)
        if expired != close.gift_card_expired_total_ore:
            found.append(Difference("expired gift cards", close.gift_card_expired_total_ore, expired))
    return tuple(found)


def closing_differences(close: DayClose, control: ControlTotals, policy: str, day: DayTotals) -> tuple[Difference, ...]:
    """Control totals (VAT within the policy's tolerance), then the cash drawer and expired gift cards."""
    return differences(control, control_totals(day), vat_tolerance(policy, day)) + drawer_differences(close, day)


def line_vat_per_rate(totals: DayTotals) -> dict[int, int]:
    """Σ line VAT per rate, returns subtracted."""
    out: defaultdict[int, int] = defaultdict(int)
    for _, rate, (_, vat, _, _) in totals.of_kind(LINE):
        out[rate] += vat
    return dict(out)


def target_adjustment(policy: str, control: ControlTotals, day: DayTotals) -> dict[int, int]:
    """Öre of VAT per rate the whole day moves from net sales to VAT (+) or back (−) under Z_REPORT."""
    if policy != VatPolicy.Z_REPORT:
        return {}
    lines = line_vat_per_rate(day)
    z_vat = {rate: vat for rate, _gross, vat in control.vat}
    deltas = {rate: z_vat.get(rate, 0) - lines.get(rate, 0) for rate in set(z_vat) | set(lines)}
    return {rate: delta for rate, delta in sorted(deltas.items()) if delta}


def vat_adjustment_to_book(
    policy: str, control: ControlTotals, day: DayTotals, booked: Mapping[int, int]
) -> dict[int, int]:
    """Öre per rate (+ = more VAT) that make the day's VAT the policy's VAT, given what is ``booked`` already."""
    target = target_adjustment(policy, control, day)
    deltas = {rate: target.get(rate, 0) - booked.get(rate, 0) for rate in sorted(set(target) | set(booked))}
    return {rate: delta for rate, delta in deltas.items() if delta}


def net_per_sales_account(day: DayTotals, plan: AccountPlan, rate: int) -> dict[str, int]:
    """Net sales at ``rate`` per sales account the plan maps them to (returns subtracted)."""
    out: defaultdict[str, int] = defaultdict(int)
    missing: set[MissingItem] = set()
    for group, line_rate, (gross, vat, _, _) in day.of_kind(LINE):
        if line_rate != rate:
            continue
        account = plan.sales_account(group, rate)
        if account is None:
            missing.add(MissingItem("product_group", product_group_code(group, rate)))
            continue
        out[account] += gross - vat
    if missing:
        raise UnmappedItemsError(sort_missing(missing))
    return dict(out)


def adjustment_rows(delta_by_rate: Mapping[int, int], day: DayTotals, plan: AccountPlan) -> tuple[tuple[str, int], ...]:
    """Signed öre per account (debit +) that move each rate's VAT difference between its VAT account and its sales
    accounts. The sales side is split over the rate's sales accounts in proportion to the net each holds for the
    whole day, by largest remainder (ties to the lowest account number), so the rows always sum to zero and never
    touch another rate's accounts."""
    rows: defaultdict[str, int] = defaultdict(int)
    missing = [
        MissingItem("vat_rate", str(rate))
        for rate, delta in delta_by_rate.items()
        if delta and rate not in plan.vat_rates
    ]
    if missing:
        raise UnmappedItemsError(sort_missing(missing))
    for rate, delta in sorted(delta_by_rate.items()):
        if not delta:
            continue
        net = net_per_sales_account(day, plan, rate)
        accounts = sorted(net)
        if not accounts:
            raise UnmappedItemsError((MissingItem("vat_rate", str(rate)),))
        weights = [abs(net[a]) for a in accounts]
        if not any(weights):
            weights = [1] * len(accounts)
        rows[plan.vat_rates[rate]] -= delta
        for account, part in zip(accounts, allocate(delta, weights), strict=True):
            rows[account] += part
    return tuple(sorted((account, amount) for account, amount in rows.items() if amount))

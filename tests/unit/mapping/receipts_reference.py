"""The receipts path as it was before the totals path became the one definition of the booking rules: an
independent computation, kept only for the property tests (``test_totals_properties.py``), which show that the
voucher, the reconciliation, the drawer and the VAT rounding from the totals are those computed directly from
the receipts. Copied from mapping/aggregate.py, plan.py, reconcile.py, drawer.py, closing.py and vatpolicy.py
as of issue #16's phase 1 (commit 2161a61); do not import it from production code."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import date

from mapping.drawer import CashDrawer
from mapping.errors import (
    MissingItem,
    NothingToBookError,
    ReceiptImbalanceError,
    ReceiptResidual,
    SinglePurposeRedemptionError,
    UnmappedItemsError,
    product_group_code,
)
from mapping.money import allocate, vat_included
from mapping.plan import MOVEMENT_EVENT, AccountPlan, Event, VatPolicy, sort_missing
from mapping.plan_checks import ensure_valid
from mapping.reconcile import ControlTotals, Difference, differences
from mapping.register_day import CashMovement, DayClose, GiftCardExpiry
from mapping.sales import CASH_METHOD, DEPOSIT, FLOAT_CHANGE, TIP_PAYOUT, WITHDRAWAL, Payment, Receipt
from mapping.text import day_voucher_text
from mapping.voucher import Voucher, VoucherRow
from tests.unit.mapping.receipts_path import SalesBatch

RESULT_ACCOUNT_CLASSES = frozenset("345678")
INCOME_CLASS = "3"
DayItem = Receipt | CashMovement | GiftCardExpiry

# --- mapping/plan.py: what a batch needs mapped ----------------------------------------------------------------


def required_items(batch: SalesBatch) -> set[MissingItem]:
    """What a batch books on, as (kind, code): every method, non-zero VAT rate, (group, rate) and event."""
    needed: set[MissingItem] = set()
    for receipt in batch.receipts:
        needed.update(MissingItem("payment_method", p.method) for p in receipt.payments)
        for line in receipt.lines:
            needed.add(MissingItem("product_group", product_group_code(line.product_group, line.vat_rate)))
            if line.vat_rate != 0:
                needed.add(MissingItem("vat_rate", str(line.vat_rate)))
        if receipt.tip_ore:
            needed.add(MissingItem("event", Event.TIPS.value))
        if receipt.rounding_ore:
            needed.add(MissingItem("event", Event.ROUNDING.value))
    for movement in batch.cash_movements:
        needed.add(MissingItem("payment_method", CASH_METHOD))
        needed.add(MissingItem("event", MOVEMENT_EVENT[movement.kind].value))
    for expiry in batch.gift_card_expiries:
        needed.add(MissingItem("payment_method", expiry.method))
        if expiry.vat_rate:
            needed.add(MissingItem("product_group", f"*@{expiry.vat_rate}"))
        else:
            needed.add(MissingItem("event", Event.EXPIRED_GIFT_CARD.value))
    if batch.day_close is not None and batch.day_close.cash_difference_ore:
        needed.add(MissingItem("payment_method", CASH_METHOD))
        short = batch.day_close.cash_difference_ore < 0
        needed.add(MissingItem("event", (Event.CASH_SHORTAGE if short else Event.CASH_OVERAGE).value))
    return needed


def missing_for(plan: AccountPlan, batch: SalesBatch) -> tuple[MissingItem, ...]:
    needed = required_items(batch) | {
        MissingItem("vat_rate", str(plan.single_purpose_methods[p.method]))
        for r in batch.receipts
        for p in r.payments
        if plan.single_purpose_methods.get(p.method)
    }
    return sort_missing(item for item in needed if not plan.maps(item))


# --- mapping/aggregate.py: the voucher -------------------------------------------------------------------------


def check_receipts(batch: SalesBatch) -> None:
    """Raise :class:`ReceiptImbalanceError` naming every receipt whose payments do not add up."""
    off = tuple(ReceiptResidual(r.receipt_id, r.residual_ore) for r in batch.receipts if r.residual_ore != 0)
    if off:
        raise ReceiptImbalanceError(off)


def check_mapped(batch: SalesBatch, plan: AccountPlan) -> None:
    """Raise :class:`UnmappedItemsError` naming every item of the batch the plan lacks."""
    missing = missing_for(plan, batch)
    if missing:
        raise UnmappedItemsError(missing)


def check_single_purpose(batch: SalesBatch, plan: AccountPlan) -> None:
    """Raise :class:`SinglePurposeRedemptionError` for every receipt whose single-purpose cards of a rate
    pay more than its lines at that rate: the card's VAT would come off sales it was not for."""
    off: list[ReceiptResidual] = []
    for receipt in batch.receipts:
        paid: defaultdict[int, int] = defaultdict(int)
        for payment in receipt.payments:
            if payment.method in plan.single_purpose_methods:
                paid[plan.single_purpose_methods[payment.method]] += payment.amount_ore
        excess = sum(max(0, amount - _gross_at(receipt, rate)) for rate, amount in paid.items())
        if excess:
            off.append(ReceiptResidual(receipt.receipt_id, excess))
    if off:
        raise SinglePurposeRedemptionError(tuple(off))


def _gross_at(receipt: Receipt, rate: int) -> int:
    return sum(line.gross_ore for line in receipt.lines if line.vat_rate == rate)


def _book_payment(totals: defaultdict[str, int], plan: AccountPlan, sign: int, payment: Payment) -> None:
    account = plan.payment_methods[payment.method]
    rate = plan.single_purpose_methods.get(payment.method)
    vat = vat_included(payment.amount_ore, rate) if rate else 0
    totals[account] += sign * (payment.amount_ore - vat)
    if vat:
        totals[plan.vat_rates[rate]] += sign * vat  # type: ignore[index]  # rate is set when vat is


def _account(plan: AccountPlan, event: Event) -> str:
    account = plan.event_account(event)
    if account is None:  # pragma: no cover - check_mapped runs first
        raise UnmappedItemsError(())
    return account


def account_totals(
    batch: SalesBatch, plan: AccountPlan, vat_adjustment: Sequence[tuple[str, int]] = ()
) -> dict[str, int]:
    """Signed öre per account, before cost centres. Assumes the checks above have passed."""
    totals: defaultdict[str, int] = defaultdict(int)
    methods = plan.payment_methods
    for receipt in batch.receipts:
        s = receipt.sign
        for payment in receipt.payments:
            _book_payment(totals, plan, s, payment)
        for line in receipt.lines:
            totals[plan.sales_account(line.product_group, line.vat_rate) or ""] -= s * line.net_ore
            if line.vat_ore:
                totals[plan.vat_rates[line.vat_rate]] -= s * line.vat_ore
        if receipt.tip_ore:
            totals[_account(plan, Event.TIPS)] -= s * receipt.tip_ore
        if receipt.rounding_ore:
            totals[_account(plan, Event.ROUNDING)] -= s * receipt.rounding_ore
    for movement in batch.cash_movements:
        totals[methods[CASH_METHOD]] += movement.cash_effect_ore
        totals[_account(plan, MOVEMENT_EVENT[movement.kind])] -= movement.cash_effect_ore
    for expiry in batch.gift_card_expiries:
        # Issue #21: a single-purpose card's VAT was booked at its sale; only the balance net of it is owed.
        # Its revenue is a sale taxed at that rate: the rate's default sales account.
        net = expiry.amount_ore - (vat_included(expiry.amount_ore, expiry.vat_rate) if expiry.vat_rate else 0)
        totals[methods[expiry.method]] += net
        if expiry.vat_rate:
            totals[plan.sales_default_by_rate[expiry.vat_rate]] -= net
        else:
            totals[_account(plan, Event.EXPIRED_GIFT_CARD)] -= net
    if batch.day_close is not None and batch.day_close.cash_difference_ore:
        difference = batch.day_close.cash_difference_ore
        totals[methods[CASH_METHOD]] += difference
        totals[_account(plan, Event.CASH_SHORTAGE if difference < 0 else Event.CASH_OVERAGE)] -= difference
    for account, amount in vat_adjustment:
        totals[account] += amount
    return dict(totals)


def voucher_rows(
    batch: SalesBatch, plan: AccountPlan, vat_adjustment: Sequence[tuple[str, int]] = ()
) -> tuple[VoucherRow, ...]:
    """The voucher's rows: grouped per (account, cost centre), zeros dropped, sorted."""
    centre = plan.cost_centre_for(batch.store_id)
    grouped: defaultdict[tuple[str, str | None], int] = defaultdict(int)
    for account, amount in account_totals(batch, plan, vat_adjustment).items():
        on_result = account[0] in RESULT_ACCOUNT_CLASSES
        grouped[(account, centre if on_result or plan.cost_centre_on_balance_accounts else None)] += amount
    return tuple(
        VoucherRow(account=account, amount_ore=amount, cost_centre=cc)
        for (account, cc), amount in sorted(grouped.items(), key=lambda kv: (kv[0][0], kv[0][1] or ""))
        if amount != 0
    )


def sales_rates(batch: SalesBatch, plan: AccountPlan) -> tuple[tuple[str, int], ...]:
    """(income account, VAT rate) of every sales line: what pre-flight checks against BL's VAT codes."""
    pairs = {
        (account, line.vat_rate)
        for receipt in batch.receipts
        for line in receipt.lines
        if (account := plan.sales_account(line.product_group, line.vat_rate)) and account[0] == INCOME_CLASS
    }
    pairs |= {  # an expired single-purpose card's revenue, on its rate's default sales account (issue #21)
        (account, e.vat_rate)
        for e in batch.gift_card_expiries
        if e.vat_rate and (account := plan.sales_default_by_rate.get(e.vat_rate)) and account[0] == INCOME_CLASS
    }
    return tuple(sorted(pairs))


def build_voucher(
    batch: SalesBatch,
    plan: AccountPlan,
    *,
    store_name: str,
    reference: str,
    entry_date: date | None = None,
    vat_adjustment: Sequence[tuple[str, int]] = (),
) -> Voucher:
    """Book ``batch`` through ``plan`` as one voucher dated the business date (unless overridden).

    ``vat_adjustment`` are the rows that move a rate's VAT rounding between its sales and VAT
    accounts under the Z_REPORT policy (:func:`mapping.vatpolicy.adjustment_rows`); they sum to zero.

    Checks, in order, each listing every problem it finds: the sales data
    (:class:`ReceiptImbalanceError`; malformed data cannot even be built), the plan
    (:class:`InvalidPlanError`), the mapping (:class:`UnmappedItemsError`), then single-purpose
    redemptions (:class:`SinglePurposeRedemptionError`). A batch that nets to zero everywhere raises
    :class:`NothingToBookError`. The result balances by construction; :class:`Voucher` refuses to
    exist otherwise.
    """
    if sum(amount for _, amount in vat_adjustment) != 0:
        raise ValueError(f"a VAT adjustment must sum to zero: {vat_adjustment!r}")
    check_receipts(batch)
    ensure_valid(plan)
    check_mapped(batch, plan)
    check_single_purpose(batch, plan)
    rows = voucher_rows(batch, plan, vat_adjustment)
    if not rows:
        raise NothingToBookError(f"nothing to book for store {batch.store_id} on {batch.business_date}")
    return Voucher(
        series=plan.series,
        entry_date=entry_date or batch.business_date,
        text=day_voucher_text(store_name, batch.business_date, batch.z_report_number, reference),
        reference=reference,
        rows=rows,
        sales_rates=sales_rates(batch, plan),
    )


# --- mapping/reconcile.py, drawer.py, closing.py, vatpolicy.py: the day close's decisions -------------------


def totals_of(receipts: Iterable[Receipt]) -> ControlTotals:
    """The control totals the given receipts add up to (returns subtract)."""
    count = 0
    grand = 0
    vat: dict[int, list[int]] = {}
    payments: dict[str, int] = {}
    for receipt in receipts:
        count += 1
        sign = receipt.sign
        grand += sign * receipt.paid_ore
        for line in receipt.lines:
            bucket = vat.setdefault(line.vat_rate, [0, 0])
            bucket[0] += sign * line.gross_ore
            bucket[1] += sign * line.vat_ore
        for payment in receipt.payments:
            payments[payment.method] = payments.get(payment.method, 0) + sign * payment.amount_ore
    return ControlTotals(
        receipt_count=count,
        grand_total_ore=grand,
        vat=tuple(sorted((rate, g, v) for rate, (g, v) in vat.items())),
        payments=tuple(sorted(payments.items())),
    )


def cash_drawer(close: DayClose, receipts: Iterable[Receipt], movements: Iterable[CashMovement]) -> CashDrawer:
    """The day's cash figures from its events (every receipt and cash movement of the whole day)."""
    paid = sum(r.sign * p.amount_ore for r in receipts for p in r.payments if p.method == CASH_METHOD)
    by_kind = {DEPOSIT: 0, WITHDRAWAL: 0, FLOAT_CHANGE: 0, TIP_PAYOUT: 0}
    for movement in movements:
        by_kind[movement.kind] += movement.amount_ore
    return CashDrawer(
        close.opening_float_ore, paid, by_kind[DEPOSIT], by_kind[WITHDRAWAL], by_kind[FLOAT_CHANGE], by_kind[TIP_PAYOUT]
    )


def drawer_differences(
    close: DayClose,
    receipts: Iterable[Receipt],
    movements: Iterable[CashMovement],
    expiries: Iterable[GiftCardExpiry],
) -> tuple[Difference, ...]:
    """Where the Z-report's cash and expired gift cards disagree with the whole day's events; empty if they agree."""
    found: list[Difference] = []
    if close.cash_reported:
        drawer = cash_drawer(close, receipts, movements)
        if drawer.expected_ore != close.expected_cash_ore:
            found.append(Difference("expected cash", close.expected_cash_ore, drawer.expected_ore, drawer.explain()))
    if close.gift_card_expired_total_ore is not None:
        expired = sum(e.amount_ore for e in expiries)
        if expired != close.gift_card_expired_total_ore:
            found.append(Difference("expired gift cards", close.gift_card_expired_total_ore, expired))
    return tuple(found)


def closing_differences(
    close: DayClose, control: ControlTotals, policy: str, day_items: Iterable[DayItem]
) -> tuple[Difference, ...]:
    """Control totals (VAT within the policy's tolerance), then the cash drawer and expired gift cards."""
    items = list(day_items)
    receipts = [i for i in items if isinstance(i, Receipt)]
    movements = [i for i in items if isinstance(i, CashMovement)]
    expiries = [i for i in items if isinstance(i, GiftCardExpiry)]
    found = differences(control, totals_of(receipts), vat_tolerance(policy, receipts))
    return found + drawer_differences(close, receipts, movements, expiries)


def vat_adjustment_to_book(
    policy: str, control: ControlTotals, day_items: Iterable[DayItem], booked: Mapping[int, int]
) -> dict[int, int]:
    """Öre per rate (+ = more VAT) that make the day's VAT the policy's VAT, given what is ``booked`` already."""
    target = target_adjustment(policy, control, [i for i in day_items if isinstance(i, Receipt)])
    deltas = {rate: target.get(rate, 0) - booked.get(rate, 0) for rate in sorted(set(target) | set(booked))}
    return {rate: delta for rate, delta in deltas.items() if delta}


def receipts_per_rate(receipts: Iterable[Receipt]) -> dict[int, int]:
    """How many receipts (sales and returns) have at least one line at each VAT rate."""
    counts: defaultdict[int, int] = defaultdict(int)
    for receipt in receipts:
        for rate in {line.vat_rate for line in receipt.lines}:
            counts[rate] += 1
    return dict(counts)


def vat_tolerance(policy: str, receipts: Iterable[Receipt]) -> dict[int, int] | None:
    """Öre of VAT difference per rate the policy accepts: None (exact) under EXACT, ½ öre per line at the
    rate under Z_REPORT (whole öre: lines // 2). A 0 % rate carries no VAT, so it gets no tolerance."""
    if policy != VatPolicy.Z_REPORT:
        return None
    lines: defaultdict[int, int] = defaultdict(int)
    for receipt in receipts:
        for line in receipt.lines:
            lines[line.vat_rate] += 1
    return {rate: n // 2 for rate, n in lines.items() if rate != 0}


def line_vat_per_rate(receipts: Iterable[Receipt]) -> dict[int, int]:
    """Σ line VAT per rate, returns subtracted."""
    totals: defaultdict[int, int] = defaultdict(int)
    for receipt in receipts:
        for line in receipt.lines:
            totals[line.vat_rate] += receipt.sign * line.vat_ore
    return dict(totals)


def target_adjustment(policy: str, control: ControlTotals, receipts: Iterable[Receipt]) -> dict[int, int]:
    """Öre of VAT per rate the whole day must move from net sales to VAT (+) or back (−): the Z-report's
    VAT − Σ line VAT under Z_REPORT (after the tolerance check passed), nothing under EXACT."""
    if policy != VatPolicy.Z_REPORT:
        return {}
    lines = line_vat_per_rate(receipts)
    z_vat = {rate: vat for rate, _gross, vat in control.vat}
    deltas = {rate: z_vat.get(rate, 0) - lines.get(rate, 0) for rate in set(z_vat) | set(lines)}
    return {rate: delta for rate, delta in sorted(deltas.items()) if delta}


def net_per_sales_account(receipts: Iterable[Receipt], plan: AccountPlan, rate: int) -> dict[str, int]:
    """Net sales at ``rate`` per sales account the plan maps them to (returns subtracted)."""
    totals: defaultdict[str, int] = defaultdict(int)
    missing: set[MissingItem] = set()
    for receipt in receipts:
        for line in receipt.lines:
            if line.vat_rate != rate:
                continue
            account = plan.sales_account(line.product_group, rate)
            if account is None:
                missing.add(MissingItem("product_group", product_group_code(line.product_group, rate)))
                continue
            totals[account] += receipt.sign * line.net_ore
    if missing:
        raise UnmappedItemsError(sort_missing(missing))
    return dict(totals)


def adjustment_rows(
    delta_by_rate: Mapping[int, int], day_receipts: Iterable[Receipt], plan: AccountPlan
) -> tuple[tuple[str, int], ...]:
    """Signed öre per account (debit +) that move each rate's VAT difference between its VAT account and
    its sales accounts. The sales side is split over the rate's sales accounts in proportion to the net
    each holds for the whole day, by largest remainder (ties to the lowest account number), so the
    rows always sum to zero and never touch another rate's accounts."""
    receipts = tuple(day_receipts)
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
        net = net_per_sales_account(receipts, plan, rate)
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

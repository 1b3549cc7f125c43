"""A batch of one store's sales + the account plan → one balanced voucher.

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
Z_REPORT VAT rounding           sales of rate r ↔ VAT of rate r (see :mod:`mapping.vatpolicy`)
==============================  ======================================  ===================================

"Cash" is the account mapped for payment method ``"cash"``. A multi-purpose gift card sold is an
ordinary line in a 0 % product group mapped to the liability (e.g. 2421); its redemption is the
payment method ``"gift_card"`` debiting the same liability, and the goods bought carry their VAT.
A single-purpose card (enfunktionsvoucher) is sold in a group flagged single-purpose, at its VAT
rate, so its VAT is booked at issue on the normal line rule; its redemption method takes the VAT it
contains off the receipt's VAT of that rate, because redeeming it is not a second taxable sale.
VAT comes from the receipt lines, summed per rate; net sales = gross − VAT, so nothing is
recomputed or rounded here except v, in :func:`mapping.money.vat_included`.

Rows are summed per (account, cost centre); rows that net to zero are dropped; the order is
by account, then cost centre. Receipts that do not add up are a data error, never plugged.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date

from mapping.errors import (
    NothingToBookError,
    ReceiptImbalanceError,
    ReceiptResidual,
    SinglePurposeRedemptionError,
    UnmappedItemsError,
)
from mapping.money import vat_included
from mapping.plan import MOVEMENT_EVENT, AccountPlan, Event
from mapping.sales import CASH_METHOD, GIFT_CARD_METHOD, Payment, Receipt, SalesBatch
from mapping.text import day_voucher_text
from mapping.voucher import Voucher, VoucherRow

#: Accounts in classes 3–8 are result (income statement) accounts; 1–2 are the balance sheet.
RESULT_ACCOUNT_CLASSES = frozenset("345678")
INCOME_CLASS = "3"


def check_receipts(batch: SalesBatch) -> None:
    """Raise :class:`ReceiptImbalanceError` naming every receipt whose payments do not add up."""
    off = tuple(ReceiptResidual(r.receipt_id, r.residual_ore) for r in batch.receipts if r.residual_ore != 0)
    if off:
        raise ReceiptImbalanceError(off)


def check_mapped(batch: SalesBatch, plan: AccountPlan) -> None:
    """Raise :class:`UnmappedItemsError` naming every item of the batch the plan lacks."""
    missing = plan.missing_for(batch)
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
        totals[methods[GIFT_CARD_METHOD]] += expiry.amount_ore
        totals[_account(plan, Event.EXPIRED_GIFT_CARD)] -= expiry.amount_ore
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
    plan.ensure_valid()
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

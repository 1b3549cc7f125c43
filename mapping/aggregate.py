"""A batch of one store's sales + the account plan → one balanced voucher.

Booking rules (signs as BL wants them: debit +, credit −), per receipt with ``s`` = +1 for a
sale and −1 for a return, so returns mirror sales exactly:

==========================  =================================  ==============================
What                        Debit (+)                          Credit (−)
==========================  =================================  ==============================
payment                     payment-method account  s·amount
line                                                           product-group account s·(gross − VAT)
                                                               VAT-rate account s·VAT
card tip                                                       TIPS (liability) s·tip
öre rounding                                                   ROUNDING s·rounding
cash deposit / withdrawal   cash ↔ CASH_DEPOSIT / CASH_WITHDRAWAL (cash debited when cash comes in)
float change                cash ↔ FLOAT_CHANGE
expired gift card           gift card liability (method "gift_card")   EXPIRED_GIFT_CARD revenue
cash difference             cash (counted − expected)          CASH_DIFFERENCE
==========================  =================================  ==============================

"Cash" is the account mapped for payment method ``"cash"``. A gift card sold is an ordinary
line in a 0 % product group mapped to the liability (e.g. 2421); its redemption is the
payment method ``"gift_card"`` debiting the same liability. VAT comes from the receipt lines,
summed per rate; net sales = gross − VAT, so nothing is recomputed or rounded here.

Rows are summed per (account, cost centre); rows that net to zero are dropped; the order is
by account, then cost centre. Receipts that do not add up are a data error, never plugged.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from mapping.errors import (
    NothingToBookError,
    ReceiptImbalanceError,
    ReceiptResidual,
    UnmappedItemsError,
)
from mapping.plan import MOVEMENT_EVENT, AccountPlan, Event
from mapping.sales import CASH_METHOD, GIFT_CARD_METHOD, SalesBatch
from mapping.text import day_voucher_text
from mapping.voucher import Voucher, VoucherRow

#: Accounts in classes 3–8 are result (income statement) accounts; 1–2 are the balance sheet.
RESULT_ACCOUNT_CLASSES = frozenset("345678")


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


def account_totals(batch: SalesBatch, plan: AccountPlan) -> dict[str, int]:
    """Signed öre per account, before cost centres. Assumes the checks above have passed."""
    totals: defaultdict[str, int] = defaultdict(int)
    methods, events = plan.payment_methods, plan.events
    for receipt in batch.receipts:
        s = receipt.sign
        for payment in receipt.payments:
            totals[methods[payment.method]] += s * payment.amount_ore
        for line in receipt.lines:
            totals[plan.product_groups[line.product_group]] -= s * line.net_ore
            if line.vat_ore:
                totals[plan.vat_rates[line.vat_rate]] -= s * line.vat_ore
        if receipt.tip_ore:
            totals[events[Event.TIPS]] -= s * receipt.tip_ore
        if receipt.rounding_ore:
            totals[events[Event.ROUNDING]] -= s * receipt.rounding_ore
    for movement in batch.cash_movements:
        totals[methods[CASH_METHOD]] += movement.cash_effect_ore
        totals[events[MOVEMENT_EVENT[movement.kind]]] -= movement.cash_effect_ore
    for expiry in batch.gift_card_expiries:
        totals[methods[GIFT_CARD_METHOD]] += expiry.amount_ore
        totals[events[Event.EXPIRED_GIFT_CARD]] -= expiry.amount_ore
    if batch.day_close is not None and batch.day_close.cash_difference_ore:
        difference = batch.day_close.cash_difference_ore
        totals[methods[CASH_METHOD]] += difference
        totals[events[Event.CASH_DIFFERENCE]] -= difference
    return dict(totals)


def voucher_rows(batch: SalesBatch, plan: AccountPlan) -> tuple[VoucherRow, ...]:
    """The voucher's rows: grouped per (account, cost centre), zeros dropped, sorted."""
    centre = plan.cost_centre_for(batch.store_id)
    grouped: defaultdict[tuple[str, str | None], int] = defaultdict(int)
    for account, amount in account_totals(batch, plan).items():
        on_result = account[0] in RESULT_ACCOUNT_CLASSES
        grouped[(account, centre if on_result or plan.cost_centre_on_balance_accounts else None)] += amount
    return tuple(
        VoucherRow(account=account, amount_ore=amount, cost_centre=cc)
        for (account, cc), amount in sorted(grouped.items(), key=lambda kv: (kv[0][0], kv[0][1] or ""))
        if amount != 0
    )


def build_voucher(
    batch: SalesBatch,
    plan: AccountPlan,
    *,
    store_name: str,
    reference: str,
    entry_date: date | None = None,
) -> Voucher:
    """Book ``batch`` through ``plan`` as one voucher dated the business date (unless overridden).

    Checks, in order, each listing every problem it finds: the sales data
    (:class:`ReceiptImbalanceError`; malformed data cannot even be built), the plan
    (:class:`InvalidPlanError`), then the mapping (:class:`UnmappedItemsError`). A batch that
    nets to zero everywhere raises :class:`NothingToBookError`. The result balances by
    construction; :class:`Voucher` refuses to exist otherwise.
    """
    check_receipts(batch)
    plan.ensure_valid()
    check_mapped(batch, plan)
    rows = voucher_rows(batch, plan)
    if not rows:
        raise NothingToBookError(f"nothing to book for store {batch.store_id} on {batch.business_date}")
    return Voucher(
        series=plan.series,
        entry_date=entry_date or batch.business_date,
        text=day_voucher_text(store_name, batch.business_date, batch.z_report_number, reference),
        reference=reference,
        rows=rows,
    )

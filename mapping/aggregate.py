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

Rows are one per (account, kind of event, cost centre), each with its kind's text (:mod:`mapping.rows`): an
account reconciles against its own statement only when, say, Swish takings and cash taken to the bank are not
netted into one row. Rows that net to zero are dropped; the order is by account, then kind. Receipts that do
not add up are a data error, never plugged.

One definition: a batch is summed into a store-day's totals (:mod:`mapping.totals`) and booked from them
(:mod:`mapping.totals_booking`), the path a day close takes from its stored running totals; so a voucher
built here from receipts is by construction the one the service books from totals.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from mapping.errors import ReceiptImbalanceError, SinglePurposeRedemptionError
from mapping.plan import AccountPlan
from mapping.sales import SalesBatch
from mapping.totals import DayTotals
from mapping.totals_booking import INCOME_CLASS, RESULT_ACCOUNT_CLASSES, build_voucher_from_totals
from mapping.totals_booking import account_totals as account_totals_of_totals
from mapping.voucher import Voucher

__all__ = ["INCOME_CLASS", "RESULT_ACCOUNT_CLASSES", "account_totals", "build_voucher"]


def account_totals(
    batch: SalesBatch, plan: AccountPlan, vat_adjustment: Sequence[tuple[str, int]] = ()
) -> dict[str, int]:
    """Signed öre per account, before cost centres. Assumes the checks of :func:`build_voucher` have passed."""
    totals = DayTotals.of_batch(batch, plan.single_purpose_methods)
    return account_totals_of_totals(totals, plan, batch.day_close, vat_adjustment)


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
    redemptions (:class:`SinglePurposeRedemptionError`); receipts are named in the batch's order. A batch
    that nets to zero everywhere raises :class:`NothingToBookError`. The result balances by construction;
    :class:`Voucher` refuses to exist otherwise.
    """
    try:
        return build_voucher_from_totals(
            DayTotals.of_batch(batch, plan.single_purpose_methods),
            plan,
            batch.day_close,
            store_name=store_name,
            reference=reference,
            entry_date=entry_date,
            vat_adjustment=vat_adjustment,
            z_report_number=batch.z_report_number,
        )
    except (ReceiptImbalanceError, SinglePurposeRedemptionError) as exc:
        # Totals know receipts by id only; a batch can name them in the order the day sold them.
        order = {r.receipt_id: i for i, r in enumerate(batch.receipts)}
        raise type(exc)(tuple(sorted(exc.receipts, key=lambda r: order[r.receipt_id]))) from None

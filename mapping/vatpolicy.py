"""Which VAT per rate a day books: the receipts' line VAT (EXACT) or the Z-report's (Z_REPORT).

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

The functions here take a day's receipts, sum them into the day's totals and decide there
(:mod:`mapping.totals_closing`, the one definition), as a day close does from its stored running totals.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from mapping import totals_closing as of_totals
from mapping.plan import AccountPlan
from mapping.reconcile import ControlTotals
from mapping.sales import Receipt
from mapping.totals_closing import day_totals


def receipts_per_rate(receipts: Iterable[Receipt]) -> dict[int, int]:
    """How many receipts (sales and returns) have at least one line at each VAT rate."""
    return of_totals.receipts_per_rate(day_totals(receipts))


def vat_tolerance(policy: str, receipts: Iterable[Receipt]) -> dict[int, int] | None:
    """Öre of VAT difference per rate the policy accepts: None (exact) under EXACT, ½ öre per line at the
    rate under Z_REPORT (in whole öre: lines // 2). A 0 % rate carries no VAT, so it gets no tolerance."""
    return of_totals.vat_tolerance(policy, day_totals(receipts))


def line_vat_per_rate(receipts: Iterable[Receipt]) -> dict[int, int]:
    """Σ line VAT per rate, returns subtracted."""
    return of_totals.line_vat_per_rate(day_totals(receipts))


def target_adjustment(policy: str, control: ControlTotals, receipts: Iterable[Receipt]) -> dict[int, int]:
    """Öre of VAT per rate the whole day must move from net sales to VAT (+) or back (−): the Z-report's
    VAT − Σ line VAT under Z_REPORT (after the tolerance check passed), nothing under EXACT."""
    return of_totals.target_adjustment(policy, control, day_totals(receipts))


def net_per_sales_account(receipts: Iterable[Receipt], plan: AccountPlan, rate: int) -> dict[str, int]:
    """Net sales at ``rate`` per sales account the plan maps them to (returns subtracted)."""
    return of_totals.net_per_sales_account(day_totals(receipts), plan, rate)


def adjustment_rows(
    delta_by_rate: Mapping[int, int], day_receipts: Iterable[Receipt], plan: AccountPlan
) -> tuple[tuple[str, int], ...]:
    """Signed öre per account (debit +) that move each rate's VAT difference between its VAT account and
    its sales accounts. The sales side is split over the rate's sales accounts in proportion to the net
    each holds for the whole day, by largest remainder (ties to the lowest account number), so the
    rows always sum to zero and never touch another rate's accounts."""
    return of_totals.adjustment_rows(delta_by_rate, day_totals(day_receipts), plan)

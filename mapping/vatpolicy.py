"""Which VAT per rate a day books: the receipts' line VAT (EXACT) or the Z-report's (Z_REPORT).

A POS may round VAT per line, per receipt or per day; all are legal (Skatteverket: the VAT base is
the price, the VAT is computed on it). So Σ line VAT can differ from the Z-report's VAT by a few
öre at each rate. Under ``EXACT`` (the default) the Z-report must agree to the öre, otherwise the
day waits as a ``RECONCILIATION_MISMATCH``. Under ``Z_REPORT``:

* per rate, |Z-report VAT − Σ line VAT| ≤ 1 öre × the number of receipts with a line at that rate
  is rounding (:func:`vat_tolerance`); beyond it, a mismatch as before. Gross per rate, payments and
  the grand total must still agree exactly, so only the net/VAT split of a rate moves;
* the day-close voucher books the Z-report's VAT: the difference moves between that rate's VAT
  account and that rate's sales accounts, never to any other account (:func:`adjustment_rows`).
  It is computed against the whole day (receipts of earlier manual exports included), because
  those earlier vouchers booked line VAT.

Worked example (two receipts of two 1.03 lines at 25 %): each line holds 0.206 → 0.21 VAT, so
Σ line VAT = 0.84 and net = 3.28; a POS rounding per receipt prints 2.06 × 0.2 = 0.412 → 0.41 per
receipt, 0.82 for the day. The difference, 0.02, is within 2 receipts × 1 öre: the day-close voucher
debits 2611 (VAT) 0.02 and credits 3001 (sales) 0.02, so 2611 holds 0.82 and 3001 3.30, as the
Z-report says.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping

from mapping.errors import MissingItem, UnmappedItemsError, product_group_code
from mapping.money import allocate
from mapping.plan import AccountPlan, VatPolicy, sort_missing
from mapping.reconcile import ControlTotals
from mapping.sales import Receipt


def receipts_per_rate(receipts: Iterable[Receipt]) -> dict[int, int]:
    """How many receipts (sales and returns) have at least one line at each VAT rate."""
    counts: defaultdict[int, int] = defaultdict(int)
    for receipt in receipts:
        for rate in {line.vat_rate for line in receipt.lines}:
            counts[rate] += 1
    return dict(counts)


def vat_tolerance(policy: str, receipts: Iterable[Receipt]) -> dict[int, int] | None:
    """Öre of VAT difference per rate the policy accepts: None (exact) under EXACT, 1 öre per receipt
    with a line at the rate under Z_REPORT. A 0 % rate carries no VAT, so it gets no tolerance."""
    if policy != VatPolicy.Z_REPORT:
        return None
    return {rate: n for rate, n in receipts_per_rate(receipts).items() if rate != 0}


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

"""The decisions a day close makes before it is booked, as plain functions of the whole day's items.

* :func:`closing_differences`: everything the Z-report and the day's events disagree on, the control
  totals (with the VAT policy's rounding tolerance) and the cash drawer; any difference holds the day.
* :func:`vat_adjustment_to_book`: the Z_REPORT VAT rounding this day-close voucher books: what the
  whole day needs, less what earlier vouchers of the day (an earlier Z-report) already booked.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from mapping.drawer import drawer_differences
from mapping.reconcile import ControlTotals, Difference, differences, totals_of
from mapping.sales import CashMovement, DayClose, GiftCardExpiry, Receipt
from mapping.vatpolicy import target_adjustment, vat_tolerance

DayItem = Receipt | CashMovement | GiftCardExpiry


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

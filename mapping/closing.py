"""The decisions a day close makes before it is booked, as plain functions of the whole day's items.

* :func:`closing_differences`: everything the Z-report and the day's events disagree on, the control
  totals (with the VAT policy's rounding tolerance) and the cash drawer; any difference holds the day.
* :func:`vat_adjustment_to_book`: the Z_REPORT VAT rounding this day-close voucher books: what the
  whole day needs, less what earlier vouchers of the day (an earlier Z-report) already booked.

Both sum the items into the day's totals and decide there (:mod:`mapping.totals_closing`, the one definition),
as a day close does from its stored running totals.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from mapping.reconcile import ControlTotals, Difference
from mapping.sales import CashMovement, DayClose, GiftCardExpiry, Receipt
from mapping.totals_closing import closing_differences as closing_differences_of_totals
from mapping.totals_closing import day_totals
from mapping.totals_closing import vat_adjustment_to_book as vat_adjustment_of_totals

DayItem = Receipt | CashMovement | GiftCardExpiry


def closing_differences(
    close: DayClose, control: ControlTotals, policy: str, day_items: Iterable[DayItem]
) -> tuple[Difference, ...]:
    """Control totals (VAT within the policy's tolerance), then the cash drawer and expired gift cards."""
    return closing_differences_of_totals(close, control, policy, day_totals(day_items))


def vat_adjustment_to_book(
    policy: str, control: ControlTotals, day_items: Iterable[DayItem], booked: Mapping[int, int]
) -> dict[int, int]:
    """Öre per rate (+ = more VAT) that make the day's VAT the policy's VAT, given what is ``booked`` already."""
    return vat_adjustment_of_totals(policy, control, day_totals(day_items), booked)

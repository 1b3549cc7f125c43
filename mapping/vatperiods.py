"""VAT reporting periods (redovisningsperioder) and when their return (momsdeklaration) is due. Pure.

Which period a merchant reports is Skatteverket's decision, by the taxable base of the year
(skatteverket.se, "När ska jag deklarera moms?"; 26 kap. 10–11 §§ skatteförfarandelagen, SFL): at most
1 million SEK the whole fiscal year (or, on request, quarter or month), at most 40 million SEK a calendar
quarter (or month), above 40 million SEK a calendar month. It is a setting of the integration
(:class:`VatReporting`); unset, dayclose assumes **monthly**, the shortest period, so that no return that may
already be filed is ever missed by a warning (docs/booking-rules.md).

When the return must have reached Skatteverket (26 kap. 26–33 §§ SFL, as Skatteverket's rättslig vägledning
and its "Viktiga datum" give them):

==========================================  ===================================================================
period                                      deadline
==========================================  ===================================================================
calendar quarter                            the 12th of the second month after it; April–June: 17 August
calendar month, taxable base ≤ 40 MSEK      the 12th of the second month after it; in January and August the 17th
calendar month, taxable base > 40 MSEK      the 26th of the month after it; in December the 27th (26 kap. 30 §)
fiscal year (taxable base ≤ 1 MSEK)         the 26th of the second month after it (26 kap. 33 §) — the earliest of
                                            the yearly dates: without EU trade Skatteverket moves it to the month
                                            of the income tax return, so dayclose's date is conservative
==========================================  ===================================================================

A deadline on a Saturday, Sunday, public holiday, midsommarafton, julafton or nyårsafton moves to the next weekday
(lag 1930:173, :mod:`mapping.holidays`). A return is **due** from the day after its period ends (it may be filed
from then on) until its deadline, and **past due** after it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from mapping.holidays import statutory_deadline
from mapping.periods import FiscalYear


class VatFrequency(StrEnum):
    MONTHLY = "MONTHLY"
    QUARTERLY = "QUARTERLY"
    YEARLY = "YEARLY"


class ReturnStatus(StrEnum):
    """Where a period's VAT return stands on a given day."""

    OPEN = "OPEN"  # the period has not ended: nothing can have been filed
    DUE = "DUE"  # ended, deadline not passed: the return may be filed already
    PAST_DUE = "PAST_DUE"  # the deadline has passed: the return should have been filed


class InvalidVatReporting(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class VatReporting:
    """The merchant's VAT reporting: how often, and (monthly only) whether the taxable base is above 40 MSEK.
    ``is_set`` is False for the assumed default."""

    frequency: VatFrequency = VatFrequency.MONTHLY
    above_40_msek: bool = False
    is_set: bool = True

    def __post_init__(self) -> None:
        if self.above_40_msek and self.frequency != VatFrequency.MONTHLY:
            raise InvalidVatReporting("above 40 MSEK of taxable base, VAT is reported monthly (26 kap. 10 § SFL)")


#: What is assumed while the merchant has not said: the shortest period.
DEFAULT_REPORTING = VatReporting(VatFrequency.MONTHLY, False, is_set=False)


@dataclass(frozen=True, slots=True)
class VatPeriod:
    kind: VatFrequency
    start: date
    end: date

    def contains(self, day: date) -> bool:
        return self.start <= day <= self.end

    @property
    def label(self) -> str:
        """``2026-11``, ``2026Q4``, ``2026`` (a calendar year) or ``2025-07-01–2026-06-30`` (a broken fiscal year)."""
        if self.kind == VatFrequency.MONTHLY:
            return f"{self.start:%Y-%m}"
        if self.kind == VatFrequency.QUARTERLY:
            return f"{self.start.year}Q{(self.start.month - 1) // 3 + 1}"
        if (self.start.month, self.start.day, self.end.month, self.end.day) == (1, 1, 12, 31):
            return str(self.start.year)
        return f"{self.start.isoformat()}–{self.end.isoformat()}"


def _month_end(year: int, month: int) -> date:
    return date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)


def month(year: int, number: int) -> VatPeriod:
    return VatPeriod(VatFrequency.MONTHLY, date(year, number, 1), _month_end(year, number))


def quarter(year: int, number: int) -> VatPeriod:
    if not 1 <= number <= 4:
        raise ValueError(f"a quarter is 1–4, got {number}")
    first = 3 * number - 2
    return VatPeriod(VatFrequency.QUARTERLY, date(year, first, 1), _month_end(year, first + 2))


def calendar_year(year: int) -> VatPeriod:
    return VatPeriod(VatFrequency.YEARLY, date(year, 1, 1), date(year, 12, 31))


_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
_QUARTER = re.compile(r"^(\d{4})Q([1-4])$")
_YEAR = re.compile(r"^(\d{4})$")


#: The years a period may be in (a deadline two months after 2999 is still a date).
YEARS = range(1900, 3000)


def parse_period(text: str) -> VatPeriod:
    """``2026-11`` (a month), ``2026Q4`` (a quarter) or ``2026`` (a calendar year), of a year in :data:`YEARS`."""
    if not text[:4].isdigit() or int(text[:4]) not in YEARS:
        raise ValueError(f"a VAT period is YYYY-MM, YYYYQN or YYYY with a year 1900–2999, got {text!r}")
    if found := _MONTH.match(text):
        return month(int(found[1]), int(found[2]))
    if found := _QUARTER.match(text):
        return quarter(int(found[1]), int(found[2]))
    if found := _YEAR.match(text):
        return calendar_year(int(found[1]))
    raise ValueError(f"a VAT period is YYYY-MM, YYYYQN or YYYY, got {text!r}")


def period_of(day: date, reporting: VatReporting, years: Sequence[FiscalYear] = ()) -> VatPeriod:
    """The VAT period ``day`` belongs to. A yearly reporter's period is the fiscal year (beskattningsår) BL has
    for the day, else the calendar year."""
    if reporting.frequency == VatFrequency.MONTHLY:
        return month(day.year, day.month)
    if reporting.frequency == VatFrequency.QUARTERLY:
        return quarter(day.year, (day.month - 1) // 3 + 1)
    fiscal = next((fy for fy in years if fy.covers(day)), None)
    return VatPeriod(VatFrequency.YEARLY, fiscal.from_date, fiscal.to_date) if fiscal else calendar_year(day.year)


def _in_month_after(end: date, months: int, day: int) -> date:
    index = end.year * 12 + end.month - 1 + months
    return date(index // 12, index % 12 + 1, day)


def deadline(period: VatPeriod, reporting: VatReporting) -> date:
    """The last day the period's return may reach Skatteverket (see the module docstring)."""
    if period.kind == VatFrequency.YEARLY:
        nominal = _in_month_after(period.end, 2, 26)
    elif period.kind == VatFrequency.MONTHLY and reporting.above_40_msek:
        after = _in_month_after(period.end, 1, 1)
        nominal = after.replace(day=27 if after.month == 12 else 26)
    else:
        after = _in_month_after(period.end, 2, 1)
        nominal = after.replace(day=17 if after.month in (1, 8) else 12)
    return statutory_deadline(nominal)


def return_status(period: VatPeriod, reporting: VatReporting, today: date) -> ReturnStatus:
    if today <= period.end:
        return ReturnStatus.OPEN
    return ReturnStatus.DUE if today <= deadline(period, reporting) else ReturnStatus.PAST_DUE

"""Which date a correction gets, and how long a booked voucher's audit record is kept. Pure: the BL
facts (fiscal years, locked periods) come in as values.

Dating a correction (BFNAR 2013:2 on corrections; a booked voucher is never edited)
----------------------------------------------------------------------------------
The reversal and the new voucher are dated together:

* **the original business date** while its period is open in BL: the fiscal year that covers it
  exists and is open, and the date's period (``YYYYMM``) is not before the year's
  ``firstOpenPeriod``. The corrected day then sits where it belongs;
* otherwise **the first open date**: the first day of the first open period of the earliest open
  fiscal year that ends on or after the original date, and never before the original date (a
  correction cannot precede what it corrects). That is where the books can still take it, as close
  to the original as BL allows; the voucher texts then name the original they correct.

``not_before`` is the latest entry date among the vouchers being reversed. For a first correction it
is the business date; for a correction of a correction that was itself moved to a later open period,
it keeps the new reversal from being dated before the voucher it reverses.

Keeping the audit record (Bokföringslagen 7 kap. 2 §)
-----------------------------------------------------
Räkenskapsinformation is kept "fram till och med det sjunde året efter utgången av det kalenderår då
räkenskapsåret avslutades": a voucher in a fiscal year ending 2026-06-30 is kept through 2033-12-31.
When BL's fiscal year is unknown, the latest end a fiscal year covering the date can have is assumed
(a fiscal year is at most 18 months, so it ends at the latest in the calendar year after the date).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

#: Years after the end of the calendar year in which the fiscal year ended (7 kap. 2 § BFL).
RETENTION_YEARS = 7


@dataclass(frozen=True, slots=True)
class FiscalYear:
    """One fiscal year as BL reports it. ``first_open_period`` is ``YYYYMM`` ("" = none locked)."""

    id: str
    from_date: date
    to_date: date
    open: bool
    first_open_period: str = ""

    def covers(self, day: date) -> bool:
        return self.from_date <= day <= self.to_date

    def first_open_day(self) -> date:
        """The first day of the first period BL accepts vouchers in (within the year)."""
        period = self.first_open_period
        if len(period) != 6 or not period.isdigit():
            return self.from_date
        return max(self.from_date, date(int(period[:4]), int(period[4:]), 1))

    def accepts(self, day: date) -> bool:
        """True when BL books a voucher dated ``day`` in this year: open year, unlocked period."""
        return self.open and self.covers(day) and day >= self.first_open_day()


@dataclass(frozen=True, slots=True)
class CorrectionDate:
    entry_date: date
    #: True when the correction is dated the original business date (its period is open).
    in_original_period: bool


class NoOpenPeriodError(ValueError):
    """No open fiscal year takes a correction on or after the original date."""

    reason = "FISCAL_YEAR_CLOSED"


def period_of(day: date) -> str:
    return f"{day.year:04d}{day.month:02d}"


def correction_date(business_date: date, years: Sequence[FiscalYear], not_before: date | None = None) -> CorrectionDate:
    """The date for a correction's reversal and new voucher (see the module docstring)."""
    earliest = max(business_date, not_before or business_date)
    if earliest == business_date and any(fy.accepts(business_date) for fy in years):
        return CorrectionDate(business_date, True)
    candidates = [max(fy.first_open_day(), earliest) for fy in years if fy.open and fy.to_date >= earliest]
    usable = sorted(d for d in candidates if any(fy.accepts(d) for fy in years))
    if not usable:
        raise NoOpenPeriodError(f"no open fiscal year in BL takes a correction on or after {earliest.isoformat()}")
    return CorrectionDate(usable[0], usable[0] == business_date)


def fiscal_year_end(entry_date: date, years: Sequence[FiscalYear]) -> date | None:
    """The end of the fiscal year that covers ``entry_date``, when BL told us."""
    return next((fy.to_date for fy in years if fy.covers(entry_date)), None)


def retain_until(entry_date: date, known_fiscal_year_end: date | None) -> date:
    """The last day the audit record of a voucher dated ``entry_date`` must be kept."""
    end_year = known_fiscal_year_end.year if known_fiscal_year_end else entry_date.year + 1
    return date(end_year + RETENTION_YEARS, 12, 31)

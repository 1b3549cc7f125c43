"""Which date a correction gets, and how long a booked voucher's audit record is kept. Pure: the BL
facts (fiscal years, locked periods) come in as values.

Dating a correction (a booked voucher is never edited: it is reversed and booked anew)
-------------------------------------------------------------------------------------
A correction belongs to the period in which the error is found: "Rättelser ska göras i den
redovisningsperiod då felet upptäcks" (BFN's comment to BFNAR 2013:2 p. 2.17–2.18, as Skatteverket's
rättslig vägledning on rättelser quotes it); an error found before the work on its own period is finished
is corrected in that period. Whether that work is finished is the accountant's statement, not a fact BL
holds (many merchants never lock a period in BL), so the reversal and the new voucher are dated together:

* by default (:attr:`PeriodChoice.FOUND`) **the day the correction is made** (``found_on``, recorded with
  the request), or, when BL does not take vouchers on that day (its period locked, its fiscal year closed
  or missing), **the first day after it that BL takes**: the first day of the first open period of the
  earliest open fiscal year that ends on or after it. Never a day before it: the fallback moves forward,
  never back into a finished period;
* when the request asks for the original period (:attr:`PeriodChoice.ORIGINAL`, the accountant's statement
  that the work on it is not finished, recorded with who and why), **the original business date**, allowed
  only while BL takes vouchers on it (its fiscal year open, its period not locked). Otherwise the default
  applies and ``original_refused`` says so.

A correction is never dated before ``not_before``, the latest entry date among the vouchers it reverses (the
business date for a first correction; a later date for a correction of a correction dated where it was
found), so a reversal never precedes what it reverses.

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
from enum import StrEnum

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


class PeriodChoice(StrEnum):
    """Where a correction is asked to be dated."""

    FOUND = "FOUND"  # the period in which the error is found (the default)
    ORIGINAL = "ORIGINAL"  # the original period: its work is not finished (the accountant's statement)


class Dating(StrEnum):
    """How a correction's date was decided."""

    ORIGINAL_DATE = "ORIGINAL_DATE"  # the original business date, as asked
    FOUND_DATE = "FOUND_DATE"  # the day the correction was made
    FIRST_OPEN_DATE = "FIRST_OPEN_DATE"  # the first day after it that BL takes


@dataclass(frozen=True, slots=True)
class CorrectionDate:
    entry_date: date
    dating: Dating
    #: The original period was asked for, but BL no longer takes vouchers on the original date.
    original_refused: bool = False


class NoOpenPeriodError(ValueError):
    """No open fiscal year takes a correction on or after the day it must not precede."""

    reason = "FISCAL_YEAR_CLOSED"


def period_of(day: date) -> str:
    return f"{day.year:04d}{day.month:02d}"


def same_period(day: date, other: date) -> bool:
    """True when both days are in the same accounting period (month) of BL."""
    return period_of(day) == period_of(other)


def correction_date(
    business_date: date,
    found_on: date,
    years: Sequence[FiscalYear],
    *,
    not_before: date | None = None,
    choice: PeriodChoice = PeriodChoice.FOUND,
) -> CorrectionDate:
    """The date for a correction's reversal and new voucher (see the module docstring)."""
    floor = max(business_date, not_before or business_date)
    refused = False
    if choice == PeriodChoice.ORIGINAL:
        if floor == business_date and _accepted(business_date, years):
            return CorrectionDate(business_date, Dating.ORIGINAL_DATE)
        refused = True
    earliest = max(found_on, floor)
    if _accepted(earliest, years):
        return CorrectionDate(earliest, Dating.FOUND_DATE, refused)
    candidates = [max(fy.first_open_day(), earliest) for fy in years if fy.open and fy.to_date >= earliest]
    usable = sorted(d for d in candidates if _accepted(d, years))
    if not usable:
        raise NoOpenPeriodError(f"no open fiscal year in BL takes a correction on or after {earliest.isoformat()}")
    return CorrectionDate(usable[0], Dating.FIRST_OPEN_DATE, refused)


def _accepted(day: date, years: Sequence[FiscalYear]) -> bool:
    return any(fy.accepts(day) for fy in years)


def fiscal_year_end(entry_date: date, years: Sequence[FiscalYear]) -> date | None:
    """The end of the fiscal year that covers ``entry_date``, when BL told us."""
    return next((fy.to_date for fy in years if fy.covers(entry_date)), None)


def retain_until(entry_date: date, known_fiscal_year_end: date | None) -> date:
    """The last day the audit record of a voucher dated ``entry_date`` must be kept."""
    end_year = known_fiscal_year_end.year if known_fiscal_year_end else entry_date.year + 1
    return date(end_year + RETENTION_YEARS, 12, 31)

"""VAT reporting periods, the momsdeklaration's deadlines (26 kap. SFL; lag 1930:173) and Swedish holidays."""

from __future__ import annotations

from datetime import date

import pytest

from mapping.holidays import easter_sunday, public_holidays, statutory_deadline
from mapping.periods import FiscalYear
from mapping.vatperiods import (
    DEFAULT_REPORTING,
    InvalidVatReporting,
    ReturnStatus,
    VatFrequency,
    VatPeriod,
    VatReporting,
    calendar_year,
    deadline,
    month,
    parse_period,
    period_of,
    quarter,
    return_status,
)

MONTHLY = VatReporting(VatFrequency.MONTHLY)
LARGE = VatReporting(VatFrequency.MONTHLY, above_40_msek=True)
QUARTERLY = VatReporting(VatFrequency.QUARTERLY)
YEARLY = VatReporting(VatFrequency.YEARLY)


@pytest.mark.parametrize(
    ("year", "easter"),
    [(2024, date(2024, 3, 31)), (2025, date(2025, 4, 20)), (2026, date(2026, 4, 5)), (2027, date(2027, 3, 28))],
)
def test_easter(year: int, easter: date) -> None:
    assert easter_sunday(year) == easter


def test_the_holidays_of_2026() -> None:
    assert sorted(public_holidays(2026)) == [
        date(2026, 1, 1),
        date(2026, 1, 6),
        date(2026, 4, 3),  # långfredagen
        date(2026, 4, 5),
        date(2026, 4, 6),
        date(2026, 5, 1),
        date(2026, 5, 14),  # Kristi himmelsfärdsdag
        date(2026, 5, 24),  # pingstdagen
        date(2026, 6, 6),
        date(2026, 6, 20),  # midsommardagen
        date(2026, 10, 31),  # alla helgons dag
        date(2026, 12, 25),
        date(2026, 12, 26),
    ]


def test_a_deadline_on_a_day_off_moves_to_the_next_weekday() -> None:
    assert statutory_deadline(date(2026, 5, 12)) == date(2026, 5, 12)  # a Tuesday
    assert statutory_deadline(date(2027, 1, 17)) == date(2027, 1, 18)  # a Sunday
    assert statutory_deadline(date(2026, 4, 3)) == date(2026, 4, 7)  # långfredagen → past Easter Monday
    assert statutory_deadline(date(2026, 6, 19)) == date(2026, 6, 22)  # midsommarafton, a Friday
    assert statutory_deadline(date(2025, 12, 24)) == date(2025, 12, 29)  # julafton, juldagen, annandag, weekend
    assert statutory_deadline(date(2026, 5, 14)) == date(2026, 5, 15)  # Kristi himmelsfärdsdag


@pytest.mark.parametrize(
    ("period", "reporting", "due"),
    [
        (quarter(2026, 1), QUARTERLY, date(2026, 5, 12)),
        (quarter(2026, 2), QUARTERLY, date(2026, 8, 17)),  # April–June: 17 August
        (quarter(2026, 3), QUARTERLY, date(2026, 11, 12)),
        (quarter(2026, 4), QUARTERLY, date(2027, 2, 12)),
        (quarter(2025, 2), QUARTERLY, date(2025, 8, 18)),  # 17 August 2025 is a Sunday
        (month(2026, 10), MONTHLY, date(2026, 12, 14)),  # 12 December 2026 is a Saturday
        (month(2026, 11), MONTHLY, date(2027, 1, 18)),  # in January the 17th, a Sunday in 2027
        (month(2026, 6), MONTHLY, date(2026, 8, 17)),  # in August the 17th
        (month(2026, 10), LARGE, date(2026, 11, 26)),  # above 40 MSEK: the 26th of the month after
        (month(2026, 11), LARGE, date(2026, 12, 28)),  # in December the 27th, a Sunday in 2026
        (calendar_year(2026), YEARLY, date(2027, 2, 26)),
    ],
)
def test_deadlines(period: VatPeriod, reporting: VatReporting, due: date) -> None:
    assert deadline(period, reporting) == due


def test_a_return_is_open_until_its_period_ends_due_until_its_deadline_then_past_due() -> None:
    november = month(2026, 11)
    assert return_status(november, MONTHLY, date(2026, 11, 30)) == ReturnStatus.OPEN
    assert return_status(november, MONTHLY, date(2026, 12, 1)) == ReturnStatus.DUE
    assert return_status(november, MONTHLY, date(2027, 1, 18)) == ReturnStatus.DUE
    assert return_status(november, MONTHLY, date(2027, 1, 19)) == ReturnStatus.PAST_DUE


def test_the_period_of_a_day() -> None:
    day = date(2026, 11, 25)
    assert period_of(day, MONTHLY).label == "2026-11"
    assert period_of(day, QUARTERLY).label == "2026Q4"
    assert period_of(day, QUARTERLY) == quarter(2026, 4)
    assert period_of(day, YEARLY).label == "2026"
    broken = FiscalYear("202607", date(2026, 7, 1), date(2027, 6, 30), True)
    assert period_of(day, YEARLY, [broken]).label == "2026-07-01–2027-06-30"
    assert deadline(period_of(day, YEARLY, [broken]), YEARLY) == date(2027, 8, 26)
    assert DEFAULT_REPORTING.frequency == VatFrequency.MONTHLY and not DEFAULT_REPORTING.is_set


def test_periods_parse_from_their_labels() -> None:
    for text in ("2026-11", "2026Q4", "2026", "2027-01", "2027Q1"):
        assert parse_period(text).label == text
    assert parse_period("2026Q4") == quarter(2026, 4)
    assert (parse_period("2026-02").start, parse_period("2026-02").end) == (date(2026, 2, 1), date(2026, 2, 28))
    for bad in ("2026-13", "2026Q5", "26", "2026-1", "november", "0000", "0000-01", "9999Q4"):
        with pytest.raises(ValueError, match="YYYY-MM"):
            parse_period(bad)


def test_above_40_msek_is_monthly_only() -> None:
    with pytest.raises(InvalidVatReporting):
        VatReporting(VatFrequency.QUARTERLY, above_40_msek=True)

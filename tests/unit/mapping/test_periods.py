"""Dating a correction by BL's period rules, and how long an audit record is kept: pure rules."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mapping.periods import (
    CorrectionDate,
    Dating,
    FiscalYear,
    NoOpenPeriodError,
    PeriodChoice,
    correction_date,
    retain_until,
    same_period,
)
from mapping.text import correction_text, reversal_text
from mapping.voucher import MAX_TEXT_LENGTH


def year(y: int, *, open_: bool = True, first_open: str | None = None) -> FiscalYear:
    lock = first_open if first_open is not None else f"{y}01"
    return FiscalYear(f"{y}01", date(y, 1, 1), date(y, 12, 31), open_, lock)


def split_year(start: date, *, first_open: str = "") -> FiscalYear:
    """A fiscal year from 1 July to 30 June (a common broken fiscal year)."""
    return FiscalYear(f"{start:%Y%m}", start, date(start.year + 1, 6, 30), True, first_open or f"{start:%Y%m}")


DAY = date(2026, 3, 14)
FOUND = date(2026, 11, 20)  # the correction is made in November
ORIGINAL = PeriodChoice.ORIGINAL


def test_the_issue_example_is_dated_the_day_the_error_is_found_not_in_a_closed_earlier_month() -> None:
    """Issue #22, finding 1: an error of 2026-03-10 found in November, January–April locked in BL. Before, the
    correction went to 2026-05-01, a month long closed (and VAT-reported); it belongs to November."""
    years = [year(2026, first_open="202605")]
    decided = correction_date(date(2026, 3, 10), FOUND, years)
    assert decided == CorrectionDate(FOUND, Dating.FOUND_DATE)
    assert decided.entry_date != date(2026, 5, 1)


def test_by_default_even_an_open_original_period_is_not_used() -> None:
    """Many merchants never lock a period in BL: "not locked" does not mean "not finished"."""
    assert correction_date(DAY, FOUND, [year(2026)]) == CorrectionDate(FOUND, Dating.FOUND_DATE)


def test_the_original_period_when_asked_for_and_open_in_bl() -> None:
    assert correction_date(DAY, FOUND, [year(2026)], choice=ORIGINAL) == CorrectionDate(DAY, Dating.ORIGINAL_DATE)
    assert correction_date(DAY, FOUND, [year(2026, first_open="202603")], choice=ORIGINAL).entry_date == DAY


def test_the_original_period_asked_for_but_locked_falls_back_to_the_found_day_and_says_so() -> None:
    decided = correction_date(DAY, FOUND, [year(2026, first_open="202606")], choice=ORIGINAL)
    assert decided == CorrectionDate(FOUND, Dating.FOUND_DATE, original_refused=True)


def test_a_locked_found_day_moves_forward_to_the_first_open_day_never_back() -> None:
    years = [year(2026, first_open="202612"), year(2027)]
    assert correction_date(DAY, FOUND, years) == CorrectionDate(date(2026, 12, 1), Dating.FIRST_OPEN_DATE)


def test_a_closed_year_of_the_found_day_moves_to_the_first_open_date_of_the_next_open_year() -> None:
    years = [year(2025), year(2026, open_=False), year(2027, first_open="202702")]
    assert correction_date(DAY, FOUND, years) == CorrectionDate(date(2027, 2, 1), Dating.FIRST_OPEN_DATE)


def test_an_open_year_before_the_found_day_is_never_used() -> None:
    with pytest.raises(NoOpenPeriodError, match="on or after 2026-11-20"):
        correction_date(DAY, FOUND, [year(2025), year(2026, open_=False)])


def test_a_broken_fiscal_year_is_followed_across_the_calendar_year() -> None:
    years = [split_year(date(2025, 7, 1), first_open="202607"), split_year(date(2026, 7, 1), first_open="202612")]
    assert correction_date(DAY, FOUND, years).entry_date == date(2026, 12, 1)


def test_a_correction_of_a_correction_is_never_dated_before_the_voucher_it_reverses() -> None:
    # The first correction was dated 2026-06-01; a second one asks for the original period: refused.
    decided = correction_date(DAY, date(2026, 5, 2), [year(2026)], not_before=date(2026, 6, 1), choice=ORIGINAL)
    assert decided == CorrectionDate(date(2026, 6, 1), Dating.FOUND_DATE, original_refused=True)


def test_a_day_corrected_on_the_day_itself_stays_in_its_period() -> None:
    decided = correction_date(DAY, DAY, [year(2026)])
    assert decided.entry_date == DAY and same_period(decided.entry_date, DAY)


@given(
    st.dates(date(2024, 1, 1), date(2027, 12, 31)),
    st.integers(0, 700),
    st.sampled_from(["", "202402", "202507", "202612", "202701"]),
    st.lists(st.booleans(), min_size=4, max_size=4),
    st.sampled_from(list(PeriodChoice)),
)
def test_the_date_is_bookable_never_before_the_original_and_never_before_the_found_day_unless_asked(
    day: date, later: int, lock: str, opens: list[bool], choice: PeriodChoice
) -> None:
    found = day + timedelta(days=later)
    years = [
        year(y, open_=o, first_open=max(lock, f"{y}01") if lock else f"{y}01")
        for y, o in zip(range(2024, 2028), opens, strict=True)
    ]
    try:
        decided = correction_date(day, found, years, choice=choice)
    except NoOpenPeriodError:
        assert not any(fy.open and fy.to_date >= found and fy.first_open_day() <= fy.to_date for fy in years)
        return
    assert any(fy.accepts(decided.entry_date) for fy in years)
    if decided.dating == Dating.ORIGINAL_DATE:
        assert choice == ORIGINAL and decided.entry_date == day
    else:
        assert decided.entry_date >= found  # forward from where the error was found, never back
        assert decided.original_refused == (choice == ORIGINAL)


def test_retention_is_seven_years_after_the_calendar_year_the_fiscal_year_ended() -> None:
    assert retain_until(date(2026, 3, 14), date(2026, 12, 31)) == date(2033, 12, 31)
    assert retain_until(date(2025, 9, 1), date(2026, 6, 30)) == date(2033, 12, 31)  # FY 2025-07-01..2026-06-30
    assert retain_until(date(2026, 3, 14), None) == date(2034, 12, 31)  # unknown: the latest it could end


def test_correction_texts_name_the_original_within_the_limit() -> None:
    ref, old = "DC-0123456789abcdef", "DC-fedcba9876543210"
    text = reversal_text(
        "Dagsavslut Kafé Ängen 2026-03-14 Z 7 ref " + old,
        old,
        "RV-0123456789abcdef",
        original_voucher="D 1234",
        business_date=DAY,
    )
    assert text.startswith(f"Återföring av {old} (D 1234, 2026-03-14) ref RV-0123456789abcdef: Dagsavslut")
    assert len(text) <= MAX_TEXT_LENGTH
    one = correction_text([("D 12", old)], DAY, ref, "Kafé Ängen")
    assert one == f"Rättelse av D 12 {old} 2026-03-14 ref {ref}: Kafé Ängen"
    many = correction_text(
        [("D 12", old), ("D 13", old.replace("f", "e")), ("D 14", old.replace("f", "d"))], DAY, ref, "Kafé Ängen"
    )
    assert many.startswith("Rättelse av D 12, D 13, D 14 2026-03-14 ref " + ref)
    assert len(many) <= MAX_TEXT_LENGTH
    lots = correction_text([(f"D {n}", old) for n in range(100, 130)], DAY, ref)
    assert lots == f"Rättelse av D 100 m.fl. 2026-03-14 ref {ref}"

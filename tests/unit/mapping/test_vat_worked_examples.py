"""The worked examples of docs/booking-rules.md's sections "Corrections: dated where the error is found" and "The
VAT period and the momsdeklaration", computed with the rules and checked against the page's own figures."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from mapping.periods import CorrectionDate, Dating, FiscalYear, PeriodChoice, correction_date
from mapping.reversal import reverse
from mapping.totals import DayTotals
from mapping.vatamounts import RateAmounts, booked_per_rate, negated, redemptions_per_rate
from mapping.vatcorrection import filed_vat_change
from mapping.vatperiods import (
    ReturnStatus,
    VatFrequency,
    VatReporting,
    calendar_year,
    deadline,
    month,
    quarter,
)
from mapping.vatreport import BookedVoucher, Cause, VoucherKind, ZDay, build
from tests.builders import STORE, batch, line, pay, plan, receipt, rows_of
from tests.unit.mapping.receipts_path import build_voucher, totals_of

PAGE = (Path(__file__).parents[3] / "docs" / "booking-rules.md").read_text(encoding="utf-8")
MARCH, FOUND = date(2026, 3, 10), date(2026, 11, 20)
CARD = {"card": "1686", "cash": "1910", "massage_card": "2421"}
MULTI = plan(payment_methods=CARD, product_groups={"massage": {2500: "3001"}})
SINGLE = plan(
    payment_methods=CARD,
    product_groups={"massage": {2500: "3001"}, "massage_card": {2500: "2421"}},
    single_purpose_groups=("massage_card",),
    single_purpose_methods={"massage_card": 2500},
)
MONTHLY = VatReporting(VatFrequency.MONTHLY)


def on_page(*cells: str) -> bool:
    """A table row of the page holds these cells, in this order."""
    return any(all(c in row for c in cells) for row in PAGE.splitlines() if row.startswith("|"))


def test_an_error_of_march_found_in_november_with_january_to_april_locked() -> None:
    mug = receipt(line("merch", 2500, gross="249.00", vat="49.80"), day=MARCH)
    wrong = plan(payment_methods=CARD, product_groups={"merch": {2500: "3004"}})
    right = plan(payment_methods=CARD, product_groups={"merch": {2500: "3001"}})
    original = build_voucher(batch(mug, day=MARCH), wrong, store_name="Kafé Centrum", reference="DC-0012")
    year = FiscalYear("202601", date(2026, 1, 1), date(2026, 12, 31), True, "202605")
    decided = correction_date(MARCH, FOUND, [year])
    assert decided == CorrectionDate(FOUND, Dating.FOUND_DATE)  # not 2026-05-01
    reversal = reverse(original, reference="RV-0041", entry_date=decided.entry_date)
    new = build_voucher(
        batch(mug, day=MARCH), right, store_name="Kafé Centrum", reference="DC-0042", entry_date=decided.entry_date
    )
    assert rows_of(original) == [("1686", "249.00", None), ("2611", "-49.80", None), ("3004", "-199.20", None)]
    assert rows_of(reversal) == [("1686", "-249.00", None), ("2611", "49.80", None), ("3004", "199.20", None)]
    assert rows_of(new) == [("1686", "249.00", None), ("2611", "-49.80", None), ("3001", "-199.20", None)]
    assert (reversal.entry_date, new.entry_date) == (FOUND, FOUND)
    assert on_page("1686", "249.00", "1686", "249.00", "1686", "249.00") and on_page("3004", "199.20", "3001")
    before = booked_per_rate(DayTotals.of(STORE, MARCH, [mug]), {})
    assert filed_vat_change(MARCH, FOUND, before, before, MONTHLY, [year], FOUND) is None  # no VAT changes


def test_the_original_period_asked_for_while_its_work_is_not_finished() -> None:
    day, found = date(2026, 11, 25), date(2026, 12, 2)
    open_year = FiscalYear("202601", date(2026, 1, 1), date(2026, 12, 31), True, "202601")
    locked = FiscalYear("202601", date(2026, 1, 1), date(2026, 12, 31), True, "202612")
    assert correction_date(day, found, [open_year], choice=PeriodChoice.ORIGINAL).entry_date == day
    assert correction_date(day, found, [locked], choice=PeriodChoice.ORIGINAL) == CorrectionDate(
        found, Dating.FOUND_DATE, original_refused=True
    )


def massage(day: date) -> object:
    return receipt(line("massage", 2500, gross="1000.00", vat="200.00"), method="massage_card", day=day)


def test_a_correction_changing_octobers_vat_warns_while_its_return_is_due() -> None:
    october = date(2026, 10, 14)
    original = build_voucher(batch(massage(october), day=october), MULTI, store_name="Spa", reference="DC-0030")
    assert rows_of(original) == [("2421", "1000.00", None), ("2611", "-200.00", None), ("3001", "-800.00", None)]
    reversal = reverse(original, reference="RV-0051", entry_date=FOUND)
    new = build_voucher(
        batch(massage(october), day=october), SINGLE, store_name="Spa", reference="DC-0052", entry_date=FOUND
    )
    assert rows_of(reversal) == [("2421", "-1000.00", None), ("2611", "200.00", None), ("3001", "800.00", None)]
    # Two 2611 rows, one per kind of event (issue #21: never netted), which cancel out.
    assert rows_of(new) == [
        ("2421", "800.00", None),
        ("2611", "200.00", None),
        ("2611", "-200.00", None),
        ("3001", "-800.00", None),
    ]
    assert on_page("2421", "1 000.00", "2421", "800.00") and on_page("2611", "200.00", "2611", "200.00")
    assert on_page("3001", "800.00", "2611 (output VAT 25 %)", "200.00")

    before = booked_per_rate(DayTotals.of(STORE, october, [massage(october)]), {})
    after = booked_per_rate(DayTotals.of(STORE, october, [massage(october)], {"massage_card": 2500}), {})
    change = filed_vat_change(october, FOUND, before, after, MONTHLY, [], FOUND)
    assert change is not None
    assert (change.period, change.deadline, change.status) == (month(2026, 10), date(2026, 12, 14), ReturnStatus.DUE)
    assert change.by_rate == {2500: -20_000}
    for text in (change.describe_period(), change.describe_rate(2500)):
        assert text in PAGE
    quarterly = VatReporting(VatFrequency.QUARTERLY)
    assert filed_vat_change(october, FOUND, before, after, quarterly, [], FOUND) is None  # 2026Q4 has not ended


def test_the_deadlines_table() -> None:
    quarterly, large = VatReporting(VatFrequency.QUARTERLY), VatReporting(VatFrequency.MONTHLY, above_40_msek=True)
    examples = {
        "2026Q1 → 2026-05-12": deadline(quarter(2026, 1), quarterly),
        "2026Q4 → 2027-02-12": deadline(quarter(2026, 4), quarterly),
        "2025Q2 → 2025-08-18": deadline(quarter(2025, 2), quarterly),
        "2026-10 → 2026-12-14": deadline(month(2026, 10), MONTHLY),
        "2026-11 → 2027-01-18": deadline(month(2026, 11), MONTHLY),
        "2026-10 → 2026-11-26": deadline(month(2026, 10), large),
        "2026-11 → 2026-12-28": deadline(month(2026, 11), large),
        "2026 → 2027-02-26": deadline(calendar_year(2026), VatReporting(VatFrequency.YEARLY)),
    }
    for text, computed in examples.items():
        assert text.endswith(computed.isoformat()) and text in PAGE


def test_novembers_report() -> None:
    """Two days of a café and spa in November, and the October correction dated 2026-11-20."""
    d24, d25, october = date(2026, 11, 24), date(2026, 11, 25), date(2026, 10, 14)
    day24 = [
        receipt(line("coffee", 600, gross="42.40", vat="2.40"), day=d24),
        receipt(line("coffee", 1200, gross="44.80", vat="4.80"), day=d24),
        receipt(line("merch", 2500, gross="249.00", vat="49.80"), day=d24),
    ]
    day25 = [
        receipt(line("massage_card", 2500, gross="500.00", vat="100.00"), payments=(pay("card", "500.00"),), day=d25),
        massage(d25),
    ]
    sp = {"massage_card": 2500}
    t24, t25 = DayTotals.of(STORE, d24, day24, sp), DayTotals.of(STORE, d25, day25, sp)
    z_days = [
        ZDay(STORE, d24, 7, "exported", totals_of(day24), redemptions_per_rate(t24)),
        ZDay(STORE, d25, 8, "exported", totals_of(day25), redemptions_per_rate(t25)),
    ]
    original = booked_per_rate(DayTotals.of(STORE, october, [massage(october)]), {})
    corrected = booked_per_rate(DayTotals.of(STORE, october, [massage(october)], sp), {})
    vouchers = [
        BookedVoucher("DC-7", "D", 40, d24, STORE, d24, VoucherKind.DAY_CLOSE, booked_per_rate(t24, {})),
        BookedVoucher("DC-8", "D", 45, d25, STORE, d25, VoucherKind.DAY_CLOSE, booked_per_rate(t25, {})),
        BookedVoucher("RV-51", "D", 51, FOUND, STORE, october, VoucherKind.REVERSAL, negated(original)),
        BookedVoucher("DC-52", "D", 52, FOUND, STORE, october, VoucherKind.CORRECTION, corrected),
    ]
    report = build(month(2026, 11), z_days, vouchers)
    lines = {r.rate: r for r in report.rates}
    assert (lines[2500].z_report, lines[2500].supplies) == (RateAmounts(174_900, 34_980), RateAmounts(74_900, 14_980))
    assert (lines[2500].booked.net, lines[2500].booked.vat, lines[2500].difference.vat) == (-20_080, -5_020, -20_000)
    assert on_page("25 %", "1 749.00", "349.80", "599.20", "149.80", "−200.80", "−50.20", "−200.00")
    for rate, z_gross in ((1200, "44.80"), (600, "42.40")):
        assert not lines[rate].difference and on_page(f"{rate // 100} %", z_gross)
    (cause,) = report.causes
    assert (cause.cause, cause.vouchers, cause.amounts) == (
        Cause.CORRECTION_DATED_INTO,
        ("RV-51",),
        {2500: RateAmounts(-100_000, -20_000)},
    )
    assert report.boxes == {"05": 67_920, "10": 14_980, "11": 480, "12": 240}
    for box, amount in (("05", "679.20"), ("10", "149.80"), ("11", "4.80"), ("12", "2.40")):
        assert on_page(f"| {box} |", amount)

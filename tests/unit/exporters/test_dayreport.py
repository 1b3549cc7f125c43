"""The day report PDF, read back with pypdf (a reader we did not write)."""

from __future__ import annotations

import io
from datetime import date, datetime

from pypdf import PdfReader

from exporters.dayreport import (
    CORRECTION,
    DAY_CLOSE,
    PARTIAL,
    CorrectionNote,
    DayReport,
    ReportRow,
    kronor,
    receipt_range,
    render,
)
from mapping.reconcile import ControlTotals

CONTROL = ControlTotals(
    240, 1_234_550, ((600, 100_000, 5_660), (2500, 1_134_550, 226_910)), (("card", 1_000_000), ("cash", 234_550))
)
ROWS = (
    ReportRow("1580", "Fordringar för kontokort och kuponger", 1_000_000),
    ReportRow("1910", "Kassa", 234_550),
    ReportRow("3001", "Försäljning inom Sverige, 25 % moms", -907_640, "S1"),
    ReportRow("2611", "Utgående moms på försäljning inom Sverige, 25 %", -226_910),
    ReportRow("3003", "", -94_340),
    ReportRow("2631", "Utgående moms, 6 %", -5_660),
)


def report(**changes: object) -> DayReport:
    base = dict(
        kind=DAY_CLOSE,
        company_name="Demo Café AB",
        store_id="s1",
        store_name="Kafé Ängen",
        business_date=date(2026, 11, 25),
        reference="DC-0123456789abcdef",
        series="D",
        number=12,
        entry_date=date(2026, 11, 25),
        voucher_text="Dagsavslut Kafé Ängen 2026-11-25 Z 7 ref DC-0123456789abcdef",
        rows=ROWS,
        z_report_number=7,
        receipt_numbers=tuple(str(n) for n in range(1, 241)),
        control=CONTROL,
        totals=CONTROL,
    )
    base.update(changes)
    return DayReport(**base)  # type: ignore[arg-type]


def text_of(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_the_report_carries_the_z_report_receipts_totals_and_rows_with_names() -> None:
    text = text_of(render(report()))
    for expected in (
        "Dagsrapport (Z-rapport)",
        "Kafé Ängen (s1)",
        "2026-11-25",
        "nr 7",
        "serie D nr 12",
        "DC-0123456789abcdef",
        "1–240 (240 kvitton)",
        "1 / 240",
        "12 345,50 kr",
        "6 %",
        "25 %",
        "11 345,50",
        "2 269,10",
        "card",
        "10 000,00",
        "2 345,50",
        "Fordringar för kontokort och kuponger",
        "Utgående moms på försäljning inom Sverige, 25 %",
    ):
        assert expected in text, expected
    assert "3003\n\n" not in text  # an account without a known name still has its row
    assert text.count("12 345,50") >= 3  # Z total, this voucher's total, and debit = credit


def test_the_same_report_renders_the_same_bytes() -> None:
    assert render(report()) == render(report())
    assert render(report()) != render(report(number=13))
    assert b"D:20261125000000" in render(report())  # the creation date is the voucher's, not the clock's


def test_a_partial_export_lists_its_receipts_and_says_the_day_close_completes_it() -> None:
    text = text_of(
        render(report(kind=PARTIAL, z_report_number=None, control=None, receipt_numbers=("3", "1", "2", "10")))
    )
    assert "Delexport" in text and "dagsavslutets" in text
    assert "1–10 (4 kvitton)" in text and "1, 2, 3, 10" in text


def test_sales_after_the_day_close_say_which_voucher_they_complement() -> None:
    text = text_of(
        render(
            report(
                kind=PARTIAL,
                z_report_number=None,
                control=None,
                receipt_numbers=("241",),
                late_after="D 12 (DC-0123456789abcdef)",
            )
        )
    ).replace("\n", " ")
    assert "kom efter att dagen stängts och bokförts i D 12 (DC-0123456789abcdef)" in text
    assert "dagsavslutets verifikation" not in text


def test_a_correction_names_the_original_who_and_why() -> None:
    note = CorrectionNote(
        "fel momssats på merch",
        "anna@cafe",
        datetime(2026, 11, 30, 9, 15),
        ("D 12 (DC-0123456789abcdef, 2026-11-25)",),
        in_original_period=False,
        dating="FOUND_DATE",
        found_on=date(2026, 11, 30),
    )
    r = report(
        kind=CORRECTION, correction=note, number=3, entry_date=date(2026, 11, 30), reference="DC-aaaaaaaaaaaaaaaa"
    )
    text = text_of(render(r)).replace("\n", " ")
    assert "Rättelse av D 12 (DC-0123456789abcdef, 2026-11-25). Orsak: fel momssats på merch." in text
    assert "Begärd av anna@cafe 2026-11-30 09:15" in text
    assert "Daterad 2026-11-30, den dag rättelsen gjordes: i den period felet upptäcktes." in text
    assert r.filename == "Rattelse_s1_2026-11-25_DC-aaaaaaaaaaaaaaaa.pdf"


def test_a_correction_in_the_original_period_carries_the_accountants_statement() -> None:
    note = CorrectionNote(
        "fel konto",
        "revisor@byra",
        datetime(2026, 11, 26, 8, 0),
        ("D 12 (DC-0123456789abcdef, 2026-11-25)",),
        in_original_period=True,
        dating="ORIGINAL_DATE",
        found_on=date(2026, 11, 26),
        statement="november stäms av först i december",
    )
    text = text_of(render(report(kind=CORRECTION, correction=note))).replace("\n", " ")
    assert "Daterad i ursprungsperioden: arbetet med perioden är inte avslutat (november stäms av först i" in text


def test_a_long_day_runs_onto_more_pages() -> None:
    many = tuple(ReportRow(f"3{n:03d}", "Försäljning", -100) for n in range(1, 120))
    many += (ReportRow("1910", "Kassa", 11_900),)
    data = render(report(rows=many))
    assert len(PdfReader(io.BytesIO(data)).pages) >= 2
    assert "3119" in text_of(data)


def test_amounts_and_ranges_read_as_swedish() -> None:
    assert kronor(123_456_789) == "1 234 567,89" and kronor(-5) == "-0,05"
    assert receipt_range(["7"]) == "7 (1 kvitto)" and receipt_range([]) == "inga kvitton"

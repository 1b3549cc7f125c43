"""The day report PDF, read back with pypdf (a reader we did not write)."""

from __future__ import annotations

import hashlib
import io
import random
import subprocess
import sys
from datetime import date, datetime
from pathlib import Path

from pypdf import PdfReader

from exporters.dayreport import render
from exporters.dayreport_books import Books, Drawer
from exporters.dayreport_model import (
    CORRECTION,
    DAY_CLOSE,
    PARTIAL,
    CorrectionNote,
    DayReport,
    ReportRow,
    kronor,
    receipt_range,
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
        "Sammanställning av dagsavslut",
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
        "Kort",  # payment methods by their names
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


BOOKS = Books(
    payments=(("Kontant", 200_000), ("Kort", 1_009_655), ("Swish", 25_000)),
    gross_sales=1_232_155,
    tips=2_000,
    rounding=500,
    movements=(
        ("Insättning i kassan", "s1-dep", 100_000),
        ("Uttag ur kassan", "s1-wd", -50_000),
        ("Dricks utbetald kontant", "s1-tips", -15_000),
    ),  # fmt: skip
    expired=(("s1-gc", "flerfunktion (Presentkort)", 25_000, 0),),
    drawer=Drawer(
        opening_float=200_000,
        cash_takings=210_000,
        cash_returns=10_000,
        deposits=100_000,
        withdrawals=50_000,
        float_changes=0,
        tip_payouts=15_000,
        expected=435_000,
        counted=434_500,
    ),  # fmt: skip
    cash_chain="Ingående kassa 2 000,00 kr; Z-rapport 6 (2026-11-24) räknade 19 097,00 kr, därefter in/ut ur kassan "
    "-17 097,00 kr: väntat 2 000,00 kr. Kassakedjan stämmer.",
)


def test_the_report_is_underlag_for_every_row_of_its_voucher() -> None:
    """Issue #21, finding 5: it says what it is (our summary, reconciled against the Z-report it names), who (with
    the organisation number), when it was compiled (when the voucher was booked, not its entry date), the payment
    methods by name and how they tie to the gross sales, every term of the drawer (the 6990 5,00 row), the cash
    chain, each cash movement (the 1930 rows) and each expired gift card (the 3990 row), and each row's text."""
    r = report(
        org_number="556000-1234",
        register_id="1",
        compiled_on=date(2026, 11, 26),
        superseded=(6,),
        books=BOOKS,
        rows=(*ROWS[:2], ReportRow("6990", "Övriga externa kostnader", 500, None, "Kassabrist")),
    )
    text = text_of(render(r))
    for expected in (
        "Sammanställning av dagsavslut – underlag till verifikation D 12",
        "Demo Café AB (556000-1234)",
        "Kassa\n1",
        "Avstämd mot Z-rapport\nnr 7, kumulativ för dagen (ersätter nr 6",
        "Upprättad\n2026-11-26",
        "avstämd mot kassans",
        # payments tied to the gross sales
        "Kontant\n2 000,00",
        "Swish\n250,00",
        "Bruttoförsäljning (varor inkl. moms)\n12 321,55 kr",
        "+ Dricks (skuld till personalen)\n20,00 kr",
        "+ Öresavrundning\n5,00 kr",
        "= Betalningar\n12 346,55 kr",
        # every term of the drawer
        "Ingående växelkassa\n2 000,00 kr",
        "+ Kontant försäljning\n2 100,00 kr",
        "- Kontant återbetalt vid returer\n100,00 kr",
        "+ Insättningar i kassan\n1 000,00 kr",
        "- Uttag ur kassan\n500,00 kr",
        "± Växelkassa ändrad\n0,00 kr",
        "- Dricks utbetald kontant\n150,00 kr",
        "= Förväntat i kassan\n4 350,00 kr",
        "Räknat i kassan\n4 345,00 kr",
        "Kassabrist (räknat - förväntat)\n-5,00 kr",
        "Kassakedjan stämmer",
        "s1-wd",
        "s1-gc",
        "flerfunktion (Presentkort)",
        "Kassabrist",  # the row's text
    ):
        assert expected.replace("\\n", "\n") in text, expected
    assert b"D:20261126000000" in render(r)  # compiled when booked, deterministic


def sample_digest() -> str:
    """SHA-256 of the reports of :data:`SAMPLE_NAMES` (with and without the underlag of the books): what
    :func:`test_reportlabs_accelerator_changes_no_byte_of_the_report` compares across processes."""
    digest = hashlib.sha256()
    for i, name in enumerate(SAMPLE_NAMES):
        digest.update(render(report(store_name=name, company_name=name[::-1], books=BOOKS if i % 2 else None)))
    return digest.hexdigest()


#: Store and company names over Latin-1, Latin Extended and WinAnsi's signs, with breaks and invisible characters;
#: long enough to wrap (fixed seed: the same names in every process).
_RANDOM = random.Random(27)
_ALPHABET = [chr(c) for c in range(32, 0x250)] + list("€‚ƒ„…†‡ˆ‰Š‹ŒŽ‘’“”•–—˜™š›œžŸ\u2212\u200b\n\t")
SAMPLE_NAMES = ["".join(_RANDOM.choice(_ALPHABET) for _ in range(_RANDOM.randint(1, 300))) for _ in range(60)]


def test_the_report_is_drawn_with_reportlabs_c_accelerator() -> None:
    """Issue #27: the day report's PDF was half of an export's CPU in `dayclose run`, a quarter of that in ReportLab's
    pure-Python fallbacks (float formatting, glyph widths, encoding, escaping); rl-accel is ReportLab's own C version
    of them. Installed (a dependency), ReportLab uses it."""
    from reportlab.lib import rl_accel

    assert {"fp_str", "unicode2T1", "instanceStringWidthT1", "escapePDF", "asciiBase85Encode"} <= set(rl_accel._c_funcs)


def test_reportlabs_accelerator_changes_no_byte_of_the_report() -> None:
    """The same reports rendered without the accelerator (a process where it cannot be imported) are the same bytes:
    a report rendered before and after the dependency, or by pods with and without it, is the same document."""
    without = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; sys.modules['_rl_accel'] = None\n"
            "from reportlab.lib import rl_accel; assert not rl_accel._c_funcs\n"
            "from tests.unit.exporters.test_dayreport import sample_digest; print(sample_digest())",
        ],
        cwd=Path(__file__).resolve().parents[3],
        capture_output=True,
        text=True,
        check=True,
    )
    assert without.stdout.strip() == sample_digest()

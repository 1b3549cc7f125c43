"""Issue #20 finding 3: the day report (the voucher's underlag in BL) printed text off the page.

A correction reason with a 400-character word lost 337 characters, a 3,000-character store name 2,926: ``_wrap``
never broke a word longer than the line and ``pair``/``note`` drew it unclipped. Two readers we did not write check
the PDF: pdfminer.six says where every character lands (inside the page, inside the margins), pypdf extracts the text
(every character of every input is in it)."""

from __future__ import annotations

import io
import random
import string
import unicodedata
from datetime import datetime

from hypothesis import given, settings
from hypothesis import strategies as st
from pdfminer.high_level import extract_pages
from pdfminer.layout import LTChar, LTPage
from pypdf import PdfReader
from reportlab.lib.pagesizes import A4

from exporters.dayreport import render
from exporters.dayreport_model import CORRECTION, PARTIAL, CorrectionNote, ReportRow
from mapping.reconcile import ControlTotals
from tests.unit.exporters.test_dayreport import report

WIDTH, HEIGHT = A4
MARGIN = 40.0  # the report's right margin; its left is 50


def _chars(data: bytes) -> list[tuple[int, LTChar]]:
    found: list[tuple[int, LTChar]] = []

    def walk(page: int, item: object) -> None:
        if isinstance(item, LTChar):
            found.append((page, item))
        for child in item if hasattr(item, "__iter__") and not isinstance(item, LTChar) else ():
            walk(page, child)

    for number, page in enumerate(extract_pages(io.BytesIO(data)), start=1):
        assert isinstance(page, LTPage)
        walk(number, page)
    return found


def _squeezed(text: str) -> str:
    return "".join(text.split())


def extracted(data: bytes) -> str:
    """Every page's text, pypdf's reading, without whitespace (wrapping puts line breaks into words)."""
    return _squeezed("".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages))


def column(data: bytes, x_from: float, x_to: float) -> str:
    """What pdfminer finds between two x positions, in reading order (a table column: a wrapped cell's lines are
    interleaved with the other columns' in the page's text)."""
    inside = [(p, -round(c.y0), c.x0, c.get_text()) for p, c in _chars(data) if x_from <= c.x0 < x_to]
    return _squeezed("".join(ch for *_, ch in sorted(inside)))


def assert_on_the_page(data: bytes) -> None:
    chars = _chars(data)
    assert chars
    outside = [
        (page, c.get_text(), round(c.x0, 1), round(c.x1, 1), round(c.y0, 1))
        for page, c in chars
        if c.x0 < 0 or c.y0 < 0 or c.x1 > WIDTH - MARGIN + 0.5 or c.y1 > HEIGHT
    ]
    assert not outside, outside[:5]


LONG_WORD = "Ersättningskravsavstämningsunderlag" * 12  # 420 characters, no space
STORE = " ".join(
    "".join(random.Random(n).choices(string.ascii_letters + "åäöÅÄÖé", k=random.Random(n).randint(1, 40)))
    for n in range(150)
)[:3000]


def test_a_400_character_word_in_a_correction_reason_is_printed_whole_inside_the_page() -> None:
    note = CorrectionNote(f"fel konto {LONG_WORD} slut", "anna@cafe", datetime(2026, 12, 1, 9, 30), ("D 12",), True)
    data = render(report(kind=CORRECTION, correction=note))
    assert_on_the_page(data)
    assert _squeezed(f"Orsak: fel konto {LONG_WORD} slut.") in extracted(data)


def test_a_3000_character_store_name_and_long_account_and_method_names_are_printed_whole_inside_the_page() -> None:
    long_account = "Försäljning av varor och tjänster " * 9
    method = "presentkort-" + "x" * 150
    control = ControlTotals(2, 300, ((2500, 300, 60),), ((method, 300),))
    rows = (ReportRow("1910", long_account, 300), ReportRow("3001", "Försäljning", -240), ReportRow("2611", "", -60))
    data = render(
        report(store_name=STORE, store_id="s" * 128, rows=rows, control=control, totals=control, company_name=STORE)
    )
    assert_on_the_page(data)
    text = extracted(data)
    for field in (STORE, "s" * 128, "Dagsavslut Kafé Ängen 2026-11-25 Z 7"):
        assert _squeezed(field) in text, field[:40]
    assert _squeezed(long_account) in column(data, 100, 330)  # the rows table's "Benämning"
    assert _squeezed(method) in column(data, 50, 290)  # the payments table's "Betalsätt"
    assert len(PdfReader(io.BytesIO(data)).pages) > 1


def test_hostile_characters_never_reach_the_page_and_the_rest_is_printed() -> None:
    """RTL override, zero-width characters, BOM, ESC, BEL, C1 controls: removed (the text policy); letters outside
    the standard fonts' WinAnsi become "?", never a box."""
    name = "Butik\u202e Väst\u200b\u200d\ufeff\x1b\x07\x85\u0091 Cafe\u200b\u0301 \u2066ö\u2069 ⌘"
    data = render(report(kind=PARTIAL, store_name=name, receipt_numbers=("1\u200b", "2")))
    assert_on_the_page(data)
    text = extracted(data)
    # é given decomposed (e + U+0301, a zero-width space between) is printed as one letter (NFC), ⌘ as "?".
    assert "ButikVästCaféö?(s1)" in text
    for bad in "\u202e\u200b\u200d\ufeff\x1b\x07\x85\u0091\u2066\u2069":
        assert bad not in "".join(c.get_text() for _, c in _chars(data))


def test_every_letter_and_sign_of_the_standard_fonts_is_extracted_as_written() -> None:
    winansi = bytes(range(0x21, 0x100)).decode("cp1252", errors="replace").replace("\ufffd", "")
    shown = "".join(ch for ch in winansi if unicodedata.category(ch)[0] in "LNPS" and ch != "•")
    data = render(report(store_name=shown))
    assert_on_the_page(data)
    assert shown in extracted(data)
    assert "·" in extracted(render(report(store_name="a • b")))  # the bullet: see pdf_text


_visible = st.characters(codec="cp1252", categories=("L", "N", "P", "S", "Zs"), exclude_characters="•")


@settings(max_examples=25, deadline=None)
@given(name=st.text(_visible, min_size=1, max_size=700), reason=st.text(_visible, min_size=1, max_size=500))
def test_any_printable_name_and_reason_are_extracted_whole_from_the_page(name: str, reason: str) -> None:
    note = CorrectionNote(reason, "u", datetime(2026, 12, 1, 9, 30), ("D 1",), True)
    data = render(report(kind=CORRECTION, store_name=name, correction=note))
    assert_on_the_page(data)
    text = extracted(data)
    for field in (name, reason):
        expected = _squeezed(unicodedata.normalize("NFC", field))
        assert expected in text

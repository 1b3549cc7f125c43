"""The day report: the underlying document attached to each voucher in BL (a PDF).

For a cash register the Z-dagrapport is the day's underlying document (FAR Balans 2018 nr 7); the
voucher in BL must lead to it (Bokföringslagen 5 kap. 6–7 §§). This report is *our* summary of the
register's day, reconciled against the till's Z-report(s), which it names: the company and its
organisation number, the store and register, the day, which Z-report and receipts the voucher books,
the Z-report's control totals, the totals per VAT rate and payment method (by name), and the
underlag of every row (:mod:`exporters.dayreport_books`: payments tied to the gross sales, every term
of the cash drawer, the cash chain, each cash movement and expired gift card), and the voucher's rows
with account names and texts, so an auditor can trace the voucher back without asking us. It carries
the date it was compiled (Bokföringslagen 5 kap. 7 §): when the voucher was booked.

Pure: :func:`render` takes a :class:`~exporters.dayreport_model.DayReport` (the data: :mod:`exporters.dayreport_model`)
and returns PDF bytes. The output is deterministic (ReportLab's invariant mode, creation date taken from the data),
so the same export renders the same bytes on every attempt. Text uses the PDF standard fonts (Helvetica, WinAnsi
encoding), which carry å, ä, ö and é without embedding a font.

Every text is drawn through :func:`pdf_text` (the one text policy, :func:`mapping.text.clean_text`, then WinAnsi) and
wrapped by its measured width: a line breaks between words, and inside a word longer than the line, so nothing is
drawn past the right margin or left out, whatever a store name, an account name or a correction's reason holds.
"""

from __future__ import annotations

import io
from collections.abc import Callable

from reportlab.lib.pagesizes import A4
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas

from exporters.dayreport_books import draw
from exporters.dayreport_model import DayReport, kronor
from exporters.dayreport_sections import header, receipts, rows, totals
from mapping.text import clean_text

#: The PDF's bound of the text policy: one field (a store name, a reason, a cell) prints at most this many characters.
MAX_FIELD_CHARS = 5000


def render(report: DayReport) -> bytes:
    """The report as a PDF (A4, deterministic bytes): its sections (:mod:`exporters.dayreport_sections`) drawn
    with the primitives below."""
    out = io.BytesIO()
    pdf = _Writer(out, report)
    header(pdf, report)
    receipts(pdf, report)
    totals(pdf, report)
    if report.books is not None:
        draw(pdf, report.books, kronor)
    rows(pdf, report)
    pdf.finish()
    return out.getvalue()


class _Writer:
    """Lines top to bottom on A4, a new page when full. Every text goes through :func:`pdf_text` and :func:`_wrap`:
    nothing is drawn right of ``RIGHT`` or below ``BOTTOM``."""

    LEFT, RIGHT, TOP, BOTTOM = 50.0, A4[0] - 40.0, 800.0, 50.0
    #: Where a pair's value starts, right of its label.
    VALUE_X = LEFT + 170.0

    def __init__(self, out: io.BytesIO, report: DayReport) -> None:
        self.canvas = Canvas(out, pagesize=A4, invariant=1, pageCompression=1)
        stamp = report.compiled_on or report.entry_date
        # Deterministic: the creation date is the day the report was compiled (stored), not the wall clock.
        self.canvas.setDateFormatter(lambda *_: f"D:{stamp:%Y%m%d}000000+00'00'")
        self.canvas.setTitle(f"{report.filename}")
        self.canvas.setAuthor("dayclose")
        self.canvas.setSubject(f"Underlag till verifikation {report.voucher_label} ({report.reference})")
        self.y = self.TOP
        self.page = 1

    def _room(self, needed: float) -> None:
        if self.y - needed < self.BOTTOM:
            self.canvas.showPage()
            self.page += 1
            self.y = self.TOP

    def line(self, text: str, *, size: float = 9, bold: bool = False, gap: float = 13, x: float = LEFT) -> None:
        font = _font(bold)
        for chunk in _wrap(pdf_text(text), self.RIGHT - x, font, size):
            self._room(gap)
            self.canvas.setFont(font, size)
            self.canvas.drawString(x, self.y, chunk)
            self.y -= gap

    def heading(self, text: str) -> None:
        self.y -= 8
        self.line(text, size=11, bold=True, gap=16)

    def pair(self, label: str, value: str) -> None:
        labels = _wrap(pdf_text(label), self.VALUE_X - self.LEFT - 6, _font(True), 9)
        values = _wrap(pdf_text(value), self.RIGHT - self.VALUE_X, _font(False), 9)
        for i in range(max(len(labels), len(values))):
            self._room(13)
            if i < len(labels):
                self.canvas.setFont(_font(True), 9)
                self.canvas.drawString(self.LEFT, self.y, labels[i])
            if i < len(values):
                self.canvas.setFont(_font(False), 9)
                self.canvas.drawString(self.VALUE_X, self.y, values[i])
            self.y -= 13

    def note(self, text: str) -> None:
        self.line(text)

    def table(self, header: list[str], body: list[list[str]], widths: list[float]) -> None:
        """Columns of ``widths`` points from the left margin (at most to ``RIGHT``); a cell longer than its column
        wraps inside it, and its row grows (across a page break if it must)."""
        self.y -= 4
        numeric = [col > 0 and any(_numeric(row[col]) for row in body) for col in range(len(header))]
        for i, cells in enumerate([header, *body]):
            font = _font(i == 0 or cells[1:2] == ["Summa"])
            wrapped = [_wrap(pdf_text(cell), width - 6, font, 9) for cell, width in zip(cells, widths, strict=True)]
            for k in range(max(len(chunks) for chunks in wrapped)):
                self._room(13)
                self.canvas.setFont(font, 9)
                x = self.LEFT
                for col, (chunks, width) in enumerate(zip(wrapped, widths, strict=True)):
                    if k < len(chunks) and numeric[col] and (i == 0 or _numeric(cells[col])):
                        self.canvas.drawRightString(x + width - 6, self.y, chunks[k])
                    elif k < len(chunks):
                        self.canvas.drawString(x, self.y, chunks[k])
                    x += width
                self.y -= 13

    def finish(self) -> None:
        self.canvas.showPage()
        self.canvas.save()


_PDF_SUBSTITUTES = str.maketrans({"•": "·", "\u2212": "-"})


def pdf_text(value: str) -> str:
    """The PDF's rule of the text policy: :func:`mapping.text.clean_text`, at most :data:`MAX_FIELD_CHARS` characters
    (then "…"), and what the standard fonts' WinAnsi encoding cannot show as "?" (it would print as a box). The bullet
    becomes a middle dot: ReportLab writes it as code 127, which PDF readers do not turn back into text; the minus sign
    (U+2212, not in WinAnsi) a hyphen-minus, so "− Uttag" stays a subtraction rather than a "?"."""
    text = clean_text(value).translate(_PDF_SUBSTITUTES)
    if len(text) > MAX_FIELD_CHARS:
        text = text[: MAX_FIELD_CHARS - 1] + "…"
    return text.encode("cp1252", errors="replace").decode("cp1252")


def _font(bold: bool) -> str:
    return "Helvetica-Bold" if bold else "Helvetica"


def _numeric(cell: str) -> bool:
    return bool(cell) and cell.replace(" ", "").replace(",", "").replace("-", "").isdigit()


def _wrap(text: str, width: float, font: str = "Helvetica", size: float = 9) -> list[str]:
    """``text`` as lines no wider than ``width`` points in ``font`` at ``size``: broken between words, and inside a
    word longer than a line. Every character of ``text`` but the spaces at the breaks is on one of the lines."""

    def fits(candidate: str) -> bool:
        measured: float = stringWidth(candidate, font, size)
        return measured <= width

    words = text.split()
    if fits(whole := " ".join(words)):  # most texts: one measurement, not one per word (widths only add up)
        return [whole]
    lines: list[str] = []
    current = ""
    for word in words:
        candidate = f"{current} {word}" if current else word
        if fits(candidate):
            current = candidate
            continue
        if current:
            lines.append(current)
        rest = word
        while not fits(rest):
            cut = _longest_fitting_prefix(rest, fits)
            lines.append(rest[:cut])
            rest = rest[cut:]
        current = rest
    return [*lines, current] if current else lines or [""]


def _longest_fitting_prefix(word: str, fits: Callable[[str], bool]) -> int:
    """The length of the longest prefix of ``word`` that fits (at least one character: a line holds one)."""
    low, high = 1, len(word)
    while low < high:
        middle = (low + high + 1) // 2
        if fits(word[:middle]):
            low = middle
        else:
            high = middle - 1
    return low

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

Pure: :func:`render` takes a :class:`DayReport` and returns PDF bytes. The output is deterministic
(ReportLab's invariant mode, creation date taken from the data), so the same export renders the
same bytes on every attempt. Text uses the PDF standard fonts (Helvetica, WinAnsi encoding), which
carry å, ä, ö and é without embedding a font.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from reportlab.lib.pagesizes import A4
from reportlab.pdfgen.canvas import Canvas

from exporters.dayreport_books import Books, draw
from mapping.reconcile import ControlTotals

PARTIAL, DAY_CLOSE, REVERSAL, CORRECTION = "partial", "day_close", "reversal", "correction"
#: Up to this many receipts, a partial export lists every receipt number.
LIST_RECEIPTS_UP_TO = 12


@dataclass(frozen=True, slots=True)
class ReportRow:
    account: str
    account_name: str
    amount_ore: int
    cost_centre: str | None = None
    #: What the row books (the kind of event: :mod:`mapping.rows`); None on rows booked before rows had texts.
    text: str | None = None


@dataclass(frozen=True, slots=True)
class CorrectionNote:
    """Who corrected what, when and why (Bokföringslagen 5 kap. 5 §)."""

    reason: str
    requested_by: str
    requested_at: datetime
    originals: tuple[str, ...]
    in_original_period: bool


@dataclass(frozen=True, slots=True)
class DayReport:
    kind: str
    company_name: str
    store_id: str
    store_name: str
    business_date: date
    reference: str
    series: str
    number: int
    entry_date: date
    voucher_text: str
    rows: tuple[ReportRow, ...]
    z_report_number: int | None = None
    receipt_numbers: tuple[str, ...] = ()
    #: The Z-report's control totals for the whole day (None for a partial export).
    control: ControlTotals | None = None
    #: The totals of the receipts this voucher books (per VAT rate and payment method).
    totals: ControlTotals | None = None
    #: Earlier partial vouchers of the day this one complements: "D 12 (DC-…)".
    complements: tuple[str, ...] = ()
    #: The voucher this one reverses, for a reversal: "D 12 (DC-…)".
    reverses: str | None = None
    correction: CorrectionNote | None = None
    #: A partial export of sales that came after the day was closed and booked: that voucher, "D 12 (DC-…)".
    late_after: str | None = None
    extra_lines: tuple[str, ...] = field(default=())
    #: The company's organisation number (from BL), the register, the date the report was compiled (the voucher's
    #: booking; the entry date when not known), the Z-reports of the day it replaces, and the rows' underlag.
    org_number: str | None = None
    register_id: str = ""
    compiled_on: date | None = None
    superseded: tuple[int, ...] = ()
    books: Books | None = None
    #: Late sales booked without a Z-report of their own: the Z-report they follow; a sale paid by invoice.
    complements_z: int | None = None
    invoice: str | None = None

    @property
    def voucher_label(self) -> str:
        return f"{self.series} {self.number}"

    @property
    def filename(self) -> str:
        what = {REVERSAL: "Aterforing", CORRECTION: "Rattelse"}.get(self.kind, "Dagsrapport")
        store = "".join(ch if ch.isalnum() or ch in "-." else "-" for ch in self.store_id)[:40]
        return f"{what}_{store}_{self.business_date.isoformat()}_{self.reference}.pdf"


def kronor(amount_ore: int) -> str:
    """öre → "1 234,50" (Swedish: space thousands, comma decimals), integer arithmetic only."""
    sign = "-" if amount_ore < 0 else ""
    whole, frac = divmod(abs(amount_ore), 100)
    return f"{sign}{whole:,}".replace(",", " ") + f",{frac:02d}"


def percent(rate_bp: int) -> str:
    whole, frac = divmod(rate_bp, 100)
    return f"{whole} %" if frac == 0 else f"{whole},{frac:02d} %"


def receipt_range(numbers: Sequence[str]) -> str:
    """ "1–240 (240 kvitton)", or the list itself when short."""
    if not numbers:
        return "inga kvitton"
    ordered = sorted(numbers, key=natural_key)
    count = f"{len(ordered)} kvitto" if len(ordered) == 1 else f"{len(ordered)} kvitton"
    if len(ordered) <= 3:
        return f"{', '.join(ordered)} ({count})"
    return f"{ordered[0]}–{ordered[-1]} ({count})"


def natural_key(value: str) -> tuple[int, int, str]:
    return (0, int(value), "") if value.isdigit() else (1, 0, value)


def render(report: DayReport) -> bytes:
    """The report as a PDF (A4, deterministic bytes): its sections (:mod:`exporters.dayreport_sections`) drawn
    with the primitives below."""
    from exporters.dayreport_sections import header, receipts, rows, totals  # they build on this module's types

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
    """Lines top to bottom on A4, a new page when full."""

    LEFT, TOP, BOTTOM = 50.0, 800.0, 50.0

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
        self._room(gap)
        self.canvas.setFont("Helvetica-Bold" if bold else "Helvetica", size)
        self.canvas.drawString(x, self.y, text)
        self.y -= gap

    def heading(self, text: str) -> None:
        self.y -= 8
        self.line(text, size=11, bold=True, gap=16)

    def pair(self, label: str, value: str) -> None:
        self._room(13)
        self.canvas.setFont("Helvetica-Bold", 9)
        self.canvas.drawString(self.LEFT, self.y, label)
        self.canvas.setFont("Helvetica", 9)
        for i, chunk in enumerate(_wrap(value, 80)):
            if i:
                self._room(13)
            self.canvas.drawString(self.LEFT + 170, self.y, chunk)
            self.y -= 13

    def note(self, text: str) -> None:
        for chunk in _wrap(text, 105):
            self.line(chunk)

    def table(self, header: list[str], body: list[list[str]], widths: list[float]) -> None:
        self.y -= 4
        numeric = [col > 0 and any(_numeric(row[col]) for row in body) for col in range(len(header))]
        for i, cells in enumerate([header, *body]):
            self._room(13)
            self.canvas.setFont("Helvetica-Bold" if i == 0 or cells[1:2] == ["Summa"] else "Helvetica", 9)
            x = self.LEFT
            for col, (cell, width) in enumerate(zip(cells, widths, strict=True)):
                if numeric[col] and (i == 0 or _numeric(cell)):
                    self.canvas.drawRightString(x + width - 6, self.y, cell)
                else:
                    self.canvas.drawString(x, self.y, cell[: int(width / 4.6)])
                x += width
            self.y -= 13

    def finish(self) -> None:
        self.canvas.showPage()
        self.canvas.save()


def _numeric(cell: str) -> bool:
    return bool(cell) and cell.replace(" ", "").replace(",", "").replace("-", "").isdigit()


def _wrap(text: str, width: int) -> list[str]:
    words, lines, current = text.split(), [], ""
    for word in words:
        if current and len(current) + 1 + len(word) > width:
            lines.append(current)
            current = word
        else:
            current = f"{current} {word}".strip()
    return [*lines, current] if current else lines or [""]

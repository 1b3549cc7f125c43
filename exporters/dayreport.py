"""The day report: the underlying document attached to each voucher in BL (a PDF).

For a cash register the Z-dagrapport is the day's underlying document (FAR Balans 2018 nr 7); the
voucher in BL must lead to it (Bokföringslagen 5 kap. 6–7 §§). The report states which store and
day, which Z-report and receipts the voucher books, the Z-report's control totals, the totals per
VAT rate and payment method of the receipts in this voucher, and the voucher's rows with account
names, so an auditor can trace the voucher back without asking us.

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
    ordered = sorted(numbers, key=_natural)
    count = f"{len(ordered)} kvitto" if len(ordered) == 1 else f"{len(ordered)} kvitton"
    if len(ordered) <= 3:
        return f"{', '.join(ordered)} ({count})"
    return f"{ordered[0]}–{ordered[-1]} ({count})"


def _natural(value: str) -> tuple[int, int, str]:
    return (0, int(value), "") if value.isdigit() else (1, 0, value)


def render(report: DayReport) -> bytes:
    """The report as a PDF (A4, deterministic bytes)."""
    out = io.BytesIO()
    pdf = _Writer(out, report)
    _header(pdf, report)
    _receipts(pdf, report)
    _totals(pdf, report)
    _rows(pdf, report)
    pdf.finish()
    return out.getvalue()


def _header(pdf: _Writer, r: DayReport) -> None:
    title = {
        PARTIAL: "Delexport – underlag till verifikation",
        DAY_CLOSE: "Dagsrapport (Z-rapport) – underlag till verifikation",
        REVERSAL: "Återföring – underlag till verifikation",
        CORRECTION: "Rättelse – underlag till verifikation",
    }[r.kind]
    pdf.line(f"{title} {r.voucher_label}", size=14, bold=True, gap=20)
    facts = [
        ("Företag", r.company_name),
        ("Butik", f"{r.store_name} ({r.store_id})"),
        ("Affärsdag", r.business_date.isoformat()),
        ("Z-rapport", f"nr {r.z_report_number}" if r.z_report_number is not None else "– (ingen dagsavslut ännu)"),
        ("Verifikation i Björn Lundén", f"serie {r.series} nr {r.number}, daterad {r.entry_date.isoformat()}"),
        ("Vår referens", r.reference),
        ("Verifikationstext", r.voucher_text),
    ]
    for label, value in facts:
        pdf.pair(label, value)
    if r.kind == PARTIAL and r.late_after:
        pdf.note(
            f"Efterhandsförsäljning: kvitton som kom efter att dagen stängts och bokförts i {r.late_after}. "
            "Denna verifikation kompletterar den."
        )
    elif r.kind == PARTIAL:
        pdf.note(
            "Delexport: bokför dagens försäljning hittills. Den kompletteras av dagsavslutets "
            "verifikation, som bokför resten av dagen och hänvisar hit."
        )
    if r.complements:
        pdf.note(
            f"Kompletterar tidigare delexport: {', '.join(r.complements)}. Tillsammans bokför de hela "
            "dagen enligt Z-rapporten."
        )
    if r.reverses:
        pdf.note(f"Återför verifikation {r.reverses} i sin helhet (varje belopp med omvänt tecken).")
    if r.correction is not None:
        c = r.correction
        pdf.note(
            f"Rättelse av {', '.join(c.originals)}. Orsak: {c.reason}. Begärd av {c.requested_by} "
            f"{c.requested_at.strftime('%Y-%m-%d %H:%M')} (UTC)."
        )
        if not c.in_original_period:
            pdf.note(
                "Ursprungsperioden är låst eller räkenskapsåret stängt i Björn Lundén: rättelsen är "
                "daterad den första öppna dagen."
            )
    for extra in r.extra_lines:
        pdf.note(extra)


def _receipts(pdf: _Writer, r: DayReport) -> None:
    if r.kind in (REVERSAL,):
        return
    pdf.heading("Kvitton i denna verifikation")
    numbers = r.receipt_numbers
    pdf.pair("Kvitton", receipt_range(numbers))
    if numbers:
        ordered = sorted(numbers, key=_natural)
        pdf.pair("Första / sista kvittonummer", f"{ordered[0]} / {ordered[-1]}")
        if r.kind == PARTIAL and len(ordered) <= LIST_RECEIPTS_UP_TO:
            pdf.pair("Kvittonummer", ", ".join(ordered))


def _totals(pdf: _Writer, r: DayReport) -> None:
    if r.control is not None:
        pdf.heading("Z-rapportens kontrollsummor (hela dagen)")
        _control(pdf, r.control)
    if r.totals is not None and r.kind != REVERSAL:
        pdf.heading("Summor för kvittona i denna verifikation")
        _control(pdf, r.totals)


def _control(pdf: _Writer, c: ControlTotals) -> None:
    pdf.pair("Antal kvitton", str(c.receipt_count))
    pdf.pair("Totalt (brutto)", kronor(c.grand_total_ore) + " kr")
    pdf.table(
        ["Momssats", "Brutto", "Moms", "Netto"],
        [[percent(rate), kronor(g), kronor(v), kronor(g - v)] for rate, g, v in c.vat],
        widths=[120, 120, 120, 120],
    )
    pdf.table(["Betalsätt", "Belopp"], [[m, kronor(a)] for m, a in c.payments], widths=[240, 120])


def _rows(pdf: _Writer, r: DayReport) -> None:
    pdf.heading(f"Verifikation {r.voucher_label} som bokförd")
    body = [
        [
            row.account,
            row.account_name or "",
            row.cost_centre or "",
            kronor(row.amount_ore) if row.amount_ore > 0 else "",
            kronor(-row.amount_ore) if row.amount_ore < 0 else "",
        ]
        for row in r.rows
    ]
    debit = sum(row.amount_ore for row in r.rows if row.amount_ore > 0)
    body.append(["", "Summa", "", kronor(debit), kronor(debit)])
    pdf.table(["Konto", "Benämning", "KST", "Debet", "Kredit"], body, widths=[50, 230, 50, 90, 90])


class _Writer:
    """Lines top to bottom on A4, a new page when full."""

    LEFT, TOP, BOTTOM = 50.0, 800.0, 50.0

    def __init__(self, out: io.BytesIO, report: DayReport) -> None:
        self.canvas = Canvas(out, pagesize=A4, invariant=1, pageCompression=1)
        stamp = report.entry_date
        # Deterministic: the creation date is the voucher's date, not the wall clock.
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

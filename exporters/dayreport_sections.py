"""The day report's sections, top to bottom: header (who, what, which Z-report, which voucher, compiled when), the
receipts, the control totals, and the voucher's rows (the underlag of each row is :mod:`exporters.dayreport_books`).
Drawn with the primitives of :mod:`exporters.dayreport` (any :class:`_Writer`), from the data of
:mod:`exporters.dayreport_model`."""

from __future__ import annotations

from typing import Protocol

from exporters.dating_note import dating_note
from exporters.dayreport_books import Sheet
from exporters.dayreport_model import (
    CORRECTION,
    DAY_CLOSE,
    LIST_RECEIPTS_UP_TO,
    PARTIAL,
    REVERSAL,
    DayReport,
    kronor,
    natural_key,
    percent,
    receipt_range,
)
from mapping.reconcile import ControlTotals
from mapping.rows import method_name


class _Writer(Sheet, Protocol):
    def line(self, text: str, *, size: float = 9, bold: bool = False, gap: float = 13, x: float = 50.0) -> None: ...


def header(pdf: _Writer, r: DayReport) -> None:
    title = {
        PARTIAL: "Sammanställning av kassans försäljning – underlag till verifikation",
        DAY_CLOSE: "Sammanställning av dagsavslut – underlag till verifikation",
        REVERSAL: "Återföring – underlag till verifikation",
        CORRECTION: "Rättelse – underlag till verifikation",
    }[r.kind]
    pdf.line(f"{title} {r.voucher_label}", size=14, bold=True, gap=20)
    for label, value in _facts(r):
        pdf.pair(label, value)
    if r.kind == DAY_CLOSE:
        pdf.note(
            "Denna sammanställning är upprättad av dayclose ur kassans händelser och är avstämd mot kassans "
            "Z-rapport ovan (kontrollsummor och kassaräkning); Z-rapporten själv finns i kassasystemet."
        )
    if r.invoice:
        pdf.note(f"Fakturaförsäljning: {r.invoice}. Fakturan är verifikation för försäljningen; den ingår i "
                 "dagens Z-rapport men bokförs inte i dagens samlingsverifikation.")  # fmt: skip
    elif r.kind == PARTIAL and r.complements_z is not None:
        pdf.note(
            f"Komplettering: försäljning som kom efter att Z-rapport {r.complements_z} bokförts, utan någon ny "
            "Z-rapport inom väntetiden (t.ex. en kassa som varit offline). Verifikationen kompletterar "
            f"dagsavslutet{f' i {r.late_after}' if r.late_after else ''}."
        )
    elif r.kind == PARTIAL and r.late_after:
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
        pdf.note(dating_note(c.dating, c.found_on, c.statement, c.in_original_period))
    for extra in r.extra_lines:
        pdf.note(extra)


def _facts(r: DayReport) -> list[tuple[str, str]]:
    company = f"{r.company_name} ({r.org_number})" if r.org_number else r.company_name
    z = f"nr {r.z_report_number}" if r.z_report_number is not None else "– (ingen dagsavslut ännu)"
    if r.z_report_number is not None and r.superseded:
        earlier = ", ".join(str(n) for n in r.superseded)
        z += f", kumulativ för dagen (ersätter nr {earlier}: dagen öppnades igen)"
    elif r.complements_z is not None:
        z = f"– (kompletterar nr {r.complements_z})"
    facts = [("Företag", company), ("Butik", f"{r.store_name} ({r.store_id})")]
    if r.register_id:
        facts.append(("Kassa", r.register_id))
    facts += [
        ("Affärsdag", r.business_date.isoformat()),
        ("Avstämd mot Z-rapport" if r.kind == DAY_CLOSE else "Z-rapport", z),
        ("Verifikation i Björn Lundén", f"serie {r.series} nr {r.number}, daterad {r.entry_date.isoformat()}"),
        ("Vår referens", r.reference),
        ("Verifikationstext", r.voucher_text),
        ("Upprättad", (r.compiled_on or r.entry_date).isoformat()),
    ]
    return facts


def receipts(pdf: _Writer, r: DayReport) -> None:
    if r.kind in (REVERSAL,):
        return
    pdf.heading("Kvitton i denna verifikation")
    numbers = r.receipt_numbers
    pdf.pair("Kvitton", receipt_range(numbers))
    if numbers:
        ordered = sorted(numbers, key=natural_key)
        pdf.pair("Första / sista kvittonummer", f"{ordered[0]} / {ordered[-1]}")
        if r.kind == PARTIAL and len(ordered) <= LIST_RECEIPTS_UP_TO:
            pdf.pair("Kvittonummer", ", ".join(ordered))


def totals(pdf: _Writer, r: DayReport) -> None:
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
    pdf.table(["Betalsätt", "Belopp"], [[method_name(m), kronor(a)] for m, a in c.payments], widths=[240, 120])


def rows(pdf: _Writer, r: DayReport) -> None:
    """The voucher as booked, a row per account and kind of event with what it books (rows booked before rows had
    texts show the account's name), then the accounts with BL's names."""
    pdf.heading(f"Verifikation {r.voucher_label} som bokförd")
    body = [
        [
            row.account,
            row.text or row.account_name or "",
            row.cost_centre or "",
            kronor(row.amount_ore) if row.amount_ore > 0 else "",
            kronor(-row.amount_ore) if row.amount_ore < 0 else "",
        ]
        for row in r.rows
    ]
    debit = sum(row.amount_ore for row in r.rows if row.amount_ore > 0)
    body.append(["", "Summa", "", kronor(debit), kronor(debit)])
    pdf.table(["Konto", "Avser", "KST", "Debet", "Kredit"], body, widths=[50, 230, 50, 90, 90])
    names = {row.account: row.account_name for row in r.rows}
    pdf.table(["Konto", "Benämning i Björn Lundén"], [[a, names[a] or "–"] for a in sorted(names)], widths=[50, 330])

"""The day-report port's adapter (:class:`service.ports.DayReports`): what is stored about a booked export →
the day report's data (pure) → its PDF (:mod:`exporters.dayreport`), as the attachment BL receives."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from exporters.dayreport import render
from exporters.dayreport_books import Books, Drawer
from exporters.dayreport_model import (
    CORRECTION,
    DAY_CLOSE,
    PARTIAL,
    REVERSAL,
    CorrectionNote,
    DayReport,
    ReportRow,
    percent,
)
from mapping.buckets import REFUND
from mapping.entries import MOVEMENT_ROWS
from mapping.register_day import CashMovement, GiftCardExpiry
from mapping.rows import method_name
from mapping.sales import CASH_METHOD
from mapping.totals_closing import cash_drawer, control_totals, day_totals
from service.exporter import Attachment, ChartNames
from service.messages import Trigger
from service.model import ReportSource


class PdfDayReports:
    def render(self, source: ReportSource, names: ChartNames) -> Attachment:
        report = day_report(source, names)
        return Attachment(report.filename, render(report))


def day_report(source: ReportSource, names: ChartNames) -> DayReport:
    """The report's data from what is stored: pure apart from its inputs."""
    # The names the voucher was posted with come first; today's chart fills in what is missing.
    stored_names = {**names.accounts, **source.voucher.get("account_names", {})}
    rows = tuple(
        ReportRow(row[0], stored_names.get(row[0], ""), row[1], row[2], row[3] if len(row) > 3 else None)
        for row in source.voucher["rows"]
    )
    correction = None
    if source.correction is not None:
        c = source.correction
        originals = tuple(
            f"{o['series']} {o['number']} ({o['reference']}, {o['business_date']})" for o in c["originals"]
        )
        correction = CorrectionNote(
            c["reason"],
            c["requested_by"],
            _timestamp(c["requested_at"]),
            originals,
            c["in_original_period"],
            c.get("dating") or "",
            c.get("found_on"),
            c.get("statement"),
        )
    return DayReport(
        kind=_kind(source),
        company_name=source.company_name,
        store_id=source.store_id,
        store_name=source.store_name,
        business_date=source.business_date,
        reference=source.reference,
        series=source.series,
        number=source.number,
        entry_date=source.entry_date,
        voucher_text=source.voucher["text"],
        rows=rows,
        z_report_number=source.z_report_number,
        receipt_numbers=tuple(source.receipt_numbers),
        control=source.control,
        totals=control_totals(day_totals(source.receipts)) if source.receipts else None,
        complements=tuple(source.complements),
        reverses=source.reverses,
        correction=correction,
        late_after=source.late_after,
        org_number=source.org_number,
        register_id=source.register_id,
        compiled_on=source.booked_on,
        superseded=tuple(source.superseded),
        books=books(source) if source.trigger != Trigger.CORRECTION else None,
        complements_z=source.complements_z,
        invoice=f"faktura {source.invoice.number} till {source.invoice.customer}" if source.invoice else None,
    )


def books(source: ReportSource) -> Books:
    """What the voucher's rows rest on (exporters/dayreport_books.py), from the items it books and, for a day close,
    the register's whole day when it was claimed."""
    receipts = [*source.receipts]
    payments: dict[str, int] = {}
    for r in receipts:
        for p in r.payments:
            payments[p.method] = payments.get(p.method, 0) + r.sign * p.amount_ore
    movements = [m for m in source.others if isinstance(m, CashMovement)]
    expiries = [e for e in source.others if isinstance(e, GiftCardExpiry)]
    return Books(
        payments=tuple((method_name(m), a) for m, a in sorted(payments.items())),
        gross_sales=sum(r.sign * r.gross_ore for r in receipts),
        tips=sum(r.sign * r.tip_ore for r in receipts),
        rounding=sum(r.sign * r.rounding_ore for r in receipts),
        movements=tuple((MOVEMENT_ROWS[m.kind].text, m.movement_id, m.cash_effect_ore) for m in movements),
        expired=tuple((e.expiry_id, _card_kind(e), e.amount_ore, e.vat_ore) for e in expiries),
        drawer=_drawer(source),
        cash_chain=source.cash_chain,
    )


def _card_kind(expiry: GiftCardExpiry) -> str:
    if expiry.vat_rate:
        return f"enfunktion ({method_name(expiry.method)}), {percent(expiry.vat_rate)} moms"
    return f"flerfunktion ({method_name(expiry.method)})"


def _drawer(source: ReportSource) -> Drawer | None:
    close, day = source.day_close, source.day
    if close is None or day is None or not close.cash_reported:
        return None
    terms = cash_drawer(close, day)
    returns = day.get(REFUND, CASH_METHOD)[0]  # (0 for what was summed before returns were kept apart)
    return Drawer(
        opening_float=terms.opening_float_ore,
        cash_takings=terms.cash_payments_ore + returns,
        cash_returns=returns,
        deposits=terms.deposits_ore,
        withdrawals=terms.withdrawals_ore,
        float_changes=terms.float_changes_ore,
        tip_payouts=terms.tip_payouts_ore,
        expected=close.expected_cash_ore,
        counted=close.counted_cash_ore,
        booked_before=source.cash_booked_before,
    )


def _kind(source: ReportSource) -> str:
    if source.trigger == Trigger.CORRECTION:
        return REVERSAL
    if source.correction is not None:
        return CORRECTION
    return DAY_CLOSE if source.z_report_number is not None else PARTIAL


def _timestamp(value: Any) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))

"""The day-report port's adapter (:class:`service.ports.DayReports`): what is stored about a booked export →
the day report's data (pure) → its PDF (:mod:`exporters.dayreport`), as the attachment BL receives."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from exporters.dayreport import CORRECTION, DAY_CLOSE, PARTIAL, REVERSAL, CorrectionNote, DayReport, ReportRow, render
from mapping.reconcile import totals_of
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
            c["reason"], c["requested_by"], _timestamp(c["requested_at"]), originals, c["in_original_period"]
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
        totals=totals_of(source.receipts) if source.receipts else None,
        complements=tuple(source.complements),
        reverses=source.reverses,
        correction=correction,
        late_after=source.late_after,
    )


def _kind(source: ReportSource) -> str:
    if source.trigger == Trigger.CORRECTION:
        return REVERSAL
    if source.correction is not None:
        return CORRECTION
    return DAY_CLOSE if source.z_report_number is not None else PARTIAL


def _timestamp(value: Any) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))

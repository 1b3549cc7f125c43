"""The second durable step of an export: attach its day report to the booked voucher in BL.

Booking and its audit record commit first (the export's document becomes ``pending`` in the same
transaction). Then the report is rendered from what is stored (deterministic bytes) and attached;
the exporter looks for a document already attached under the same name before uploading, so a crash
or a lost answer between posting and attaching ends with exactly one document on the voucher:

* attached → ``document_status = 'attached'`` with BL's document id;
* refused by BL (4xx) → ``failed``, with a FAILED outcome ``DOCUMENT_ATTACH_FAILED`` (severity
  WARNING) carrying the voucher; the voucher stays booked and is never undone;
* BL unavailable → still ``pending``: the store's job backs off and retries, and any later job of
  the store attaches pending documents first.
"""

from __future__ import annotations

import uuid
from typing import Any

import structlog
from psycopg_pool import ConnectionPool

from consumer.events import EventWriter
from consumer.outcomes import Detail, Outcome
from dayclose.db import documents as db
from dayclose.db.corrections import CORRECTION
from dayclose.db.documents import ReportSource
from exporters.base import (
    Attachment,
    ChartNames,
    Exporter,
    ExportError,
    OperatorError,
    TransientExportError,
    VoucherLocation,
)
from exporters.dayreport import (
    CORRECTION as CORRECTION_REPORT,
)
from exporters.dayreport import (
    DAY_CLOSE,
    PARTIAL,
    REVERSAL,
    CorrectionNote,
    DayReport,
    ReportRow,
    render,
)
from mapping.periods import FiscalYear
from mapping.reconcile import totals_of
from mapping.voucher import Voucher

log = structlog.get_logger("dayclose.documents")
DOCUMENT_ATTACH_FAILED = "DOCUMENT_ATTACH_FAILED"


class DocumentStep:
    def __init__(self, pool: ConnectionPool[Any], exporter: Exporter, events: EventWriter) -> None:
        self.pool = pool
        self.exporter = exporter
        self.events = events

    def booking_facts(self, user_key: str, voucher: Voucher) -> tuple[ChartNames, list[FiscalYear]]:
        """BL's account names and the voucher's fiscal year for the audit record, from what the pre-flight
        just asked (cached: no extra request before the outcome). Best effort: the record falls back to
        account numbers and the safe retention for an unknown fiscal year."""
        try:
            names = self.exporter.chart_names(user_key, cost_centres=any(r.cost_centre for r in voucher.rows))
        except ExportError:
            names = ChartNames()
        try:
            year = self.exporter.fiscal_year_for(user_key, voucher.entry_date)
        except ExportError:
            year = None
        return names, [year] if year else []

    def _names(self, user_key: str) -> ChartNames:
        try:
            return self.exporter.chart_names(user_key, cost_centres=False)
        except ExportError:
            return ChartNames()

    def attach_pending(self, org: str, store: str, user_key: str) -> bool:
        """Attach every pending document of the store. False when BL could not be reached (retry later)."""
        with self.pool.connection() as conn:
            pending = db.pending_documents(conn, org, store)
        return all(self.attach(export_id, user_key) for export_id in pending)

    def attach(self, export_id: uuid.UUID, user_key: str) -> bool:
        """Attach one export's report. False only when it stays pending (BL unavailable)."""
        with self.pool.connection() as conn:
            source = db.report_source(conn, export_id)
        bound = log.bind(organization_id=source.organization_id, store_id=source.store_id,
                         export_id=str(export_id), reference=source.reference)
        stored = source.voucher.get("account_names") or {}
        known = all(account in stored for account, _, _ in source.voucher["rows"])
        report = day_report(source, ChartNames() if known else self._names(user_key))
        where = VoucherLocation(source.series, source.number, source.entry_date, source.reference)
        try:
            attached = self.exporter.attach_document(user_key, where, Attachment(report.filename, render(report)))
        except (TransientExportError, OperatorError) as exc:
            bound.warning("document.attach_deferred", reason_code=str(exc.reason_code), error=exc.message)
            return False
        except ExportError as exc:
            self._failed(source, report.filename, exc)
            bound.warning("document.refused", reason_code=str(exc.reason_code), error=exc.message)
            return True
        with self.pool.connection() as conn, conn.transaction():
            db.mark_attached(conn, export_id, attached.document_id, attached.name)
        bound.info("document.attached", document_id=attached.document_id, name=attached.name,
                   already_attached=attached.already_attached)
        return True

    def _failed(self, source: ReportSource, name: str, exc: ExportError) -> None:
        details = [Detail("document", name, exc.message)] + [
            Detail(str(k), str(v)) for k, v in sorted(exc.details.items()) if k != "user_key"
        ]
        with self.pool.connection() as conn, conn.transaction():
            db.mark_document_failed(conn, source.export_id, name, [d.__dict__ for d in details])
            self.events.outcome(conn, Outcome(
                organization_id=source.organization_id,
                trigger=source.trigger if source.trigger in ("DAY_CLOSE", "MANUAL", "RETRY", CORRECTION)
                else "DAY_CLOSE",
                status="FAILED", store_id=source.store_id, business_date=source.business_date,
                export_id=str(source.export_id), reason_code=DOCUMENT_ATTACH_FAILED, details=details,
                voucher={"series": source.series, "number": source.number, "entry_date": source.entry_date,
                         "total_debit_ore": sum(a for _, a, _ in source.voucher["rows"] if a > 0),
                         "receipt_count": int(source.voucher.get("receipt_count") or 0),
                         "already_existed": False},
            ))


def day_report(source: ReportSource, names: ChartNames) -> DayReport:
    """The report's data from what is stored: pure apart from its inputs."""
    # The names the voucher was posted with come first; today's chart fills in what is missing.
    stored_names = {**names.accounts, **source.voucher.get("account_names", {})}
    rows = tuple(
        ReportRow(account, stored_names.get(account, ""), amount, centre)
        for account, amount, centre in source.voucher["rows"]
    )
    kind = _kind(source)
    correction = None
    if source.correction is not None:
        c = source.correction
        originals = tuple(f"{o['series']} {o['number']} ({o['reference']}, {o['business_date']})"
                          for o in c["originals"])
        correction = CorrectionNote(c["reason"], c["requested_by"], db.requested_at(c["requested_at"]), originals,
                                    c["in_original_period"])
    return DayReport(
        kind=kind, company_name=source.company_name, store_id=source.store_id, store_name=source.store_name,
        business_date=source.business_date, reference=source.reference, series=source.series,
        number=source.number, entry_date=source.entry_date, voucher_text=source.voucher["text"], rows=rows,
        z_report_number=source.z_report_number, receipt_numbers=tuple(source.receipt_numbers),
        control=source.control, totals=totals_of(source.receipts) if source.receipts else None,
        complements=tuple(source.complements), reverses=source.reverses, correction=correction,
        late_after=source.late_after,
    )


def _kind(source: ReportSource) -> str:
    if source.trigger == CORRECTION:
        return REVERSAL
    if source.correction is not None:
        return CORRECTION_REPORT
    return DAY_CLOSE if source.z_report_number is not None else PARTIAL

"""The second durable step of an export: attach its day report to the booked voucher in BL.

Booking and its audit record commit first (the export's document becomes ``pending`` in the same
transaction, with BL's entity id of the voucher). Then the report is rendered from what is stored
(deterministic bytes), the attach is recorded as attempted (``document_attach_attempted_at``, its own
commit: when the last attempt began, or ended when BL could not take it) and the report is attached.
The first attempt goes straight to the voucher (one request: nothing of ours can be on it yet); every
later one — after a crash, a lost answer or BL being down — has the exporter read the voucher back and
look for a document already attached under the same name before uploading, so any of them ends with
exactly one document on the voucher:

* attached → ``document_status = 'attached'`` with BL's document id;
* refused by BL (4xx) → ``failed``, with a FAILED outcome ``DOCUMENT_ATTACH_FAILED`` (severity
  WARNING) carrying the voucher; the voucher stays booked and is never undone;
* BL unavailable → still ``pending``: the store's job backs off and retries, and any later job of
  the store attaches pending documents first.
"""

from __future__ import annotations

import uuid

import structlog

from mapping.periods import FiscalYear
from mapping.voucher import Voucher
from service.deps import ExportDeps
from service.exporter import ChartNames, Exporter, ExportError, Fence, VoucherLocation
from service.lifecycle import AttachStep, attach_step
from service.messages import BookedSummary, Detail, Outcome, OutcomeStatus, Trigger
from service.model import ReportSource
from service.reasons import ReasonCode

log = structlog.get_logger("dayclose.documents")
#: Triggers an outcome about a document repeats from its export (a correction's new voucher is a DAY_CLOSE).
_EXPORT_TRIGGERS = (Trigger.DAY_CLOSE, Trigger.MANUAL, Trigger.RETRY, Trigger.CORRECTION)


def booking_facts(exporter: Exporter, user_key: str, voucher: Voucher, org: str) -> tuple[ChartNames, list[FiscalYear]]:
    """BL's account names and the voucher's fiscal year for the audit record, from what the pre-flight
    just asked (kept: no extra request before the outcome). Best effort: the record falls back to
    account numbers and the safe retention for an unknown fiscal year."""
    try:
        names = exporter.chart_names(
            user_key,
            {r.account for r in voucher.rows},
            {r.cost_centre for r in voucher.rows if r.cost_centre},
            org=org,
        )
    except ExportError:
        names = ChartNames()
    try:
        year = exporter.fiscal_year_for(user_key, voucher.entry_date, org=org)
    except ExportError:
        year = None
    return names, [year] if year else []


def attach_pending(deps: ExportDeps, org: str, store: str, user_key: str, fence: Fence | None = None) -> bool:
    """Attach every pending document of the store. False when BL could not be reached (retry later)."""
    with deps.uow() as uow:
        pending = uow.documents.pending(org, store)
    return all(attach(deps, export_id, user_key, fence) for export_id in pending)


def attach(deps: ExportDeps, export_id: uuid.UUID, user_key: str, fence: Fence | None = None) -> bool:
    """Attach one export's report. False only when it stays pending (BL unavailable). ``fence`` runs right before
    the attach request (:data:`service.exporter.Fence`)."""
    with deps.uow() as uow:
        source = uow.documents.source(export_id)
    bound = log.bind(
        organization_id=source.organization_id,
        store_id=source.store_id,
        export_id=str(export_id),
        reference=source.reference,
    )
    stored = source.voucher.get("account_names") or {}
    accounts = {row[0] for row in source.voucher["rows"]}  # rows of 3 (before #21) or 4 (with their text)
    known = accounts <= stored.keys()
    names = ChartNames() if known else _names(deps.exporter, user_key, accounts, source.organization_id)
    attachment = deps.reports.render(source, names)
    with deps.uow() as uow:
        target = uow.documents.begin_attach(export_id)
        uow.commit()
    where = VoucherLocation(source.series, source.number, source.entry_date, source.reference, target.entity_id)
    try:
        attached = deps.exporter.attach_document(
            user_key,
            where,
            attachment,
            maybe_attached=not target.direct,
            last_attempt_s_ago=target.last_attempt_s_ago,
            fence=fence,
        )
    except ExportError as exc:
        if attach_step(exc) is AttachStep.DEFERRED:
            with deps.uow() as uow:  # its last request may have left just now: the next read-back waits from now
                uow.documents.attach_ended(export_id)
                uow.commit()
            bound.warning("document.attach_deferred", reason_code=str(exc.reason_code), error=exc.message)
            return False
        _refused(deps, source, attachment.filename, exc)
        bound.warning("document.refused", reason_code=str(exc.reason_code), error=exc.message)
        return True
    with deps.uow() as uow:
        uow.documents.mark_attached(export_id, attached.document_id, attached.name)
        uow.commit()
    bound.info(
        "document.attached",
        document_id=attached.document_id,
        name=attached.name,
        already_attached=attached.already_attached,
    )
    return True


def _names(exporter: Exporter, user_key: str, accounts: set[str], org: str) -> ChartNames:
    try:
        return exporter.chart_names(user_key, accounts, org=org)
    except ExportError:
        return ChartNames()


def _refused(deps: ExportDeps, source: ReportSource, name: str, exc: ExportError) -> None:
    details = [Detail("document", name, exc.message)] + [
        Detail(str(k), str(v)) for k, v in sorted(exc.details.items()) if k != "user_key"
    ]
    rows = source.voucher["rows"]
    with deps.uow() as uow:
        uow.documents.mark_failed(source.export_id, name, details)
        uow.outbox.outcome(
            Outcome(
                organization_id=source.organization_id,
                trigger=source.trigger if source.trigger in _EXPORT_TRIGGERS else Trigger.DAY_CLOSE,
                status=OutcomeStatus.FAILED,
                store_id=source.store_id,
                business_date=source.business_date,
                export_id=str(source.export_id),
                reason_code=ReasonCode.DOCUMENT_ATTACH_FAILED,
                details=details,
                voucher=BookedSummary(
                    source.series,
                    source.number,
                    source.entry_date,
                    sum(row[1] for row in rows if row[1] > 0),
                    int(source.voucher.get("receipt_count") or 0),
                ),
            )
        )
        uow.commit()

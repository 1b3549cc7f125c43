"""One attempt at booking one export, exactly once in effect. Its durable steps, each its own unit of work:

1. (before) the export claimed its store-day's sales by watermark under a new export id (:mod:`service.jobs`);
2. the voucher is built from what it claimed, its totals (pure, :mod:`mapping`) — or the one stored before an
   earlier post, which may be in BL already;
3. a correction's date is decided and stored (:mod:`service.corrections`);
4. the pre-flight: BL's fiscal year, accounts and cost centres allow the voucher (nothing is posted yet: a
   refusal here is recorded as ``failed`` below with no post attempted);
5. **lease**: the exact voucher is stored and leased to this worker before BL hears of it, and the post is
   recorded as attempted (``post_attempted_at``, kept once set) in the same commit;
6. BL books it. When the lease found no earlier post attempt, no voucher of this export can be in BL and it
   is posted at once (one request); otherwise the exporter looks the reference up first, so an export that
   crashed or lost its answer after posting is found, not posted again. That look-up waits until the earlier
   attempt's last possible post is the exporter's quiet period old (``LeaseTaken.last_post_s_ago``): a post sent
   by a process that died a moment ago may still be being committed by BL, and a look-up before it lands would
   miss it and post a second voucher;
7. **booked**: the result (with BL's entity id of the voucher), the audit record, a correction's completion
   and the SUCCEEDED outcome commit together (outbox), with a WARNING when a correction's new voucher changes
   the VAT of a period whose return is due or filed (:mod:`service.correction_vat`); or **failed**: the failure
   and (per :func:`service.lifecycle.failure_of`) its outcome;
8. the day report is attached (:mod:`service.documents`).
"""

from __future__ import annotations

import time
from typing import Any

import structlog

from mapping.errors import MappingError, NothingToBookError
from mapping.periods import NoOpenPeriodError
from mapping.plan import AccountPlan, InvoiceSales
from mapping.voucher import Voucher
from service import correction_requests, documents
from service.correction_vat import vat_warning
from service.corrections import prepare
from service.deps import ExportDeps
from service.exporter import (
    BookedVoucher,
    ExporterBug,
    ExportError,
    Fence,
    LeaseLost,
    MerchantActionRequired,
    OperatorError,
    TransientExportError,
)
from service.lifecycle import Failure, Result, dating_failure, failure_of, outcome_trigger
from service.messages import BookedSummary, Outcome, OutcomeStatus, Trigger
from service.model import ActiveIntegration, Export, Lease, LeaseTaken
from service.reasons import ReasonCode
from service.vouchers import voucher_for

log = structlog.get_logger("dayclose.export")
#: What the exporter may raise from ``export`` (anything else is a bug: the job backs off).
_EXPORT_FAILURES = (MerchantActionRequired, ExporterBug, TransientExportError, OperatorError)


def attempt(
    deps: ExportDeps,
    export: Export,
    integration: ActiveIntegration,
    plan: AccountPlan | None,
    fence: Fence | None = None,
) -> Result:
    """``fence`` runs right before each write to BL (:data:`service.exporter.Fence`): the job's lease, still held."""
    bound = log.bind(
        organization_id=export.organization_id,
        store_id=export.store_id,
        business_date=str(export.business_date),
        export_id=str(export.export_id),
        reference=export.reference,
        attempt=export.attempts + 1,
    )
    trigger = outcome_trigger(export)
    user_key = integration.user_key.reveal()
    prepared = _prepare(deps, export, trigger, plan, user_key, bound)
    if isinstance(prepared, Result):
        return prepared
    voucher, receipt_count = prepared
    try:  # before the lease, so a refused pre-flight leaves no post attempt on record
        deps.exporter.preflight(voucher, user_key, plan, org=export.organization_id)
    except _EXPORT_FAILURES as exc:
        return _failed(deps, export, trigger, failure_of(exc, export), bound, exc.message)
    with deps.uow() as uow:
        lease = uow.exports.take_lease(export, deps.lease_owner(), deps.policy.lease, voucher, receipt_count)
        uow.commit()
    if lease.kind is Lease.HELD_ELSEWHERE:
        bound.warning("export.leased_elsewhere")  # another worker is posting it: try again later
        return Result.TRANSIENT
    started = time.monotonic()
    try:
        booked = _post(deps, export, voucher, user_key, lease, fence)
    except _EXPORT_FAILURES as exc:
        return _failed(deps, export, trigger, failure_of(exc, export), bound, exc.message)
    _booked(deps, export, trigger, booked, voucher, receipt_count, user_key)
    bound.info(
        "export.booked",
        series=booked.series,
        number=booked.number,
        already_existed=booked.already_existed,
        total_debit_ore=voucher.total_debit_ore,
        bl_ms=round((time.monotonic() - started) * 1000, 1),
    )
    deps.observe("found_existing" if booked.already_existed else "booked", None)
    if not documents.attach(deps, export.export_id, user_key, fence):
        return Result.TRANSIENT  # booked; its day report stays pending and is attached on the retry
    return Result.BOOKED


def _post(
    deps: ExportDeps, export: Export, voucher: Voucher, user_key: str, lease: LeaseTaken, fence: Fence | None
) -> BookedVoucher:
    """BL books the leased voucher (or has it already). When the job was taken over before a post could leave
    (:class:`LeaseLost`, raised on), the export's lease is let go: its new holder may take it at once, and looks up
    after the quiet period from now."""
    try:
        return deps.exporter.export(
            voucher,
            user_key,
            maybe_posted=lease.kind is Lease.POSTED_BEFORE,
            last_post_s_ago=lease.last_post_s_ago,
            org=export.organization_id,
            fence=fence,
        )
    except LeaseLost:
        with deps.uow() as uow:
            uow.exports.let_go(export, deps.lease_owner())
            uow.commit()
        raise


def _prepare(
    deps: ExportDeps,
    export: Export,
    trigger: Trigger,
    plan: AccountPlan | None,
    user_key: str,
    bound: Any,
) -> tuple[Voucher, int] | Result:
    """The voucher to post (and its receipt count), or the attempt's result when there is none to post."""
    if export.invoice is not None and plan is not None and plan.invoice_sales == InvoiceSales.BOOKED_ELSEWHERE:
        # The POS's (or BL's) invoicing books the invoice: our books leave it out (a setting of the plan).
        with deps.uow() as uow:
            uow.exports.release_empty(export, ReasonCode.BOOKED_ELSEWHERE)
            uow.commit()
        bound.info("export.booked_elsewhere", invoice=export.invoice.number)
        deps.observe("nothing_to_book", None)
        return Result.BOOKED
    try:
        voucher, receipt_count = voucher_for(deps.uow, export, plan)
    except NothingToBookError:
        with deps.uow() as uow:
            uow.exports.release_empty(export)
            uow.commit()
        bound.info("export.nothing_to_book")
        deps.observe("nothing_to_book", None)
        return Result.BOOKED
    except MappingError as exc:
        return _failed(deps, export, trigger, failure_of(exc, export), bound, str(exc))
    try:  # a correction is dated by BL's period rules before anything is stored or posted
        return prepare(deps, export, voucher, user_key), receipt_count
    except (NoOpenPeriodError, ExportError) as exc:
        failure = dating_failure(exc)
        if failure is None:
            bound.warning("export.correction_dating_deferred", error=str(exc))
            return Result.TRANSIENT
        return _failed(deps, export, trigger, failure, bound, str(exc))


def _booked(
    deps: ExportDeps,
    export: Export,
    trigger: Trigger,
    booked: BookedVoucher,
    voucher: Voucher,
    receipt_count: int,
    user_key: str,
) -> None:
    """The result, its audit record, a correction's completion and the outcome, in one transaction."""
    names, years = documents.booking_facts(deps.exporter, user_key, voucher, export.organization_id)
    with deps.uow() as uow:
        uow.exports.mark_booked(export, booked, voucher, receipt_count)
        uow.audit.record_booked(export, booked, voucher, receipt_count, names, years)
        if export.trigger == Trigger.CORRECTION:
            correction_requests.complete(uow, export)  # and the day queued anew
        uow.outbox.outcome(
            Outcome(
                organization_id=export.organization_id,
                trigger=trigger,
                status=OutcomeStatus.SUCCEEDED,
                store_id=export.store_id,
                business_date=export.business_date,
                export_id=str(export.export_id),
                voucher=BookedSummary(
                    booked.series,
                    booked.number,
                    booked.entry_date,
                    voucher.total_debit_ore,
                    receipt_count,
                    booked.already_existed,
                ),
            )
        )
        warning = vat_warning(uow, export, years, deps.today())
        if warning is not None:
            uow.outbox.outcome(warning)
        uow.commit()


def _failed(deps: ExportDeps, export: Export, trigger: Trigger, failure: Failure, bound: Any, error: str) -> Result:
    """Record the failed attempt and, when the table says so, its outcome, in one transaction."""
    with deps.uow() as uow:
        uow.exports.mark_failed(export, failure.status, failure.reason_code, failure.details)
        if failure.emit:
            uow.outbox.outcome(
                Outcome(
                    organization_id=export.organization_id,
                    trigger=trigger,
                    status=OutcomeStatus.FAILED,
                    store_id=export.store_id,
                    business_date=export.business_date,
                    export_id=str(export.export_id),
                    reason_code=failure.reason_code,
                    details=failure.details,
                )
            )
        uow.commit()
    if failure.result is Result.TRANSIENT:
        event = "export.transient_failure"
    else:
        event = "export.rejected_as_our_bug" if failure.alert else "export.failed"
    (bound.error if failure.alert else bound.warning)(event, reason_code=failure.reason_code, error=error)
    deps.observe(failure.metric_outcome, failure.reason_code)
    return failure.result

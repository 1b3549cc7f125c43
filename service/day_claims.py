"""A register-day's claim for its export job (:mod:`service.jobs`): what the day holds that no export books yet, and,
with a day close waiting, the day reconciled against its Z-report in the same unit of work (a day that does not add
up claims nothing: its differences are reported once the wait is over)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta

import structlog

from mapping.plan import AccountPlan, VatPolicy
from mapping.reconcile import Difference
from mapping.totals_closing import closing_differences, vat_adjustment_to_book
from service.deps import ExportDeps
from service.lifecycle import MismatchStep, after_mismatch, export_trigger, mismatch_details
from service.messages import Outcome, OutcomeStatus
from service.model import DayCloseStatus, Export, Job, StoredDayClose
from service.ports import UnitOfWork
from service.reasons import ReasonCode

log = structlog.get_logger("dayclose.export")


def claim_day(
    deps: ExportDeps,
    job: Job,
    day: date,
    reconciling: StoredDayClose | None,
    close: StoredDayClose | None,
    plan: AccountPlan | None,
) -> tuple[Export | None, tuple[Difference, ...], list[Export]]:
    """Claim the register-day; reconciling a Z-report, commit only if the day adds up to it (else the differences).
    Without one, a claim of a day whose latest Z-report ``close`` is booked is a complement of it. With the claim,
    the invoice exports it made (read before it commits)."""
    vat_policy = plan.vat_policy if plan is not None else VatPolicy.EXACT.value
    diffs: tuple[Difference, ...] = ()
    with deps.uow() as uow:
        export = uow.exports.claim(
            job.organization_id,
            job.store_id,
            day,
            export_trigger(job),
            reconciling.day_close.z_report_number if reconciling else None,
            include_day_close=reconciling is not None,
            single_purpose=single_purpose(plan),
            register=job.register_id or "",
            complements_z=close.day_close.z_report_number if close is not None and reconciling is None else None,
        )
        if reconciling is not None:
            diffs = _reconcile(uow, job.organization_id, reconciling, export, vat_policy)
        if diffs:
            uow.rollback()  # nothing is claimed while the day does not add up
            return export, diffs, []
        invoices = uow.exports.fresh_invoices(job.organization_id, job.store_id)
        uow.commit()
    return export, diffs, invoices


def single_purpose(plan: AccountPlan | None) -> Mapping[str, int]:
    """The single-purpose gift card methods a claim sums redemptions for (the plan's, as it is now)."""
    return plan.single_purpose_methods if plan is not None else {}


def _reconcile(
    uow: UnitOfWork, org: str, close: StoredDayClose, export: Export | None, vat_policy: str
) -> tuple[Difference, ...]:
    """The day's differences from its Z-report; when there are none, fix the VAT rounding the export books
    and mark the day close exported (the caller commits or, with differences, rolls back)."""
    dc = close.day_close
    if export is None or export.day is None:  # pragma: no cover - a reconciling claim always makes an export
        raise ValueError("a day close is reconciled against the day its export claimed")
    diffs = closing_differences(dc, close.control, vat_policy, export.day)
    if diffs:
        return diffs
    booked = uow.exports.booked_vat_adjustments(
        org, dc.store_id, dc.business_date, besides=export.export_id, register=dc.register_id
    )
    adjustment = vat_adjustment_to_book(vat_policy, close.control, export.day, booked)
    if adjustment:
        uow.exports.set_vat_adjustment(export, adjustment)
    uow.day_closes.supersede_earlier(org, close)
    uow.day_closes.set_status(org, close, DayCloseStatus.EXPORTED)
    return ()


def after_mismatch_of(
    deps: ExportDeps, job: Job, close: StoredDayClose, diffs: tuple[Difference, ...]
) -> timedelta | None:
    step = after_mismatch(close, job.age_seconds, deps.policy)
    if step is MismatchStep.WAIT:
        return deps.policy.reconcile_retry
    if step is MismatchStep.REPORT:
        with deps.uow() as uow:
            uow.day_closes.set_status(job.organization_id, close, DayCloseStatus.MISMATCH)
            uow.outbox.outcome(
                Outcome(
                    organization_id=job.organization_id,
                    trigger=job.trigger,
                    status=OutcomeStatus.FAILED,
                    store_id=job.store_id,
                    business_date=close.day_close.business_date,
                    reason_code=ReasonCode.RECONCILIATION_MISMATCH,
                    details=mismatch_details(diffs),
                )
            )
            uow.commit()
        log.warning(
            "export.reconciliation_mismatch",
            organization_id=job.organization_id,
            store_id=job.store_id,
            register_id=close.day_close.register_id,
            differences=[d.describe() for d in diffs],
        )
    return None

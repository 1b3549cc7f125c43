"""Export jobs: turn queued jobs into booked vouchers, exactly once in effect.

A job is claimed by a **lease** (owner, expiry) committed before it runs, and its result (done, or rescheduled)
is committed after: no transaction is open while the job's steps call BL, each step committing in its own unit of
work. The worker renews the lease before each export the job attempts. A lease whose process died is void at once
(its connections are gone), so another worker takes the job over; one that lapsed, too. Only a store's oldest job
is claimable, and not while leased, so a store's exports stay in order while stores run in parallel. What commits
when, step by step, is in docs/architecture.md.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from datetime import date, timedelta

import structlog

from mapping.plan import AccountPlan, VatPolicy
from mapping.reconcile import Difference
from mapping.totals_closing import closing_differences, vat_adjustment_to_book
from mapping.zsequence import z_sequence_findings
from service import documents
from service.attempts import attempt
from service.deps import ExportDeps
from service.lifecycle import (
    DayCloseStep,
    MismatchStep,
    Result,
    after_mismatch,
    day_close_step,
    export_trigger,
    mismatch_details,
)
from service.messages import Detail, Outcome, OutcomeStatus, Trigger
from service.model import ActiveIntegration, DayCloseStatus, Export, Job, StoredDayClose
from service.ports import StorageUnavailable, UnitOfWork
from service.reasons import ReasonCode

log = structlog.get_logger("dayclose.export")


def run_next_job(deps: ExportDeps) -> bool:
    """Lease and run one due job. Returns False when no job was due."""
    with deps.uow() as uow:
        job = uow.jobs.lease_next(deps.lease_owner(), deps.policy.job_lease)
        uow.commit()
    if job is None:
        return False
    bound = log.bind(
        organization_id=job.organization_id,
        store_id=job.store_id,
        job_id=job.id,
        trigger=str(job.trigger),
        business_date=str(job.business_date),
    )
    started = time.monotonic()
    try:
        delay = run_job(deps, job)
    except StorageUnavailable:
        # The database is gone: the lease stays. This worker takes its job back first when the database returns;
        # were this process to die meanwhile, its lease is void and another worker takes the job over.
        raise
    except Exception:  # noqa: BLE001 - see below
        # A bug or an unexpected answer: keep the job (nothing is skipped) but back off, so one
        # store cannot turn into a hot error loop.
        bound.exception("job.crashed")
        delay = deps.policy.backoff(job.attempts)
    with deps.uow() as uow:
        if delay is None:
            uow.jobs.finish(job)
        else:
            uow.jobs.reschedule(job, delay)
        uow.commit()
    bound.info(
        "job.done",
        rescheduled_in_s=delay.total_seconds() if delay else None,
        took_ms=round((time.monotonic() - started) * 1000, 1),
    )
    return True


def _attempt(
    deps: ExportDeps, job: Job, export: Export, integration: ActiveIntegration, plan: AccountPlan | None
) -> Result:
    """One export of the job, its lease renewed first (a manual export of many days never outlives it)."""
    with deps.uow() as uow:
        held = uow.jobs.renew(job, deps.lease_owner(), deps.policy.job_lease)
        uow.commit()
    if not held:  # lapsed and taken over: harmless (the export's own lease and its claim keep it to one booking)
        log.warning("job.lease_lost", job_id=job.id, organization_id=job.organization_id, store_id=job.store_id)
    return attempt(deps, export, integration, plan)


def run_job(deps: ExportDeps, job: Job) -> timedelta | None:
    """Returns None when the job is done, or the delay after which to run it again."""
    with deps.uow() as uow:
        found = uow.integrations.get(job.organization_id)
        plan = uow.integrations.plan(job.organization_id)
    integration = found.active() if found is not None else None
    if integration is None:
        log.info("job.skipped_inactive", organization_id=job.organization_id, store_id=job.store_id)
        return None
    if not _finish_open_work(deps, job, integration, plan):
        return deps.policy.backoff(job.attempts)
    if job.trigger == Trigger.MANUAL:
        return _export_unexported_days(deps, job, integration, plan)
    day = job.business_date
    if day is None:
        return None
    if day < integration.start_date:
        log.info("job.before_start_date", business_date=str(day), start_date=str(integration.start_date))
        return None
    return _export_day(deps, job, day, integration, plan)


def _finish_open_work(deps: ExportDeps, job: Job, integration: ActiveIntegration, plan: AccountPlan | None) -> bool:
    """The store's exports not yet booked, oldest first, then the day reports of vouchers already booked (a crash
    or BL outage after booking): before anything new. False when BL could not take them now."""
    with deps.uow() as uow:
        open_exports = uow.exports.open(job.organization_id, job.store_id)
    for export in open_exports:
        if _attempt(deps, job, export, integration, plan) is Result.TRANSIENT:
            return False
    return documents.attach_pending(deps, job.organization_id, job.store_id, integration.user_key.reveal())


def _export_unexported_days(
    deps: ExportDeps, job: Job, integration: ActiveIntegration, plan: AccountPlan | None
) -> timedelta | None:
    """A manual export: every unexported store-day since the start date, one voucher each."""
    with deps.uow() as uow:
        days = uow.exports.unexported_dates(job.organization_id, job.store_id, integration.start_date, deps.today())
    for day in days:
        with deps.uow() as uow:
            export = uow.exports.claim(
                job.organization_id,
                job.store_id,
                day,
                Trigger.MANUAL,
                None,
                include_day_close=False,
                single_purpose=_single_purpose(plan),
            )
            uow.commit()
        if export and _attempt(deps, job, export, integration, plan) is Result.TRANSIENT:
            return deps.policy.backoff(job.attempts)
    return None


def _export_day(
    deps: ExportDeps, job: Job, day: date, integration: ActiveIntegration, plan: AccountPlan | None
) -> timedelta | None:
    """Claim what the store-day holds that no export books yet; with an open day close, only if the whole
    day's totals add up to the Z-report's control totals. Claim, check and the day close's status change are
    one unit of work: a day that does not add up claims nothing."""
    org, store = job.organization_id, job.store_id
    _check_z_sequence(deps, job, day)
    vat_policy = plan.vat_policy if plan is not None else VatPolicy.EXACT.value
    diffs: tuple[Difference, ...] = ()
    with deps.uow() as uow:
        close = uow.day_closes.get(org, store, day, job.z_report_number)
        later = close is not None and close.status.awaits_export and uow.day_closes.later_exists(org, close)
        step = day_close_step(close, later)
        if close is not None and step is DayCloseStep.SUPERSEDE:
            uow.day_closes.set_status(org, close, DayCloseStatus.SUPERSEDED)
            uow.commit()
            return None
        reconciling = close if step is DayCloseStep.RECONCILE else None
        export = uow.exports.claim(
            org,
            store,
            day,
            export_trigger(job),
            reconciling.day_close.z_report_number if reconciling else None,
            include_day_close=reconciling is not None,
            single_purpose=_single_purpose(plan),
        )
        if reconciling is not None:
            diffs = _reconcile(uow, org, reconciling, export, vat_policy)
        if diffs:
            uow.rollback()  # nothing is claimed while the day does not add up
        else:
            uow.commit()
    if reconciling is not None and diffs:
        return _after_mismatch(deps, job, reconciling, diffs)
    if export is None:
        return None
    if _attempt(deps, job, export, integration, plan) is Result.TRANSIENT:
        return deps.policy.backoff(job.attempts)
    return None


def _single_purpose(plan: AccountPlan | None) -> Mapping[str, int]:
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
    booked = uow.exports.booked_vat_adjustments(org, dc.store_id, dc.business_date, besides=export.export_id)
    adjustment = vat_adjustment_to_book(vat_policy, close.control, export.day, booked)
    if adjustment:
        uow.exports.set_vat_adjustment(export, adjustment)
    uow.day_closes.supersede_earlier(org, close)
    uow.day_closes.set_status(org, close, DayCloseStatus.EXPORTED)
    return ()


def _after_mismatch(
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
            differences=[d.describe() for d in diffs],
        )
    return None


def _check_z_sequence(deps: ExportDeps, job: Job, day: date) -> None:
    """Once per day close: warn about a gap or a repeat in the store's Z-report numbers (never a blocker)."""
    org, store = job.organization_id, job.store_id
    with deps.uow() as uow:
        close = uow.day_closes.get(org, store, day, job.z_report_number)
        if close is None or not uow.day_closes.claim_sequence_check(org, close):
            return
        z = close.day_close.z_report_number
        for finding in z_sequence_findings(day, z, uow.day_closes.z_reports(org, store, day)):
            uow.outbox.outcome(
                Outcome(
                    organization_id=org,
                    trigger=Trigger.DAY_CLOSE,
                    status=OutcomeStatus.WARNING,
                    store_id=store,
                    business_date=day,
                    reason_code=finding.reason,
                    details=[Detail("z_report", str(z), finding.message)],
                )
            )
            log.warning(
                "export.z_report_sequence",
                organization_id=org,
                store_id=store,
                reason=finding.reason,
                detail=finding.message,
            )
        uow.commit()

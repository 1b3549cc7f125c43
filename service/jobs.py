"""Export jobs: turn queued jobs into booked vouchers, exactly once in effect.

A job is claimed by a **lease** (owner, expiry) committed before it runs, and its result (done, rescheduled, or parked
while late sales wait) is committed after: no transaction is open while the job's steps call BL, each step
committing in its own unit of work. The worker renews the lease before each export the job attempts once a tenth of
it has passed since it was taken or renewed (not before the first, a moment after the lease). A lease whose
process died is void at once (its connections are gone), so another worker takes the job over; one that lapsed, too.
Only a store's oldest job is claimable, and not while leased (parked jobs aside), so a store's exports stay in order
while stores run in parallel. What commits when, step by step, is in docs/architecture.md.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import structlog

from mapping.plan import AccountPlan
from service import documents
from service.attempts import attempt
from service.day_checks import check_cash_chain, check_z_sequence
from service.day_claims import after_mismatch_of, claim_day, single_purpose
from service.deps import ExportDeps
from service.exporter import Fence, LeaseLost
from service.late_sales import DayCloseStep, day_close_step, grace_over_at
from service.lifecycle import Result
from service.messages import Trigger
from service.model import ActiveIntegration, DayCloseStatus, Export, Job
from service.ports import StorageUnavailable

log = structlog.get_logger("dayclose.export")


#: A job's lease is renewed before an export once a tenth of it has passed since it was taken or last renewed.
RENEW_AFTER = 10


@dataclass(frozen=True)
class Park:
    """Run the job again at ``until``, without holding up the store's other jobs (late sales waiting)."""

    until: datetime


@dataclass
class Held:
    """When this worker last leased or renewed its job (``time.monotonic()``; None: unknown)."""

    at: float | None

    def due(self, lease: timedelta) -> bool:
        """Whether the lease should run ``lease`` from now again before an export: unless it did a moment ago (a tenth
        of the lease, a minute of the default ten), so every export starts with at least nine tenths of it left."""
        return self.at is None or time.monotonic() - self.at >= lease.total_seconds() / RENEW_AFTER

    def renewed(self) -> None:
        self.at = time.monotonic()


def run_next_job(deps: ExportDeps) -> bool:
    """Lease and run one due job. Returns False when no job was due."""
    with deps.uow() as uow:
        job = uow.jobs.lease_next(deps.lease_owner(), deps.policy.job_lease)
        uow.commit()
    if job is None:
        return False
    held = Held(at=time.monotonic())
    bound = log.bind(
        organization_id=job.organization_id,
        store_id=job.store_id,
        job_id=job.id,
        trigger=str(job.trigger),
        business_date=str(job.business_date),
        register_id=job.register_id,
    )
    started = time.monotonic()
    try:
        next_run = run_job(deps, job, held)
    except LeaseLost as lost:
        # Another worker took the job over (this process's connections were gone a while, or its lease lapsed): nothing
        # more was sent, and the job is the other worker's now, so nothing of it is written here either.
        bound.warning("job.lease_lost", step=str(lost))
        return True
    except StorageUnavailable:
        # The database is gone: the lease stays. This worker takes its job back first when the database returns;
        # were this process to die meanwhile, its lease is void and another worker takes the job over.
        raise
    except Exception:  # noqa: BLE001 - see below
        # A bug or an unexpected answer: keep the job (nothing is skipped) but back off, so one
        # store cannot turn into a hot error loop.
        bound.exception("job.crashed")
        next_run = deps.policy.backoff(job.attempts)
    owner = deps.lease_owner()
    with deps.uow() as uow:
        if next_run is None:
            ended = uow.jobs.finish(job, owner)
        elif isinstance(next_run, Park):
            ended = uow.jobs.park(job, until=next_run.until, owner=owner)
        else:
            ended = uow.jobs.reschedule(job, next_run, owner)
        uow.commit()
    if not ended:  # taken over meanwhile: its new holder decides what becomes of it
        bound.warning("job.lease_lost", step="at the end")
    bound.info(
        "job.done",
        rescheduled_in_s=next_run.total_seconds() if isinstance(next_run, timedelta) else None,
        parked_until=next_run.until.isoformat() if isinstance(next_run, Park) else None,
        took_ms=round((time.monotonic() - started) * 1000, 1),
    )
    return True


def _attempt(
    deps: ExportDeps,
    job: Job,
    held: Held,
    export: Export,
    integration: ActiveIntegration,
    plan: AccountPlan | None,
) -> Result:
    """One export of the job, its lease renewed first unless it was leased or renewed a moment ago (a manual export of
    many days never outlives it; the midnight's job, leased just before its one export, saves a commit)."""
    if held.due(deps.policy.job_lease):
        with deps.uow() as uow:
            renewed = uow.jobs.renew(job, deps.lease_owner(), deps.policy.job_lease)
            uow.commit()
        held.renewed()
        if not renewed:  # lapsed and taken over: its new holder runs it, nothing more is attempted here
            raise LeaseLost("before an export")
    return attempt(deps, export, integration, plan, fence=fence(deps, job, held))


def fence(deps: ExportDeps, job: Job, held: Held) -> Fence:
    """Right before each write to BL (after the rate limits' wait): the job's lease is renewed, or
    :class:`LeaseLost` raised when another worker holds it. A process whose every connection was gone a while (a
    database restart) has its leases voided and taken over; without this, its retries could post a voucher the new
    holder posts too. With it, the taken-over worker sends nothing more, and the new holder's look-up waits the quiet
    period for anything sent just before (:mod:`service.attempts`). A database that cannot be reached raises its
    own error here: nothing is sent either."""

    def check() -> None:
        with deps.uow() as uow:
            still = uow.jobs.renew(job, deps.lease_owner(), deps.policy.job_lease)
            uow.commit()
        if not still:
            raise LeaseLost("before a write to BL")
        held.renewed()

    return check


def run_job(deps: ExportDeps, job: Job, held: Held | None = None) -> timedelta | Park | None:
    """Returns None when the job is done, the delay after which to run it again, or when to run it again parked.
    ``held``: when this worker leased the job (unknown: the lease is renewed before the job's first export)."""
    held = held if held is not None else Held(at=None)
    with deps.uow() as uow:  # what the job starts from, read in one unit of work
        found = uow.integrations.get(job.organization_id)
        plan = uow.integrations.plan(job.organization_id)
        integration = found.active() if found is not None else None
        open_exports: list[Export] = []
        pending: list[uuid.UUID] = []
        if integration is not None:
            open_exports = uow.exports.open(job.organization_id, job.store_id)
            pending = uow.documents.pending(job.organization_id, job.store_id)
    if integration is None:
        log.info("job.skipped_inactive", organization_id=job.organization_id, store_id=job.store_id)
        return None
    if not _finish_open_work(deps, job, held, integration, plan, open_exports, pending):
        return deps.policy.backoff(job.attempts)
    if job.trigger == Trigger.MANUAL:
        return _export_unexported_days(deps, job, held, integration, plan)
    day = job.business_date
    if day is None:
        return None
    if day < integration.start_date:
        log.info("job.before_start_date", business_date=str(day), start_date=str(integration.start_date))
        return None
    return _export_day(deps, job, held, day, integration, plan)


def _finish_open_work(
    deps: ExportDeps,
    job: Job,
    held: Held,
    integration: ActiveIntegration,
    plan: AccountPlan | None,
    open_exports: list[Export],
    pending: list[uuid.UUID],
) -> bool:
    """The store's exports not yet booked, oldest first, then the day reports of vouchers already booked (a crash
    or BL outage after booking): before anything new. False when BL could not take them now. ``pending`` was read
    with ``open_exports``; the open exports' attempts may leave more, so then it is read again."""
    for export in open_exports:
        if _attempt(deps, job, held, export, integration, plan) is Result.TRANSIENT:
            return False
    user_key = integration.user_key.reveal()
    check = fence(deps, job, held)
    if open_exports:
        return documents.attach_pending(deps, job.organization_id, job.store_id, user_key, check)
    return all(documents.attach(deps, export_id, user_key, check) for export_id in pending)


def _export_unexported_days(
    deps: ExportDeps, job: Job, held: Held, integration: ActiveIntegration, plan: AccountPlan | None
) -> timedelta | None:
    """A manual export: every unexported register-day since the start date, one voucher each (a complement of the
    register-day's booked Z-report when it has one: the merchant asked for it now)."""
    org, store = job.organization_id, job.store_id
    with deps.uow() as uow:
        days = uow.exports.unexported_dates(org, store, integration.start_date, deps.today())
    for day, register in days:
        with deps.uow() as uow:
            latest = uow.day_closes.get(org, store, day, register=register)
            export = uow.exports.claim(
                org,
                store,
                day,
                Trigger.MANUAL,
                None,
                include_day_close=False,
                single_purpose=single_purpose(plan),
                register=register,
                complements_z=latest.day_close.z_report_number if latest is not None else None,
            )
            uow.commit()
        if export and _attempt(deps, job, held, export, integration, plan) is Result.TRANSIENT:
            return deps.policy.backoff(job.attempts)
    return _attempt_invoices(deps, job, held, integration, plan) if days else None


def _export_day(
    deps: ExportDeps, job: Job, held: Held, day: date, integration: ActiveIntegration, plan: AccountPlan | None
) -> timedelta | Park | None:
    """Claim what the register-day holds that no export books yet; with a day close waiting, only if the whole
    day's totals add up to the Z-report's control totals. Claim, check and the day close's status change are one
    unit of work: a day that does not add up claims nothing. What a job of a day whose Z-reports are booked does
    with late sales is :func:`service.late_sales.day_close_step`'s."""
    org, store, register = job.organization_id, job.store_id, job.register_id or ""
    grace_over = grace_over_at(day, deps.policy.late_sales_grace)
    with deps.uow() as uow:
        close = uow.day_closes.get(org, store, day, job.z_report_number, register=register)
        latest = uow.day_closes.get(org, store, day, register=register) if close is not None else None
        unexported = uow.exports.has_unexported(org, store, day, register=register)
        if close is not None:
            check_z_sequence(uow, org, close)
            uow.commit()
    step = day_close_step(close, latest, unexported=unexported, now=deps.now(), grace_over=grace_over)
    if step is DayCloseStep.LEAVE:
        return None
    if step is DayCloseStep.WAIT:
        log.info("export.late_sales_wait", organization_id=org, store_id=store, register_id=register,
                 business_date=str(day), until=grace_over.isoformat())  # fmt: skip
        return Park(grace_over)
    if close is not None and step is DayCloseStep.SUPERSEDE:
        with deps.uow() as uow:
            uow.day_closes.set_status(org, close, DayCloseStatus.SUPERSEDED)
            uow.commit()
        return None
    reconciling = close if step is DayCloseStep.RECONCILE else None
    export, diffs, invoices = claim_day(deps, job, day, reconciling, latest or close, plan)
    if reconciling is not None and diffs:
        return after_mismatch_of(deps, job, reconciling, diffs)
    if reconciling is not None:
        check_cash_chain(deps, org, reconciling)
    if export is not None and _attempt(deps, job, held, export, integration, plan) is Result.TRANSIENT:
        return deps.policy.backoff(job.attempts)
    return _attempt_invoices(deps, job, held, integration, plan, invoices)


def _attempt_invoices(
    deps: ExportDeps,
    job: Job,
    held: Held,
    integration: ActiveIntegration,
    plan: AccountPlan | None,
    fresh: list[Export] | None = None,
) -> timedelta | None:
    """The invoice sales a claim made exports of their own (storage/invoices.py), not attempted yet (``fresh``: as
    read when the claim committed; the store's older ones were attempted with its open work before)."""
    if fresh is None:
        with deps.uow() as uow:
            fresh = uow.exports.fresh_invoices(job.organization_id, job.store_id)
    for export in fresh:
        if _attempt(deps, job, held, export, integration, plan) is Result.TRANSIENT:
            return deps.policy.backoff(job.attempts)
    return None

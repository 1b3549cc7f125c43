"""Export workers: turn queued jobs into booked vouchers, exactly once in effect.

For each export the order of durable steps is what makes retries safe:

1. claim the store-day's unexported sales under a new export id (committed before BL hears of it);
2. build the voucher through the current account plan (pure, :mod:`mapping`);
3. ask the exporter to book it — it first looks the export's reference up in BL, so an export
   that crashed after posting is found, not posted again;
4. record the result and its outcome event in one transaction (outbox).

A job is a row locked for as long as it runs (``FOR UPDATE SKIP LOCKED``); a crash rolls the lock
back and another worker takes the job over. Only a store's oldest job is claimable, so a store's
exports stay in order while stores run in parallel.
"""

from __future__ import annotations

import enum
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
import structlog
from psycopg_pool import ConnectionPool

from consumer.corrections import CorrectionDating
from consumer.documents import DocumentStep
from consumer.events import EventWriter
from consumer.messages import SalesItem
from consumer.outcomes import Detail, Outcome
from dayclose import metrics
from dayclose.config import Settings
from dayclose.db import audit, closes
from dayclose.db import exports as db
from dayclose.db.corrections import CORRECTION, complete_correction
from dayclose.db.integrations import Integration, get_integration, get_plan
from dayclose.db.sales import DAY_CLOSE, MANUAL
from dayclose.keys import KeyVault
from exporters.base import (
    Exporter,
    ExporterBug,
    ExportError,
    MerchantActionRequired,
    OperatorError,
    TransientExportError,
)
from mapping.aggregate import build_voucher
from mapping.closing import closing_differences, vat_adjustment_to_book
from mapping.errors import MappingError, NothingToBookError, UnmappedItemsError
from mapping.periods import NoOpenPeriodError
from mapping.plan import AccountPlan, VatPolicy
from mapping.reconcile import Difference
from mapping.sales import CashMovement, GiftCardExpiry, Receipt, SalesBatch
from mapping.vatpolicy import adjustment_rows
from mapping.voucher import Voucher
from mapping.zsequence import z_sequence_findings

log = structlog.get_logger("dayclose.export")
STOCKHOLM = ZoneInfo("Europe/Stockholm")


class Result(enum.Enum):
    BOOKED = "booked"
    FAILED = "failed"  # definitive for now: kept, retried on the next trigger or settings change
    TRANSIENT = "transient"  # BL or our config: retry this store later, never skip


@dataclass(frozen=True)
class ExportPolicy:
    #: How long a day close waits for late events before reporting RECONCILIATION_MISMATCH.
    reconcile_wait: timedelta = timedelta(minutes=10)
    reconcile_retry: timedelta = timedelta(seconds=5)
    transient_backoff_initial: timedelta = timedelta(seconds=5)
    transient_backoff_max: timedelta = timedelta(minutes=15)
    #: How long one worker owns an export it is posting (longer than BL's worst case with retries).
    lease: timedelta = timedelta(minutes=10)

    @classmethod
    def from_settings(cls, settings: Settings) -> ExportPolicy:
        return cls(
            reconcile_wait=timedelta(seconds=settings.reconcile_wait_s),
            reconcile_retry=timedelta(seconds=min(5.0, settings.reconcile_wait_s / 10)),
            transient_backoff_initial=timedelta(seconds=settings.retry_backoff_s),
            transient_backoff_max=timedelta(seconds=settings.retry_backoff_max_s),
        )


class ExportWorker:
    def __init__(
        self,
        pool: ConnectionPool[Any],
        exporter: Exporter,
        vault: KeyVault,
        events: EventWriter,
        policy: ExportPolicy = ExportPolicy(),
        today: Callable[[], date] = lambda: datetime.now(STOCKHOLM).date(),
        instance: str = "",
    ) -> None:
        self.instance = instance or uuid.uuid4().hex[:16]
        self.pool = pool
        self.exporter = exporter
        self.vault = vault
        self.events = events
        self.policy = policy
        self.today = today
        self.documents = DocumentStep(pool, exporter, events)
        self.corrections = CorrectionDating(pool, exporter)

    # --- job level -------------------------------------------------------------------------------

    def run_once(self) -> bool:
        """Claim and run one due job. Returns False when no job was due."""
        with self.pool.connection() as jconn, jconn.transaction():
            job = db.claim_next_job(jconn)
            if job is None:
                return False
            db.lock_store(jconn, job.organization_id, job.store_id)
            bound = log.bind(organization_id=job.organization_id, store_id=job.store_id, job_id=job.id,
                             trigger=job.trigger, business_date=str(job.business_date))
            started = time.monotonic()
            try:
                delay = self._run_job(job)
            except psycopg.OperationalError:
                raise  # the database is gone: the claim rolls back and the pool's loop waits
            except Exception:  # noqa: BLE001 - see below
                # A bug or an unexpected answer: keep the job (nothing is skipped) but back off, so one
                # store cannot turn into a hot error loop.
                bound.exception("job.crashed")
                delay = self._backoff(job)
            if delay is None:
                db.finish_job(jconn, job)
            else:
                db.reschedule_job(jconn, job, delay)
            bound.info("job.done", rescheduled_in_s=delay.total_seconds() if delay else None,
                       took_ms=round((time.monotonic() - started) * 1000, 1))
        return True

    def _run_job(self, job: db.Job) -> timedelta | None:  # noqa: PLR0911 - one exit per outcome
        """Returns None when the job is done, or the delay after which to run it again."""
        with self.pool.connection() as conn:
            integration = get_integration(conn, job.organization_id, self.vault)
            plan = get_plan(conn, job.organization_id)
        if integration is None or not integration.is_active:
            log.info("job.skipped_inactive", organization_id=job.organization_id, store_id=job.store_id)
            return None
        assert integration.start_date is not None
        for export in self._open_exports(job):
            if self._attempt(export, integration, plan) is Result.TRANSIENT:
                return self._backoff(job)
        # Day reports of vouchers already booked (a crash or BL outage after booking) come next.
        if not self.documents.attach_pending(job.organization_id, job.store_id, integration.user_key.reveal()):
            return self._backoff(job)
        day = job.business_date
        if job.trigger == MANUAL or day is None:
            days = self._unexported_days(job, integration.start_date) if job.trigger == MANUAL else []
            for d in days:
                with self.pool.connection() as conn, conn.transaction():
                    export = db.create_export(conn, job.organization_id, job.store_id, d, MANUAL, None,
                                              include_day_close=False)
                if export and self._attempt(export, integration, plan, list(export.items or ())) is Result.TRANSIENT:
                    return self._backoff(job)
            return None
        if day < integration.start_date:
            log.info("job.before_start_date", business_date=str(day), start_date=str(integration.start_date))
            return None
        return self._export_day(job, day, integration, plan)

    def _export_day(
        self, job: db.Job, day: date, integration: Integration, plan: AccountPlan | None
    ) -> timedelta | None:
        """Claim the store-day's unexported sales for a new export; with an open day close, only if the
        day's receipts (claimed now or by earlier exports) add up to the Z-report's control totals.
        Claim, check and the day close's status change are one transaction: a day that does not add up
        claims nothing, and the claimed rows come back from the claim itself (read once)."""
        org, store = job.organization_id, job.store_id
        diffs: tuple[Difference, ...] = ()
        policy = plan.vat_policy if plan is not None else VatPolicy.EXACT.value
        with self.pool.connection() as conn:
            self._check_z_sequence(conn, job, day)
            with conn.transaction():
                close = db.get_day_close(conn, org, store, day, job.z_report_number)
                if close is not None and close.status in ("open", "mismatch") \
                        and db.later_day_close_exists(conn, org, close):
                    # The day was reopened and closed again: the later Z-report's job books the day.
                    db.set_day_close_status(conn, close, org, "superseded")
                    return None
                reconcile = close is not None and close.status in ("open", "mismatch")
                # Only reversals are CORRECTION exports; the day booked anew after one is a day-close export.
                trigger = DAY_CLOSE if job.trigger == CORRECTION else job.trigger
                export = db.create_export(conn, org, store, day, trigger,
                                          close.day_close.z_report_number if close and reconcile else None,
                                          include_day_close=reconcile)
                if close is not None and reconcile:
                    besides = export.export_id if export else None
                    day_items = [*(export.items or () if export else ()),
                                 *closes.exported_day_items(conn, org, store, day, besides=besides)]
                    diffs = closing_differences(close.day_close, close.control, policy, day_items)
                    if diffs:
                        raise psycopg.Rollback()  # nothing is claimed while the day does not add up
                    if export is not None:
                        booked = closes.booked_vat_adjustments(conn, org, store, day, besides=besides)
                        adjustment = vat_adjustment_to_book(policy, close.control, day_items, booked)
                        if adjustment:
                            closes.set_vat_adjustment(conn, export, adjustment)
                    db.supersede_earlier_day_closes(conn, org, close)
                    db.set_day_close_status(conn, close, org, "exported")
        if diffs:
            assert close is not None
            if job.age_seconds < self.policy.reconcile_wait.total_seconds():
                return self.policy.reconcile_retry
            if close.status != "mismatch":
                self._report_mismatch(job, close, diffs)
            return None
        if export is None:
            return None
        if self._attempt(export, integration, plan, list(export.items or ())) is Result.TRANSIENT:
            return self._backoff(job)
        return None

    def _check_z_sequence(self, conn: psycopg.Connection[Any], job: db.Job, day: date) -> None:
        """Once per day close: warn about a gap or a repeat in the store's Z-report numbers (never a blocker)."""
        org, store = job.organization_id, job.store_id
        with conn.transaction():
            close = db.get_day_close(conn, org, store, day, job.z_report_number)
            if close is None or not closes.claim_sequence_check(conn, org, close):
                return
            z = close.day_close.z_report_number
            for finding in z_sequence_findings(day, z, closes.store_z_reports(conn, org, store, day)):
                self.events.outcome(conn, Outcome(
                    organization_id=org, trigger=DAY_CLOSE, status="WARNING", store_id=store, business_date=day,
                    reason_code=finding.reason, details=[Detail("z_report", str(z), finding.message)],
                ))
                log.warning("export.z_report_sequence", organization_id=org, store_id=store, reason=finding.reason,
                            detail=finding.message)

    def _report_mismatch(self, job: db.Job, close: db.StoredDayClose, diffs: Any) -> None:
        with self.pool.connection() as conn, conn.transaction():
            db.set_day_close_status(conn, close, job.organization_id, "mismatch")
            self.events.outcome(conn, Outcome(
                organization_id=job.organization_id, trigger=job.trigger, status="FAILED",
                store_id=job.store_id, business_date=close.day_close.business_date,
                reason_code="RECONCILIATION_MISMATCH",
                details=[Detail("control_total", d.what, d.describe()) for d in diffs],
            ))
        log.warning("export.reconciliation_mismatch", organization_id=job.organization_id,
                    store_id=job.store_id, differences=[d.describe() for d in diffs])

    def _backoff(self, job: db.Job) -> timedelta:
        delay = self.policy.transient_backoff_initial * (2 ** min(job.attempts, 10))
        return min(delay, self.policy.transient_backoff_max)

    def _open_exports(self, job: db.Job) -> list[db.Export]:
        with self.pool.connection() as conn:
            return db.open_exports(conn, job.organization_id, job.store_id)

    def _unexported_days(self, job: db.Job, start: date) -> list[date]:
        with self.pool.connection() as conn:
            return db.unexported_dates(conn, job.organization_id, job.store_id, start, self.today())

    # --- export level ----------------------------------------------------------------------------

    def _lease_owner(self) -> str:
        return f"{self.instance}:{threading.current_thread().name}"

    def _attempt(self, export: db.Export, integration: Integration, plan: AccountPlan | None,  # noqa: PLR0911, PLR0915
                 items: list[SalesItem] | None = None) -> Result:
        bound = log.bind(organization_id=export.organization_id, store_id=export.store_id,
                         business_date=str(export.business_date), export_id=str(export.export_id),
                         reference=export.reference, attempt=export.attempts + 1)
        trigger = "RETRY" if export.attempts > 0 and export.trigger != CORRECTION else export.trigger
        try:
            voucher, receipt_count = self._voucher(export, plan, items)
        except NothingToBookError:
            with self.pool.connection() as conn, conn.transaction():
                db.release_empty_export(conn, export)
            bound.info("export.nothing_to_book")
            metrics.export_finished("nothing_to_book")
            return Result.BOOKED
        except MappingError as exc:
            details = _mapping_details(exc)
            self._fail(export, trigger, "failed", exc.reason, details)
            bound.warning("export.failed", reason_code=exc.reason, error=str(exc))
            metrics.export_finished("failed", exc.reason)
            return Result.FAILED
        assert integration.user_key is not None
        try:  # a correction is dated by BL's period rules before anything is stored or posted
            voucher = self.corrections.prepare(export, voucher, integration.user_key.reveal())
        except (NoOpenPeriodError, ExportError) as exc:
            return self._unprepared(export, trigger, exc)
        with self.pool.connection() as conn:
            leased = db.take_lease(conn, export, self._lease_owner(), self.policy.lease,
                                   db.voucher_to_json(voucher, receipt_count))
        if not leased:
            bound.warning("export.leased_elsewhere")  # another worker is posting it: try again later
            return Result.TRANSIENT
        started = time.monotonic()
        try:
            booked = self.exporter.export(voucher, integration.user_key.reveal())
        except MerchantActionRequired as exc:
            self._fail(export, trigger, "failed", str(exc.reason_code), _export_details(exc))
            bound.warning("export.failed", reason_code=str(exc.reason_code), error=exc.message)
            metrics.export_finished("failed", str(exc.reason_code))
            return Result.FAILED
        except ExporterBug as exc:
            self._fail(export, trigger, "failed", str(exc.reason_code), _export_details(exc))
            bound.error("export.rejected_as_our_bug", reason_code=str(exc.reason_code), error=exc.message)
            metrics.export_finished("failed", str(exc.reason_code))
            return Result.FAILED
        except (TransientExportError, OperatorError) as exc:
            # The voucher may or may not be in BL: stay 'posting'; the next attempt looks it up first.
            first = export.attempts == 0 or export.reason_code != str(exc.reason_code)
            self._fail(export, trigger, "posting", str(exc.reason_code), _export_details(exc), emit=first)
            level = bound.error if isinstance(exc, OperatorError) else bound.warning
            level("export.transient_failure", reason_code=str(exc.reason_code), error=exc.message)
            metrics.export_finished("transient", str(exc.reason_code))
            return Result.TRANSIENT
        record = {
            "series": booked.series, "number": booked.number, "entry_date": booked.entry_date,
            "total_debit_ore": voucher.total_debit_ore, "receipt_count": receipt_count,
            "already_existed": booked.already_existed,
        }
        names, years = self.documents.booking_facts(integration.user_key.reveal(), voucher)
        with self.pool.connection() as conn, conn.transaction():
            db.mark_booked(conn, export, series=booked.series, number=booked.number,
                           voucher=db.voucher_to_json(voucher, receipt_count),
                           total_debit_ore=voucher.total_debit_ore)
            audit.record_booked(conn, export, booked, voucher, receipt_count, names, years)
            if export.trigger == CORRECTION:
                complete_correction(conn, export)
            self.events.outcome(conn, Outcome(
                organization_id=export.organization_id, trigger=trigger, status="SUCCEEDED",
                store_id=export.store_id, business_date=export.business_date,
                export_id=str(export.export_id), voucher=record,
            ))
        bound.info("export.booked", series=booked.series, number=booked.number,
                   already_existed=booked.already_existed, total_debit_ore=voucher.total_debit_ore,
                   bl_ms=round((time.monotonic() - started) * 1000, 1))
        metrics.export_finished("found_existing" if booked.already_existed else "booked")
        if not self.documents.attach(export.export_id, integration.user_key.reveal()):
            return Result.TRANSIENT  # booked; its day report stays pending and is attached on the retry
        return Result.BOOKED

    def _unprepared(self, export: db.Export, trigger: str, exc: NoOpenPeriodError | ExportError) -> Result:
        """A correction that cannot be dated now: no open period (merchant) or BL not answering."""
        if isinstance(exc, (TransientExportError, OperatorError)):
            log.warning("export.correction_dating_deferred", export_id=str(export.export_id), error=str(exc))
            return Result.TRANSIENT
        code = exc.reason if isinstance(exc, NoOpenPeriodError) else str(exc.reason_code)
        self._fail(export, trigger, "failed", code, [Detail("correction", "entry_date", str(exc))])
        metrics.export_finished("failed", code)
        return Result.FAILED

    def _voucher(self, export: db.Export, plan: AccountPlan | None,
                 preloaded: list[SalesItem] | None = None) -> tuple[Voucher, int]:
        if export.trigger == CORRECTION:  # a reversal: the exact negation of what was booked, stored
            with self.pool.connection() as conn:
                return db.stored_voucher(conn, export), 0
        if preloaded is None:  # an export from an earlier attempt (a fresh one comes with its claimed rows)
            with self.pool.connection() as conn:
                stored = db.posting_voucher(conn, export)
            if stored is not None:  # it may be in BL already: post (after the look-up) exactly this one
                return db.voucher_from_json(stored), int(stored.get("receipt_count") or 0)
        with self.pool.connection() as conn:
            items = preloaded if preloaded is not None else db.export_items(conn, export)
            close = db.export_day_close(conn, export)
            name = close.store_name if close else db.store_name(conn, export.organization_id, export.store_id)
            # Z-reports are cumulative for the day: book only the cash difference not booked by an earlier one.
            already = db.booked_cash_difference(conn, export.organization_id, close) if close else 0
        if close is not None and already:
            close = replace(close, day_close=replace(
                close.day_close, counted_cash_ore=close.day_close.counted_cash_ore - already))
        receipts = tuple(i for i in items if isinstance(i, Receipt))
        if plan is None:
            plan = AccountPlan(organization_id=export.organization_id, series="A")
        adjustment = self._vat_adjustment_rows(export, plan) if close is not None else ()
        batch = SalesBatch(
            store_id=export.store_id,
            business_date=export.business_date,
            receipts=receipts,
            cash_movements=tuple(i for i in items if isinstance(i, CashMovement)),
            gift_card_expiries=tuple(i for i in items if isinstance(i, GiftCardExpiry)),
            day_close=close.day_close if close else None,
        )
        voucher = build_voucher(batch, plan, store_name=name, reference=export.reference, vat_adjustment=adjustment)
        return voucher, len(receipts)

    def _vat_adjustment_rows(self, export: db.Export, plan: AccountPlan) -> tuple[tuple[str, int], ...]:
        """The Z_REPORT VAT rounding fixed when this day-close export claimed its sales, as rows split over
        the whole day's sales accounts of each rate."""
        with self.pool.connection() as conn:
            by_rate = closes.vat_adjustment(conn, export)
            if not by_rate:
                return ()
            day = closes.exported_day_items(conn, export.organization_id, export.store_id, export.business_date,
                                            besides=None)
        return adjustment_rows(by_rate, [i for i in day if isinstance(i, Receipt)], plan)

    def _fail(self, export: db.Export, trigger: str, status: str, reason_code: str, details: list[Detail],
              *, emit: bool = True) -> None:
        with self.pool.connection() as conn, conn.transaction():
            db.mark_failed(conn, export, status=status, reason_code=reason_code,
                           details=[d.__dict__ for d in details])
            if emit:
                self.events.outcome(conn, Outcome(
                    organization_id=export.organization_id, trigger=trigger, status="FAILED",
                    store_id=export.store_id, business_date=export.business_date,
                    export_id=str(export.export_id), reason_code=reason_code, details=details,
                ))


def _mapping_details(exc: MappingError) -> list[Detail]:
    if isinstance(exc, UnmappedItemsError):
        return [Detail(item.kind, item.code, item.describe()) for item in exc.missing]
    problems = getattr(exc, "problems", None)
    if problems:
        return [Detail("plan", p.field, p.message) if hasattr(p, "field") else Detail("data", "", str(p))
                for p in problems]
    receipts = getattr(exc, "receipts", None)
    if receipts:
        return [Detail("receipt", r.receipt_id, f"residual {r.residual_ore} öre") for r in receipts]
    return [Detail("error", exc.reason, str(exc))]


def _export_details(exc: Any) -> list[Detail]:
    return [Detail(str(k), str(v)) for k, v in sorted(exc.details.items())] if exc.details else []


class WorkerPool:
    """N worker threads running jobs; woken when new jobs are queued, else polling once a second."""

    def __init__(self, worker: ExportWorker, threads: int) -> None:
        self.worker = worker
        self.threads = threads
        self._wake = threading.Condition()
        self._stop = threading.Event()
        self._running: list[threading.Thread] = []
        self.last_beat = time.monotonic()

    def wake(self) -> None:
        with self._wake:
            self._wake.notify_all()

    def start(self) -> None:
        for i in range(self.threads):
            t = threading.Thread(target=self._loop, name=f"export-worker-{i}", daemon=True)
            t.start()
            self._running.append(t)

    def stop(self, timeout: float = 30.0) -> bool:
        """Stop taking jobs; wait up to ``timeout`` for the exports in hand. True if every worker ended."""
        self._stop.set()
        self.wake()
        deadline = time.monotonic() + timeout
        for t in self._running:
            t.join(max(0.0, deadline - time.monotonic()))
        return not any(t.is_alive() for t in self._running)

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.last_beat = time.monotonic()
            try:
                did_work = self.worker.run_once()
            except Exception:  # noqa: BLE001 - a worker must survive a lost DB connection and try again
                log.exception("worker.error")
                self._stop.wait(1.0)
                continue
            if not did_work:
                with self._wake:
                    self._wake.wait(timeout=0.5)


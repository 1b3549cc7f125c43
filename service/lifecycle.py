"""The export lifecycle's decisions, pure: what happens to a job, a day close and an export attempt.

The handlers (:mod:`service.jobs`, :mod:`service.attempts`) ask these functions what to do and then do it in
units of work; nothing here touches storage, BL or a clock. The table, by what an attempt ran into:

============================================  ==========  ======================  =========  =============
attempt ran into                              export      outcome event           job        operators
============================================  ==========  ======================  =========  =============
booked (or found booked by its reference)     booked      SUCCEEDED               done       —
nothing to book (the sales net to zero)       booked      none                    done       —
MappingError (unmapped item, invalid plan…)   failed      FAILED, every attempt   done       warning log
MerchantActionRequired (closed year, key…)    failed      FAILED, every attempt   done       warning log
ExporterBug (BL refused what we built)        failed      FAILED, every attempt   done       error log
TransientExportError (BL down, 429, 5xx)      posting     FAILED, first time only  backoff   warning log
OperatorError (our client credentials)        posting     FAILED, first time only  backoff   error log
a correction's date: no open period           failed      FAILED                  done       warning log
a correction's date: BL not answering         unchanged   none                    backoff    warning log
============================================  ==========  ======================  =========  =============

"First time only": a transient failure is reported when it first happens to an export or its reason
changes, not on every retry. ``failed`` exports are retried at the start of the store's next job (and
after a plan fix, a retry request or reactivation); ``posting`` ones are retried after the backoff, and
every retry looks the voucher up in BL before posting, so nothing is booked twice.

A day close claims its register-day's sales only when they add up to its Z-report; until then the job waits
(:meth:`ExportPolicy.reconcile_wait`), then reports RECONCILIATION_MISMATCH once and stops: late sales
queue a new job that checks again. A day closed twice is booked by its latest Z-report (the earlier one is
superseded); sales that come after a day's Z-reports are booked wait for the next one or the grace period
(:mod:`service.late_sales`, its decision table). Every outcome text comes from :mod:`service.reasons`; the
table's ``next`` agrees with this one (``tests/unit/service/test_lifecycle.py``).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import timedelta

from mapping.errors import MappingError, UnmappedItemsError
from mapping.periods import NoOpenPeriodError
from mapping.reconcile import Difference
from service.exporter import ExporterBug, ExportError, OperatorError, TransientExportError
from service.messages import Detail, Trigger
from service.model import DayCloseStatus, Export, ExportStatus, Job, StoredDayClose


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
    #: How long after the end of its business day sales of a closed register-day wait for its next Z-report before
    #: they are booked without one (service/late_sales.py): a reopened day is closed again within the night, an
    #: offline till is back by the next morning.
    late_sales_grace: timedelta = timedelta(hours=12)
    #: How long one worker owns a job without renewing it; it renews before each export the job attempts, so this
    #: bounds one export's attempt (BL's worst case with retries), not a manual export of many days.
    job_lease: timedelta = timedelta(minutes=10)

    def backoff(self, attempts: int) -> timedelta:
        """Exponential in the job's attempts, capped."""
        return min(self.transient_backoff_initial * (1 << min(attempts, 10)), self.transient_backoff_max)


def export_trigger(job: Job) -> Trigger:
    """Only reversals are CORRECTION exports; the day booked anew after one is a day-close export."""
    return Trigger.DAY_CLOSE if job.trigger == Trigger.CORRECTION else job.trigger


def outcome_trigger(export: Export) -> Trigger:
    """Any later attempt is reported as a RETRY, except a correction's reversal, which stays CORRECTION."""
    return Trigger.RETRY if export.attempts > 0 and export.trigger != Trigger.CORRECTION else export.trigger


class MismatchStep(enum.Enum):
    WAIT = "wait"  # late sales may still come: run the job again shortly
    REPORT = "report"  # report RECONCILIATION_MISMATCH (once) and stop
    STOP = "stop"  # reported before: stop quietly


def after_mismatch(close: StoredDayClose, job_age_s: float, policy: ExportPolicy) -> MismatchStep:
    if job_age_s < policy.reconcile_wait.total_seconds():
        return MismatchStep.WAIT
    return MismatchStep.STOP if close.status == DayCloseStatus.MISMATCH else MismatchStep.REPORT


def mismatch_details(diffs: tuple[Difference, ...]) -> list[Detail]:
    return [Detail("control_total", d.what, d.describe()) for d in diffs]


@dataclass(frozen=True)
class Failure:
    """What a failed attempt does: the export's status, its event, the job's result, how loud the log is."""

    status: ExportStatus
    reason_code: str
    details: tuple[Detail, ...]
    emit: bool
    result: Result
    alert: bool = False

    @property
    def metric_outcome(self) -> str:
        return "transient" if self.result is Result.TRANSIENT else "failed"


def failure_of(exc: MappingError | ExportError, export: Export) -> Failure:
    """The decision table above for an attempt that raised ``exc`` (never NothingToBookError)."""
    if isinstance(exc, MappingError):
        return Failure(ExportStatus.FAILED, exc.reason, tuple(mapping_details(exc)), True, Result.FAILED)
    details = tuple(export_details(exc))
    code = str(exc.reason_code)
    if isinstance(exc, TransientExportError | OperatorError):
        # The voucher may or may not be in BL: stay 'posting'; the next attempt looks it up first.
        first = export.attempts == 0 or export.reason_code != code
        return Failure(
            ExportStatus.POSTING, code, details, first, Result.TRANSIENT, alert=isinstance(exc, OperatorError)
        )
    return Failure(ExportStatus.FAILED, code, details, True, Result.FAILED, alert=isinstance(exc, ExporterBug))


def dating_failure(exc: NoOpenPeriodError | ExportError) -> Failure | None:
    """A correction that cannot be dated now: no open period (failed, told) or BL not answering (None:
    nothing is written, the job backs off)."""
    if isinstance(exc, TransientExportError | OperatorError):
        return None
    code = exc.reason if isinstance(exc, NoOpenPeriodError) else str(exc.reason_code)
    return Failure(ExportStatus.FAILED, code, (Detail("correction", "entry_date", str(exc)),), True, Result.FAILED)


class AttachStep(enum.Enum):
    DEFERRED = "deferred"  # BL not answering: the document stays pending, the store's job backs off
    REFUSED = "refused"  # BL refused the document: recorded failed, told once, never retried


def attach_step(exc: ExportError) -> AttachStep:
    return AttachStep.DEFERRED if isinstance(exc, TransientExportError | OperatorError) else AttachStep.REFUSED


def mapping_details(exc: MappingError) -> list[Detail]:
    """Every problem of a mapping error as an outcome detail (every unmapped item, every plan field…)."""
    if isinstance(exc, UnmappedItemsError):
        return [Detail(item.kind, item.code, item.describe()) for item in exc.missing]
    problems = getattr(exc, "problems", None)
    if problems:
        return [
            Detail("plan", p.field, p.message) if hasattr(p, "field") else Detail("data", "", str(p)) for p in problems
        ]
    receipts = getattr(exc, "receipts", None)
    if receipts:
        return [Detail("receipt", r.receipt_id, f"residual {r.residual_ore} öre") for r in receipts]
    return [Detail("error", exc.reason, str(exc))]


def export_details(exc: ExportError) -> list[Detail]:
    return [Detail(str(k), str(v)) for k, v in sorted(exc.details.items())]

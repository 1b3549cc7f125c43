"""Sales that arrive for a register-day already closed: one voucher per Z-report, whatever the batching.

A Z-report is cumulative for its register's business day and the latest one supersedes the earlier ones
(docs/events.md). Receipts that arrive after a day was closed and booked (the day reopened: a cash sale, a card sale,
then Z 2) must not each book their own voucher before a Z-report reconciles them: they **wait**, durably, for the
register's next Z-report, whose day-close export books them all, reconciled against it, in one voucher. When no
new Z-report comes (an offline till catching up), they are booked once the grace period after the business day is
over (``ExportPolicy.late_sales_grace``, ``DAYCLOSE_LATE_SALES_GRACE_SECONDS``), as one complement voucher that says
which Z-report it follows.

Two steps, both in this module's terms:

* at ingest (:func:`checks`, queued by :func:`service.sales.record_sales` in the batch's unit of work): every
  register-day that got new rows while a Z-report of it was stored gets a check job (keyed on the batch's last new
  row, so a redelivery queues none);
* when a job of a register-day runs (:func:`service.jobs.run_job`), :func:`day_close_step` decides: reconcile
  against a Z-report that waits, supersede an earlier one, book what has no Z-report, or **wait**: a register-day
  whose Z-reports are all booked and whose grace period is not over parks its job until then
  (:meth:`service.ports.Jobs.park`: it does not hold up the store's other jobs). The next Z-report's job books the
  rows first; the parked job then finds nothing left.

So the vouchers depend only on which events arrived before the grace period ends, never on how Kafka split them
into batches or when the jobs ran in between (``tests/unit/service/test_late_sales.py`` checks it for arbitrary
splits and interleavings).
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from service.model import StoredDayClose
from service.ports import Written

STOCKHOLM = ZoneInfo("Europe/Stockholm")


@dataclass(frozen=True)
class Check:
    """A check job for the new rows of a closed register-day."""

    organization_id: str
    store_id: str
    business_date: date
    register_id: str
    source_id: str


def checks(written: Sequence[Written]) -> list[Check]:
    """The check jobs a batch's new rows ask for: one per register-day that was closed already. Keyed on the last
    new row's id (every key carries its organization): a redelivery adds no row and queues nothing."""
    return [
        Check(
            w.organization_id,
            w.store_id,
            w.business_date,
            w.register_id,
            f"late:{w.organization_id}:{w.store_id}:{w.register_id}:{w.business_date}:{w.last_id}",
        )
        for w in sorted(written, key=lambda w: w.day)
        if w.closed
    ]


def grace_over_at(business_date: date, grace: timedelta) -> datetime:
    """When late sales of ``business_date`` stop waiting for a Z-report: the end of that business day in Stockholm
    (midnight after it) plus the grace period."""
    return datetime.combine(business_date + timedelta(days=1), time(0), STOCKHOLM) + grace


class DayCloseStep(enum.Enum):
    BOOK = "book"  # no Z-report waits: export what is unexported, without reconciling
    RECONCILE = "reconcile"  # claim only if the day adds up to the Z-report
    SUPERSEDE = "supersede"  # reopened and closed again: the later Z-report's job books the day
    WAIT = "wait"  # the day's Z-reports are booked: late rows wait for the next one or the grace period
    LEAVE = "leave"  # a later Z-report waits to be booked: its job books everything


def day_close_step(
    close: StoredDayClose | None,
    latest: StoredDayClose | None,
    *,
    unexported: bool,
    now: datetime,
    grace_over: datetime,
) -> DayCloseStep:
    """What a job of a register-day does, given the Z-report it names (or the day's latest) and the day's latest.

    ============================================  =============
    the Z-report named (else the latest)          step
    ============================================  =============
    none                                          BOOK
    waits to be booked, a later one exists        SUPERSEDE
    waits to be booked, the latest                RECONCILE
    booked, a later one waits                     LEAVE
    booked (all are), sales no export holds,      WAIT (park the job until the grace period is over)
    grace period not over
    booked (all are), otherwise                   BOOK (a complement voucher, or nothing to book)
    ============================================  =============
    """
    if close is None:
        return DayCloseStep.BOOK
    later = latest is not None and latest.day_close.z_report_number > close.day_close.z_report_number
    if close.status.awaits_export:
        return DayCloseStep.SUPERSEDE if later else DayCloseStep.RECONCILE
    if later and latest is not None and latest.status.awaits_export:
        return DayCloseStep.LEAVE
    return DayCloseStep.WAIT if unexported and now < grace_over else DayCloseStep.BOOK

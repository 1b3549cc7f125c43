"""Record a batch of sales: the one way a sales batch reaches its decisions.

Storage stores the batch and reports what was new (:meth:`service.ports.Sales.ingest`): per register-day the new
rows and whether that day was closed already, the day closes stored now, the conflicting re-sends. This handler decides
which export jobs that asks for:

* a day close stored now: its day-close job, keyed on the day close's event id (``dayclose:<store>:<date>:<Z>``,
  once per organization), naming its Z-report and register; a day close stored before (a re-send, a redelivery)
  queues nothing;
* new rows of a register-day closed already (late sales): a check job (:func:`service.late_sales.checks`); what it
  does when it runs (reconcile, wait parked, book a complement) is :func:`service.late_sales.day_close_step`'s.

The conflicts are reported back for the caller to dead-letter (they name Kafka messages). Reached through
:mod:`service.bus` by the Kafka ingest (:mod:`consumer.ingest`) in the batch's unit of work, whose transaction also
holds the running totals' flush; the caller commits, before the batch's offsets are stored.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Protocol

from service.late_sales import checks
from service.messages import SalesEnvelope, Trigger
from service.ports import Ingested, JobQueue, RegisterDay, Sales


@dataclass(frozen=True)
class RecordSales:
    """A consumed batch's sales events, in the order they were consumed."""

    sales: Sequence[SalesEnvelope]
    #: Register-days whose running totals the batch's transaction flushes (their day close is in the batch): their
    #: store-days are locked exclusively from the start (:meth:`service.ports.Sales.ingest`).
    closing: Collection[RegisterDay] = ()
    #: The storage adapter's preparation of ``sales``, made beforehand on another thread (``Sales.ingest``).
    prepared: object | None = None


@dataclass(frozen=True)
class SalesRecorded:
    #: What storage stored and found: new rows per register-day, new day closes, conflicts.
    ingested: Ingested
    #: Day-close jobs queued (one per day close stored now).
    day_closes: int
    #: Late-sales check jobs queued (one per closed register-day with new rows).
    late_checks: int


class SalesWork(Protocol):
    """What recording sales uses of a unit of work (:class:`service.ports.UnitOfWork` has all of it)."""

    @property
    def sales(self) -> Sales: ...

    @property
    def jobs(self) -> JobQueue: ...


def record_sales(uow: SalesWork, command: RecordSales) -> SalesRecorded:
    """Store the batch and queue the jobs it asks for: the day-close jobs first (in the batch's order), then the
    late-sales checks (by register-day). A redelivered batch stores nothing new and queues nothing."""
    ingested = uow.sales.ingest(command.sales, closing=command.closing, prepared=command.prepared)
    day_closes = sum(
        uow.jobs.queue(c.organization_id, c.store_id, c.business_date, Trigger.DAY_CLOSE, c.event_key,
                       c.z_report_number, register=c.register_id)
        for c in ingested.closed
    )  # fmt: skip
    late = sum(
        uow.jobs.queue(c.organization_id, c.store_id, c.business_date, Trigger.DAY_CLOSE, c.source_id,
                       register=c.register_id)
        for c in checks(ingested.written)
    )  # fmt: skip
    return SalesRecorded(ingested, day_closes, late)

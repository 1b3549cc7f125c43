"""The ports of the export service, all importable from here: a unit of work over one repository per aggregate, and
what storage needs from the edges (a cipher for merchants' keys, an encoder for outbox events).

Handlers open a unit of work per durable step::

    with uow_factory() as uow:
        ...
        uow.commit()

Nothing is durable until ``commit``; leaving the block without it rolls back. The PostgreSQL adapters are in
:mod:`storage`; tests use the in-memory fakes of ``tests/unit/service/fakes/`` (one per port). Storage failures reach
the service as :class:`StorageUnavailable` (retry later, never skip) or :class:`StorageRefused` (a value the
database will not store), never as a driver's exception.

By concern: :mod:`~service.ports.edges` (the storage errors, the cipher, the event encoder, the day-report renderer),
:mod:`~service.ports.ingest` (a consumed batch's sales and day closes, the running totals),
:mod:`~service.ports.exports` (integrations, the job queue, exports and their leases, day closes),
:mod:`~service.ports.records` (the audit record, corrections, VAT reads, documents, dead letters, the outbox) and
:mod:`~service.ports.bl` (what the API's handlers ask BL). :class:`UnitOfWork` is what the export handlers use; the
narrow ports of the other handlers sit next to their handler (e.g. :mod:`service.commands`, :mod:`service.retention`),
and the consumer's batch, which also runs commands, takes :class:`consumer.ingest.IngestWork`.
"""

from __future__ import annotations

from types import TracebackType
from typing import Protocol, Self

from service.ports.bl import ChartReader, CompanyBooks, FiscalYearReader, KeyVerifier
from service.ports.edges import Cipher, DayReports, EventEncoder, OutboxMessage, StorageRefused, StorageUnavailable
from service.ports.exports import ChainEnd, DayCloses, Exports, Integrations, JobQueue, Jobs
from service.ports.ingest import (
    Flushed,
    Ingested,
    NewDayClose,
    Pending,
    RegisterDay,
    Sales,
    SinglePurposeOf,
    StoreDay,
    Totals,
    Written,
)
from service.ports.records import Audit, Corrections, DeadLetters, Documents, Outbox, OutboxRow, VatReads

__all__ = [
    "Audit",
    "ChainEnd",
    "ChartReader",
    "Cipher",
    "CompanyBooks",
    "Corrections",
    "DayCloses",
    "DayReports",
    "DeadLetters",
    "Documents",
    "EventEncoder",
    "Exports",
    "FiscalYearReader",
    "Flushed",
    "Ingested",
    "Integrations",
    "JobQueue",
    "Jobs",
    "KeyVerifier",
    "NewDayClose",
    "Outbox",
    "OutboxMessage",
    "OutboxRow",
    "Pending",
    "RegisterDay",
    "Sales",
    "SinglePurposeOf",
    "StorageRefused",
    "StorageUnavailable",
    "StoreDay",
    "Totals",
    "UnitOfWork",
    "VatReads",
    "Written",
]


class UnitOfWork(Protocol):
    """One transaction over the repositories (read-only attributes: a unit of work sets them up when entered)."""

    @property
    def integrations(self) -> Integrations: ...

    @property
    def jobs(self) -> Jobs: ...

    @property
    def exports(self) -> Exports: ...

    @property
    def day_closes(self) -> DayCloses: ...

    @property
    def sales(self) -> Sales: ...

    @property
    def audit(self) -> Audit: ...

    @property
    def corrections(self) -> Corrections: ...

    @property
    def documents(self) -> Documents: ...

    @property
    def vat_reads(self) -> VatReads: ...

    @property
    def dead_letters(self) -> DeadLetters: ...

    @property
    def outbox(self) -> Outbox: ...

    @property
    def totals(self) -> Totals: ...

    def __enter__(self) -> Self: ...

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...

    def commit(self) -> None: ...

    def rollback(self) -> None: ...

"""The fake unit of work: one transaction over the fake tables (:mod:`~tests.unit.service.fakes.tables`) that
composes one fake repository per port, and the store that keeps what is committed."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from types import TracebackType

from service.ports import UnitOfWork
from tests.unit.service.fakes.day_closes import FakeDayCloses
from tests.unit.service.fakes.exports import FakeExports, FakeIntegrations
from tests.unit.service.fakes.ingest import FakeSales, FakeTotals
from tests.unit.service.fakes.jobs import FakeJobs
from tests.unit.service.fakes.records import (
    FakeAudit,
    FakeCorrections,
    FakeDeadLetters,
    FakeDocuments,
    FakeOutbox,
    FakeVatReads,
)
from tests.unit.service.fakes.tables import Tables, clone


@dataclass
class Store:
    """What is durable: the tables as of the last commit, and the writes of each commit in order."""

    tables: Tables = field(default_factory=Tables)
    commits: list[tuple[str, ...]] = field(default_factory=list)

    def uow(self) -> FakeUnitOfWork:
        return FakeUnitOfWork(self)

    def units(self) -> Callable[[], UnitOfWork]:
        """Its units of work typed as the export handlers take them: ``mypy`` (``make lint``) checks this fake
        against the port, so a method the port gains or a handler starts to use is one the fake must have."""

        def unit() -> UnitOfWork:
            return FakeUnitOfWork(self)

        return unit


class FakeUnitOfWork:
    """Reads a snapshot of the store taken when it began; ``commit`` makes the tables it wrote durable and appends
    the names of its writes to ``Store.commits``; leaving without it rolls back, as with PostgreSQL."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def __enter__(self) -> FakeUnitOfWork:
        self.tables = self.store.tables.copy()
        self.writes: list[str] = []
        self.dirty: set[str] = set()
        self.integrations = FakeIntegrations(self)
        self.jobs = FakeJobs(self)
        self.exports = FakeExports(self)
        self.day_closes = FakeDayCloses(self)
        self.sales = FakeSales(self)
        self.audit = FakeAudit(self)
        self.corrections = FakeCorrections(self)
        self.documents = FakeDocuments(self)
        self.dead_letters = FakeDeadLetters(self)
        self.outbox = FakeOutbox(self)
        self.totals = FakeTotals(self)
        self.vat_reads = FakeVatReads(self)
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.rollback()

    def commit(self) -> None:
        for table in self.dirty:
            setattr(self.store.tables, table, clone(getattr(self.tables, table)))
        if self.writes:
            self.store.commits.append(tuple(self.writes))
        self.writes, self.dirty = [], set()

    def rollback(self) -> None:
        self.tables = self.store.tables.copy()
        self.writes, self.dirty = [], set()

    def wrote(self, name: str, *tables: str) -> None:
        self.writes.append(name)
        self.dirty.update(tables)


def outcomes(store: Store) -> list[tuple[str, str | None]]:
    """(status, reason code) of every committed outcome event."""
    return [(o.status.value, o.reason_code) for o in store.tables.outbox]

"""In-memory fakes of the service layer's ports, one small fake per port, and an exporter that answers as told.
The export handlers run against them exactly as they run against PostgreSQL and BL, so the decision table is
tested without either.

- :mod:`.tables`: the fake database the repositories share (only what is committed is kept, in :class:`Store`).
- :mod:`.uow`: the unit of work composing one repository per port, and :class:`Store`.
- :mod:`.exports`, :mod:`.jobs`, :mod:`.day_closes` (:mod:`service.ports.exports`), :mod:`.ingest`
  (:mod:`service.ports.ingest`), :mod:`.records` (:mod:`service.ports.records`), :mod:`.edges` (the day-report
  renderer, :class:`Crash`), :mod:`.exporter` (BL).
- :mod:`.queue`: a standalone job queue for the handlers that only queue jobs (no tables).

Every write a repository makes is named; ``commit`` appends the names of the writes it made durable to
``Store.commits``, so a test can state the sequence of commits of an export (docs/architecture.md). A unit of
work reads a snapshot taken when it began and commits the tables it wrote, as with PostgreSQL.
"""

from tests.unit.service.fakes.edges import Crash, FakeReports
from tests.unit.service.fakes.exporter import FakeExporter
from tests.unit.service.fakes.queue import FakeCommandJobs, FakeJobQueue, Queued
from tests.unit.service.fakes.tables import Row, Tables
from tests.unit.service.fakes.uow import FakeUnitOfWork, Store, outcomes

__all__ = [
    "Crash",
    "FakeCommandJobs",
    "FakeExporter",
    "FakeJobQueue",
    "FakeReports",
    "FakeUnitOfWork",
    "Queued",
    "Row",
    "Store",
    "Tables",
    "outcomes",
]

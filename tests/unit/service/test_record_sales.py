"""Recording a sales batch through the bus (service/sales.py): storage reports what was new, the handler decides the
jobs — a day-close job per day close stored now, a late-sales check per closed register-day with new rows — with a
small fake of each of the two ports it uses (no database)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from service import bus
from service.messages import SalesEnvelope, Trigger
from service.ports import Ingested, NewDayClose, RegisterDay, Written
from service.sales import RecordSales, SalesRecorded
from tests.unit.service.fakes import FakeJobQueue

DAY = date(2026, 11, 26)
AT = datetime(2026, 11, 26, 23, 5, tzinfo=UTC)


@dataclass
class FakeSales:
    """Stores nothing: answers each batch with what the test says storage found, and keeps what it was asked."""

    answers: list[Ingested] = field(default_factory=list)
    asked: list[tuple[list[SalesEnvelope], set[RegisterDay]]] = field(default_factory=list)

    def ingest(
        self,
        envelopes: Sequence[SalesEnvelope],
        *,
        closing: Collection[RegisterDay] = (),
        prepared: object | None = None,
    ) -> Ingested:
        self.asked.append((list(envelopes), set(closing)))
        return self.answers.pop(0) if self.answers else Ingested()


@dataclass
class FakeWork:
    sales: FakeSales = field(default_factory=FakeSales)
    jobs: FakeJobQueue = field(default_factory=FakeJobQueue)


def close(org: str, store: str, z: int = 1, register: str = "") -> NewDayClose:
    return NewDayClose(org, store, DAY, register, z, f"dayclose:{store}:{DAY}:{z}")


def rows(org: str, store: str, last_id: int, *, closed: bool, register: str = "") -> Written:
    return Written(org, store, DAY, 3, last_id - 2, last_id, closed, register)


def record(work: FakeWork, *answers: Ingested) -> SalesRecorded:
    work.sales.answers.extend(answers)
    recorded = bus.handle(work, RecordSales([]))
    assert all(q.delay is None for q in work.jobs.queued), "a sales batch's jobs are due at once"
    return recorded


def queued(work: FakeWork) -> list[tuple[object, ...]]:
    """(organization, store, day, trigger, source id, Z number, register) of each job queued, in order."""
    return [(q.org, q.store, q.day, q.trigger, q.source_id, q.z_report_number, q.register) for q in work.jobs.queued]


def test_a_day_close_stored_now_queues_its_day_close_job_named_by_its_event_id_z_and_register() -> None:
    work = FakeWork()
    recorded = record(work, Ingested(new=1, closed=[close("org-a", "s1", z=2, register="kassa-2")]))
    assert (recorded.day_closes, recorded.late_checks) == (1, 0)
    assert queued(work) == [
        ("org-a", "s1", DAY, Trigger.DAY_CLOSE, f"dayclose:s1:{DAY}:2", 2, "kassa-2"),
    ]


def test_a_day_close_stored_before_is_not_reported_by_storage_and_queues_nothing() -> None:
    """A re-send or a redelivery: storage reports no day close stored now (nor a conflict, unless the content
    differs), so nothing is queued; the same report twice queues each job once (its source id)."""
    work = FakeWork()
    assert record(work, Ingested(new=0)) == SalesRecorded(Ingested(new=0), 0, 0)
    record(work, Ingested(new=1, closed=[close("org-a", "s1")]))
    again = record(work, Ingested(new=1, closed=[close("org-a", "s1")]))
    assert (again.day_closes, len(queued(work))) == (0, 1)


def test_the_same_day_close_in_two_organizations_is_two_jobs() -> None:
    work = FakeWork()
    recorded = record(work, Ingested(new=2, closed=[close("org-a", "s1"), close("org-b", "s1")]))
    assert recorded.day_closes == 2
    assert [(q[0], q[4]) for q in queued(work)] == [
        ("org-a", f"dayclose:s1:{DAY}:1"),
        ("org-b", f"dayclose:s1:{DAY}:1"),
    ]


def test_new_rows_of_a_closed_register_day_queue_a_late_sales_check_keyed_on_the_last_new_row() -> None:
    work = FakeWork()
    written = [
        rows("org-a", "s1", 12, closed=True, register="kassa-2"),
        rows("org-a", "s2", 30, closed=False),  # its day is not closed: on time, no job
    ]
    recorded = record(work, Ingested(new=6, written=written))
    assert (recorded.day_closes, recorded.late_checks) == (0, 1)
    assert queued(work) == [
        ("org-a", "s1", DAY, Trigger.DAY_CLOSE, f"late:org-a:s1:kassa-2:{DAY}:12", None, "kassa-2"),
    ]
    assert record(work, Ingested(new=0)).late_checks == 0  # a redelivery writes no row: no check


def test_the_day_close_jobs_come_first_in_the_batch_s_order_then_the_checks_by_register_day() -> None:
    """The order the jobs table gives them ids in (a store's jobs run oldest first)."""
    work = FakeWork()
    written = [rows("org-a", "s2", 40, closed=True), rows("org-a", "s1", 20, closed=True)]
    record(work, Ingested(new=8, written=written, closed=[close("org-a", "s9"), close("org-a", "s3")]))
    assert [q[4] for q in queued(work)] == [
        f"dayclose:s9:{DAY}:1",
        f"dayclose:s3:{DAY}:1",
        f"late:org-a:s1::{DAY}:20",
        f"late:org-a:s2::{DAY}:40",
    ]


def test_the_batch_and_its_closing_register_days_reach_storage_as_consumed() -> None:
    work = FakeWork()
    batch = [SalesEnvelope(f"e{n}", "org-a", "s1", DAY, AT, None) for n in range(3)]
    closing = {("org-a", "s1", DAY, "")}
    recorded = bus.handle(work, RecordSales(batch, closing))
    assert work.sales.asked == [(batch, closing)]
    assert recorded == SalesRecorded(Ingested(), 0, 0)

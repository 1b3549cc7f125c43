"""The retention purge through the bus (service/retention.py): which quarters go, which are kept and why, and the
other tables' windows. With a small fake of each of its two ports (no database); the drop itself, under its locks,
is tests/integration/db/test_retention.py's."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date

from service import bus
from service.retention import BUSY, OldRows, PurgeSales, Quarter, QuarterBusy, StoreDay

TODAY = date(2026, 11, 26)
RETENTION = 90  # cutoff 2026-08-28
Q2025_1 = Quarter(date(2025, 1, 1), date(2025, 4, 1), "2025q1")
Q2026_2 = Quarter(date(2026, 4, 1), date(2026, 7, 1), "2026q2")
Q2026_3 = Quarter(date(2026, 7, 1), date(2026, 10, 1), "2026q3")  # its last day is inside the retention
FAILED = StoreDay("org-a", "s1", date(2025, 2, 10), "export BL-1 is failed")
UNSENT = StoreDay("org-a", "s2", date(2025, 2, 11), "sales not exported")
LATE = StoreDay("org-a", "s3", date(2025, 2, 12), "late sales of a purged day")


@dataclass
class FakeHeld:
    quarters: FakeQuarters
    quarter: Quarter

    def export_blockers(self) -> list[StoreDay]:
        return self.quarters.exports.get(self.quarter.suffix, [])

    def unexported(self) -> tuple[list[StoreDay], list[StoreDay]]:
        return self.quarters.unsent.get(self.quarter.suffix, []), self.quarters.late.get(self.quarter.suffix, [])

    def drop(self) -> int:
        if self.quarter.suffix in self.quarters.changing:
            raise QuarterBusy(self.quarter.suffix)
        self.quarters.dropped.append(self.quarter.suffix)
        return 8


@dataclass
class FakeQuarters:
    stored: list[Quarter] = field(default_factory=lambda: [Q2025_1, Q2026_2, Q2026_3])
    exports: dict[str, list[StoreDay]] = field(default_factory=dict)
    unsent: dict[str, list[StoreDay]] = field(default_factory=dict)
    late: dict[str, list[StoreDay]] = field(default_factory=dict)
    #: Quarters a writer holds, and those that change between the checks and the drop.
    locked: set[str] = field(default_factory=set)
    changing: set[str] = field(default_factory=set)
    held: list[str] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)

    def quarters(self) -> list[Quarter]:
        return self.stored

    @contextmanager
    def hold(self, quarter: Quarter) -> Iterator[FakeHeld]:
        if quarter.suffix in self.locked:
            raise QuarterBusy(quarter.suffix)
        self.held.append(quarter.suffix)
        yield FakeHeld(self, quarter)


@dataclass
class FakeRows:
    asked: list[tuple[date, date, date]] = field(default_factory=list)

    def delete_old(self, *, kept_since: date, sent_since: date, audit_before: date) -> OldRows:
        self.asked.append((kept_since, sent_since, audit_before))
        return OldRows(1, 2, 3, 4, 5, 6, 7)


@dataclass
class FakeWork:
    sales_quarters: FakeQuarters = field(default_factory=FakeQuarters)
    retained_rows: FakeRows = field(default_factory=FakeRows)


def test_only_quarters_whose_last_day_is_past_the_retention_are_looked_at_and_dropped() -> None:
    work = FakeWork()
    result = bus.handle(work, PurgeSales(TODAY, RETENTION))
    assert work.sales_quarters.held == ["2025q1", "2026q2"]  # 2026 Q3 ends 30 September, after the cutoff
    assert result.quarters_dropped == [Q2025_1.first_day, Q2026_2.first_day] and result.quarters_kept == []
    assert result.audit_receipts == 16 and result.blockers == []


def test_a_quarter_with_an_unbooked_export_or_unexported_sales_is_kept_whole_and_its_store_days_reported() -> None:
    work = FakeWork(FakeQuarters(exports={"2025q1": [FAILED]}, unsent={"2026q2": [UNSENT]}))
    result = bus.handle(work, PurgeSales(TODAY, RETENTION))
    assert work.sales_quarters.dropped == []
    assert result.quarters_kept == [Q2025_1.first_day, Q2026_2.first_day] and result.quarters_dropped == []
    assert result.blockers == [FAILED, UNSENT] and result.audit_receipts == 0


def test_late_sales_of_a_purged_day_never_keep_a_quarter_and_are_reported_as_discarded() -> None:
    work = FakeWork(FakeQuarters(late={"2025q1": [LATE]}))
    result = bus.handle(work, PurgeSales(TODAY, RETENTION))
    assert result.quarters_dropped == [Q2025_1.first_day, Q2026_2.first_day] and result.discarded == [LATE]


def test_late_sales_are_not_reported_discarded_when_their_quarter_is_kept() -> None:
    work = FakeWork(FakeQuarters(stored=[Q2025_1], exports={"2025q1": [FAILED]}, late={"2025q1": [LATE]}))
    result = bus.handle(work, PurgeSales(TODAY, RETENTION))
    assert result.quarters_kept == [Q2025_1.first_day] and result.discarded == []


def test_a_quarter_held_by_a_writer_or_changed_during_the_drop_is_kept_for_the_next_run() -> None:
    work = FakeWork(FakeQuarters(locked={"2025q1"}, changing={"2026q2"}))
    result = bus.handle(work, PurgeSales(TODAY, RETENTION))
    assert result.quarters_kept == [Q2025_1.first_day, Q2026_2.first_day] and result.quarters_dropped == []
    assert result.blockers == [StoreDay("", "", Q2025_1.first_day, BUSY), StoreDay("", "", Q2026_2.first_day, BUSY)]


def test_the_other_tables_keep_the_retention_sent_outbox_rows_a_week_and_audit_records_to_their_retain_until() -> None:
    work = FakeWork(FakeQuarters(stored=[]))
    result = bus.handle(work, PurgeSales(TODAY, RETENTION))
    assert work.retained_rows.asked == [(date(2026, 8, 28), date(2026, 11, 19), TODAY)]
    assert (result.day_closes, result.processed_commands, result.sent_outbox_rows, result.dead_letter_keys) == (
        1,
        2,
        3,
        4,
    )
    assert (result.audit_vouchers, result.notifications, result.set_aside) == (5, 6, 7)

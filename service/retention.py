"""The retention purge (``dayclose purge``): which quarters of sales may go, what keeps one, and how long the other
tables' rows are kept.

Every ingested sale is kept ``retention_days`` after its business date (``DAYCLOSE_SALES_RETENTION_DAYS``). A
quarter of sales goes whole, once its last day is past the retention and nothing in it blocks it: an export of it
not booked (or booked without its audit record), or a store-day of an active organization, on or after its start
date, with sales no export books (it can still be exported). Such a quarter is kept whole and its blocking
store-days reported; a quarter a writer holds, or that changed while it was being dropped, is kept too and tried
again on the next run. Late sales of store-days already purged go with their quarter (they are never booked). The
seven-year receipt → voucher link of the quarter's booked vouchers is copied to the audit record as it is dropped.

The other tables: processed commands, dead-letter keys, conflict notices, merchants' notifications and sales set
aside after a purge after the retention; outbox rows a week after they were sent (never before); audit records
only after their ``retain_until`` (Bokföringslagen 7 kap. 2 §).

Reached through :mod:`service.bus` (:class:`PurgeSales`) by the CLI over its one autocommit connection
(:class:`storage.uow.OnConnection`); each quarter is a transaction of its own (:meth:`SalesQuarters.hold`), so its
locks end with it. How the blockers are found (set-based, under the quarter's lock) and the drop itself are
:mod:`storage.retention`'s.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Protocol

#: Sent outbox rows are already on Kafka: a week is plenty for looking back at what was sent.
SENT_OUTBOX_DAYS = 7
BUSY = "busy or changed during the purge"


@dataclass(frozen=True)
class PurgeSales:
    #: Today in Stockholm.
    today: date
    retention_days: int


@dataclass(frozen=True)
class StoreDay:
    organization_id: str
    store_id: str
    business_date: date
    reason: str


@dataclass(frozen=True)
class Quarter:
    first_day: date
    #: The day after its last day.
    end: date
    #: The suffix of its partitions' names.
    suffix: str


@dataclass(frozen=True)
class OldRows:
    """What :meth:`RetainedRows.delete_old` deleted, and how many sales stay set aside."""

    day_closes: int
    processed_commands: int
    sent_outbox_rows: int
    dead_letter_keys: int
    audit_vouchers: int
    notifications: int
    set_aside: int


@dataclass(frozen=True)
class PurgeResult:
    day_closes: int
    processed_commands: int
    sent_outbox_rows: int = 0
    dead_letter_keys: int = 0
    audit_vouchers: int = 0
    #: Quarters (first day) whose partitions were dropped, and those past the retention kept for a blocker.
    quarters_dropped: list[date] = field(default_factory=list)
    quarters_kept: list[date] = field(default_factory=list)
    blockers: list[StoreDay] = field(default_factory=list)
    #: Sales that arrived for an already purged (booked) store-day, dropped with their quarter.
    discarded: list[StoreDay] = field(default_factory=list)
    audit_receipts: int = 0
    #: Sales sent again for a store-day booked before its quarter was dropped, set aside (never booked).
    set_aside: int = 0
    #: Merchants' notifications (migration 0017) older than the retention.
    notifications: int = 0


class QuarterBusy(Exception):
    """A writer held the quarter, or it changed while being dropped: nothing of it was dropped."""


class HeldQuarter(Protocol):
    """One quarter, locked against writes until its transaction ends."""

    def export_blockers(self) -> list[StoreDay]:
        """Its exports not booked, or booked (with something to book) without their audit record."""
        ...

    def unexported(self) -> tuple[list[StoreDay], list[StoreDay]]:
        """Store-days of active organizations, on or after their start date, with sales no export books: those of
        days never booked (they can still be exported), and those of days booked and already purged (late sales)."""
        ...

    def drop(self) -> int:
        """Copy the receipt → voucher link of its booked vouchers to the audit record, then drop its partitions;
        how many links were copied. Raises :class:`QuarterBusy` (nothing dropped) when it changed meanwhile."""
        ...


class SalesQuarters(Protocol):
    def quarters(self) -> list[Quarter]:
        """The quarters of stored sales, oldest first."""
        ...

    def hold(self, quarter: Quarter) -> AbstractContextManager[HeldQuarter]:
        """The quarter locked against writes in a transaction of its own, committed when the block ends (rolled
        back when it raises). Raises :class:`QuarterBusy` when a writer holds it."""
        ...


class RetainedRows(Protocol):
    def delete_old(self, *, kept_since: date, sent_since: date, audit_before: date) -> OldRows:
        """In one transaction: delete the day closes without sales, processed commands, dead-letter keys, conflict
        notices, notifications and set-aside sales from before ``kept_since``, outbox rows sent before
        ``sent_since`` and audit records to be retained until before ``audit_before``."""
        ...


class PurgeWork(Protocol):
    @property
    def sales_quarters(self) -> SalesQuarters: ...

    @property
    def retained_rows(self) -> RetainedRows: ...


def purge_sales(uow: PurgeWork, command: PurgeSales) -> PurgeResult:
    """Drop the quarters past the retention that nothing blocks, then the other tables' old rows."""
    cutoff = command.today - timedelta(days=command.retention_days)
    dropped: list[date] = []
    kept: list[date] = []
    blockers: list[StoreDay] = []
    discarded: list[StoreDay] = []
    receipts = 0
    for quarter in uow.sales_quarters.quarters():
        if quarter.end > cutoff:  # its last day (end - 1) is still inside the retention
            continue
        try:
            found, late, copied = _drop(uow.sales_quarters, quarter)
        except QuarterBusy:  # next run tries again
            found, late, copied = [StoreDay("", "", quarter.first_day, BUSY)], [], 0
        if found:
            kept.append(quarter.first_day)
            blockers.extend(found)
        else:
            dropped.append(quarter.first_day)
            discarded.extend(late)
            receipts += copied
    old = uow.retained_rows.delete_old(
        kept_since=cutoff,
        sent_since=command.today - timedelta(days=SENT_OUTBOX_DAYS),
        audit_before=command.today,
    )
    return PurgeResult(
        day_closes=old.day_closes,
        processed_commands=old.processed_commands,
        sent_outbox_rows=old.sent_outbox_rows,
        dead_letter_keys=old.dead_letter_keys,
        audit_vouchers=old.audit_vouchers,
        quarters_dropped=dropped,
        quarters_kept=kept,
        blockers=blockers,
        discarded=discarded,
        audit_receipts=receipts,
        set_aside=old.set_aside,
        notifications=old.notifications,
    )


def _drop(quarters: SalesQuarters, quarter: Quarter) -> tuple[list[StoreDay], list[StoreDay], int]:
    """(blockers, late sales dropped with it, receipt links copied): dropped only when nothing blocks it."""
    with quarters.hold(quarter) as held:
        exports = held.export_blockers()
        exportable, late = held.unexported()
        found = exports + exportable
        if found:
            return found, [], 0
        return [], late, held.drop()

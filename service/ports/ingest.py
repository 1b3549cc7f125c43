"""The ports of the Kafka ingest: storing a consumed batch's sales and day closes, and the running totals."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Protocol

from mapping.buckets import Buckets
from service.messages import Conflict, SalesEnvelope


@dataclass(frozen=True)
class Written:
    """The new rows one batch wrote for one register-day: how many, their id range, and whether the register's day
    was closed already (a Z-report of it is stored: late sales)."""

    organization_id: str
    store_id: str
    business_date: date
    count: int
    first_id: int
    last_id: int
    closed: bool
    register_id: str = ""

    @property
    def day(self) -> RegisterDay:
        return (self.organization_id, self.store_id, self.business_date, self.register_id)


@dataclass(frozen=True)
class NewDayClose:
    """A day close a batch stored (its Z-report was not stored before): what its export job names."""

    organization_id: str
    store_id: str
    business_date: date
    register_id: str
    z_report_number: int
    #: The day close's event id (``dayclose:<store>:<date>:<Z>``): its job's source id.
    event_key: str


@dataclass
class Ingested:
    """What storing a batch did: how many events were new, the conflicting re-sends, the new rows per register-day,
    the day closes stored now. Storage only reports; the jobs are :func:`service.sales.record_sales`'s decision."""

    new: int = 0
    conflicts: list[Conflict] = field(default_factory=list)
    written: list[Written] = field(default_factory=list)
    closed: list[NewDayClose] = field(default_factory=list)


class Sales(Protocol):
    def ingest(
        self,
        envelopes: Sequence[SalesEnvelope],
        *,
        closing: Collection[RegisterDay] = (),
        prepared: object | None = None,
    ) -> Ingested:
        """Store the batch and report what was new (it queues no job: :mod:`service.sales` decides them).
        ``closing``: register-days whose running totals this transaction will flush (their day close is in the
        batch); their store-days are locked exclusively from the start so the flush never waits on another
        writer. ``prepared``: what the adapter's own preparation made of these envelopes beforehand, on another
        thread (the Kafka loop's, while the batch before was written), or None; the adapter ignores what it did not
        make from this very batch."""
        ...


#: A store-day: (organization, store, business date); what the advisory locks of sales are taken on.
StoreDay = tuple[str, str, date]


#: A register-day: (organization, store, business date, register): what a Z-report closes and one voucher books.
RegisterDay = tuple[str, str, date, str]


#: The single-purpose gift card methods (method → VAT rate) an organization's plan has now.
SinglePurposeOf = Callable[[str], Mapping[str, int]]


@dataclass
class Pending:
    """What one consumer inserted for one store-day since its last flush: the rows' buckets (:mod:`mapping.totals`),
    how many events were summed, their lowest and highest id, and whether those events are exactly the rows it
    inserted (not when a batch's new rows could not be told from its duplicates: the flush then sums the rows)."""

    buckets: Buckets
    rows: int
    first_id: int
    last_id: int
    exact: bool = True


@dataclass(frozen=True)
class Flushed:
    store_days: int
    from_memory: int
    folded: int
    rows_read: int


class Totals(Protocol):
    def flush(self, pending: Mapping[RegisterDay, Pending], single_purpose_of: SinglePurposeOf) -> Flushed:
        """Add the pending sums of these register-days to their running totals, each only when a count proves they
        are exactly the rows stored since the last flush; otherwise sum those rows instead."""
        ...

"""The ports of the export service: a unit of work over one repository per aggregate, and what storage needs
from the edges (a cipher for merchants' keys, an encoder for outbox events).

Handlers open a unit of work per durable step::

    with uow_factory() as uow:
        ...
        uow.commit()

Nothing is durable until ``commit``; leaving the block without it rolls back. The PostgreSQL adapters are in
:mod:`storage`; tests use the in-memory fakes of ``tests/unit/service/fakes.py``. Storage failures reach the
service as :class:`StorageUnavailable` (retry later, never skip) or :class:`StorageRefused` (a value the
database will not store), never as a driver's exception.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from types import TracebackType
from typing import Any, Protocol, Self

from mapping.cashchain import CashChainLink
from mapping.ledger import LedgerVoucher
from mapping.periods import CorrectionDate, FiscalYear
from mapping.plan import AccountPlan
from mapping.totals import Buckets, DayTotals
from mapping.vatreport import ZDay
from mapping.voucher import Voucher
from service.exporter import Attachment, BookedVoucher, ChartNames
from service.messages import Command, Conflict, DeadLetter, Detail, Outcome, SalesEnvelope, Trigger
from service.model import (
    AttachTarget,
    Correction,
    DayCloseStatus,
    Export,
    ExportStatus,
    Integration,
    Job,
    Lease,
    ReportSource,
    StoredBooking,
    StoredDayClose,
)
from service.secrets import Secret


class StorageUnavailable(Exception):
    """The database cannot be reached or lost the connection: nothing was committed; retry later."""


class StorageRefused(Exception):
    """The database refuses a value (e.g. a NUL in a text field that got past decoding)."""


class Cipher(Protocol):
    """Encrypts merchants' BL keys at rest (:class:`dayclose.keys.KeyVault`)."""

    def encrypt(self, value: Secret) -> bytes: ...

    def decrypt(self, token: bytes) -> Secret: ...


class DayReports(Protocol):
    """Renders the day report attached to a booked voucher (:class:`exporters.reporting.PdfDayReports`)."""

    def render(self, source: ReportSource, names: ChartNames) -> Attachment: ...


@dataclass(frozen=True)
class OutboxMessage:
    """An event encoded for the wire, ready for the outbox."""

    topic: str
    schema_name: str
    key: bytes | None
    value: bytes


class EventEncoder(Protocol):
    """Encodes the service's messages for their topics (:class:`consumer.events.AvroEvents`)."""

    def outcome(self, event: Outcome) -> OutboxMessage: ...

    def dead_letter(self, letter: DeadLetter) -> OutboxMessage: ...

    def command(self, command: Command) -> OutboxMessage: ...


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


class Integrations(Protocol):
    def get(self, org: str, *, lock: bool = False) -> Integration | None: ...

    def plan(self, org: str) -> AccountPlan | None: ...

    def known(self, orgs: Collection[str]) -> set[str]:
        """The organizations among ``orgs`` that have an integration."""
        ...

    def single_purpose(self, orgs: Collection[str]) -> dict[str, Mapping[str, int]]:
        """Each organization's single-purpose gift card methods (method → VAT rate); empty without a plan."""
        ...


class Jobs(Protocol):
    def lease_next(self, owner: str, lease: timedelta) -> Job | None:
        """Lease the next due job whose store has no older job to ``owner`` (the lease is the claim, once committed);
        a lease lapses after ``lease`` and is void when its process is gone."""
        ...

    def renew(self, job: Job, owner: str, lease: timedelta) -> bool:
        """The lease runs ``lease`` from now again; False when ``owner`` no longer holds it."""
        ...

    def finish(self, job: Job) -> None: ...

    def reschedule(self, job: Job, delay: timedelta) -> None:
        """Run it again after ``delay``; the lease ends."""
        ...

    def queue(
        self,
        org: str,
        store: str,
        day: date | None,
        trigger: Trigger,
        source_id: str,
        z_report_number: int | None = None,
        delay: timedelta | None = None,
        *,
        register: str | None = None,
    ) -> bool: ...

    def park(self, job: Job, until: datetime) -> None:
        """Run the job again at ``until`` without holding up the store's other jobs meanwhile."""
        ...

    def record_command(self, org: str, command_id: str) -> bool:
        """Record a BackOffice command as acted on; False when it was before (:mod:`service.commands`)."""
        ...


class JobQueue(Protocol):
    """Queueing a job, all a use case that only queues needs of :class:`Jobs` (:mod:`service.sales`,
    :mod:`service.correction_requests`)."""

    def queue(
        self,
        org: str,
        store: str,
        day: date | None,
        trigger: Trigger,
        source_id: str,
        z_report_number: int | None = None,
        delay: timedelta | None = None,
        *,
        register: str | None = None,
    ) -> bool:
        """Queue a job once per (organization, ``source_id``); True when it was new."""
        ...


class Exports(Protocol):
    def open(self, org: str, store: str) -> list[Export]:
        """The store's exports not yet booked, oldest first."""
        ...

    def failed(self, org: str) -> list[tuple[str, str | None, Any]]:
        """(store, reason code, reason details) of every refused export of the organization."""
        ...

    def stores_with_open(self, org: str) -> list[str]:
        """Stores with an export not booked (refused, or left posting)."""
        ...

    def known_stores(self, org: str) -> list[str]:
        """Every store of the organization that has sent an event."""
        ...

    def fresh_invoices(self, org: str, store: str) -> list[Export]:
        """The store's invoice-sale exports (storage/invoices.py) not attempted yet, oldest first."""
        ...

    def unexported_dates(self, org: str, store: str, since: date, until: date) -> list[tuple[date, str]]:
        """(business date, register) of the store's register-days in the range with sales no export holds."""
        ...

    def claim(
        self,
        org: str,
        store: str,
        day: date,
        trigger: Trigger,
        z_report_number: int | None,
        *,
        include_day_close: bool,
        single_purpose: Mapping[str, int] = {},  # noqa: B006 - read only
        register: str = "",
        complements_z: int | None = None,
    ) -> Export | None:
        """A new export of what the register-day holds that no standing export books (its ``totals``, with the
        whole day's in ``day``); None when there is nothing to claim. Redemptions of ``single_purpose`` methods
        are summed at their rates. ``complements_z``: without a Z-report of its own, the booked Z-report of the
        day it complements (late sales: the voucher says so)."""
        ...

    def has_unexported(self, org: str, store: str, day: date, *, register: str = "") -> bool:
        """Whether the register-day holds sales no export books."""
        ...

    def totals(self, export: Export, single_purpose: Mapping[str, int]) -> DayTotals:
        """What the export books, as it claimed it."""
        ...

    def resum(self, export: Export, single_purpose: Mapping[str, int]) -> DayTotals:
        """What the export books, summed again from its sales for these single-purpose methods, and stored."""
        ...

    def day_snapshot(self, export: Export) -> DayTotals | None:
        """The store-day's totals when the export claimed."""
        ...

    def day_close(self, export: Export) -> StoredDayClose | None: ...

    def store_name(self, org: str, store: str) -> str: ...

    def posting_voucher(self, export: Export) -> tuple[Voucher, int] | None:
        """The voucher (and receipt count) an earlier attempt stored before posting, while still posting."""
        ...

    def stored_voucher(self, export: Export) -> Voucher: ...

    def take_lease(self, export: Export, owner: str, lease: timedelta, voucher: Voucher, receipt_count: int) -> Lease:
        """Store the exact voucher about to be posted, lease the export to ``owner`` and record that a post is
        attempted; say whether an earlier attempt was recorded (read under the row's lock), or that another
        worker holds the lease (nothing written)."""
        ...

    def mark_booked(self, export: Export, booked: BookedVoucher, voucher: Voucher, receipt_count: int) -> None:
        """The export booked, with BL's series, number and (when known) entity id of the voucher."""
        ...

    def mark_failed(
        self, export: Export, status: ExportStatus, reason_code: str, details: Sequence[Detail]
    ) -> None: ...

    def release_empty(self, export: Export, reason_code: str = "NOTHING_TO_BOOK") -> None:
        """Mark an export that books nothing booked, with why (its sales net to zero, or BOOKED_ELSEWHERE)."""
        ...

    def vat_adjustment(self, export: Export) -> dict[int, int]: ...

    def set_vat_adjustment(self, export: Export, by_rate: dict[int, int]) -> None: ...

    def booked_vat_adjustments(
        self, org: str, store: str, day: date, *, besides: uuid.UUID | None, register: str = ""
    ) -> dict[int, int]: ...


@dataclass(frozen=True)
class ChainEnd:
    """A Z-report at one end of a link of the till's cash chain: whether the link into it was checked, and the
    watermark of the export that booked it (None: not booked yet, so what moved after its close is not known)."""

    close: StoredDayClose
    chain_checked: bool
    watermark: int | None


class DayCloses(Protocol):
    def get(
        self, org: str, store: str, day: date, z_report_number: int | None = None, *, register: str = ""
    ) -> StoredDayClose | None:
        """The register-day's Z-report with this number, or its latest."""
        ...

    def later_exists(self, org: str, close: StoredDayClose) -> bool: ...

    def set_status(self, org: str, close: StoredDayClose, status: DayCloseStatus) -> None: ...

    def supersede_earlier(self, org: str, close: StoredDayClose) -> None: ...

    def booked_cash_difference(self, org: str, close: StoredDayClose) -> int: ...

    def claim_sequence_check(self, org: str, close: StoredDayClose) -> bool: ...

    def chain(self, org: str, close: StoredDayClose) -> tuple[ChainEnd | None, ChainEnd, ChainEnd | None]:
        """``close`` and the register's Z-reports just before and just after it (by business date, then number)."""
        ...

    def moved_between(self, org: str, earlier: ChainEnd, later: StoredDayClose) -> int:
        """The cash effect of the register's movements recorded after ``earlier``'s close, before ``later``'s day."""
        ...

    def record_chain(self, org: str, close: StoredDayClose, link: CashChainLink | None) -> bool:
        """Mark the cash chain link into ``close`` checked, with its result; False when it was checked before."""
        ...

    def unbooked_since(self, org: str, since: date) -> list[tuple[str, date, str]]:
        """(store, business date, register) of every register-day closed since ``since`` not fully booked."""
        ...

    def z_reports(self, org: str, store: str, around: date, *, register: str = "") -> list[tuple[date, int]]:
        """(business date, Z number) of the register's Z-reports within a year either side of ``around``."""
        ...


class Sales(Protocol):
    def ingest(self, envelopes: Sequence[SalesEnvelope], *, closing: Collection[RegisterDay] = ()) -> Ingested:
        """Store the batch and report what was new (it queues no job: :mod:`service.sales` decides them).
        ``closing``: register-days whose running totals this transaction will flush (their day close is in the
        batch); their store-days are locked exclusively from the start so the flush never waits on another
        writer."""
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


class Audit(Protocol):
    def record_booked(
        self,
        export: Export,
        booked: BookedVoucher,
        voucher: Voucher,
        receipt_count: int,
        names: ChartNames,
        years: list[FiscalYear],
    ) -> None: ...


class Corrections(Protocol):
    def of_reversal(self, export: Export) -> Correction | None: ...

    def may_date(self, correction: Correction) -> bool: ...

    def set_entry_date(self, correction: Correction, decided: CorrectionDate) -> None: ...

    def of_new_export(self, export: Export) -> Correction | None:
        """The correction this export books anew, linking it first when it is the day's next one."""
        ...

    def complete(self, reversal: Export) -> bool:
        """The reversal booked: its original marked reversed; False when it reverses nothing
        (:func:`service.correction_requests.complete` queues the day anew)."""
        ...

    def booked_anew_by(self, export: Export) -> Correction | None:
        """The correction whose new voucher ``export`` is (linked before it was posted), if any."""
        ...


class VatReads(Protocol):
    """What the VAT-period report and a correction's VAT check read (:mod:`storage.vat_reads`)."""

    def z_days(self, org: str, start: date, end: date) -> list[ZDay]: ...

    def bookings(self, org: str, start: date, end: date) -> list[StoredBooking]:
        """Every booked voucher of the range's days, and every one dated in the range."""
        ...

    def bookings_of(self, org: str, export_ids: Collection[uuid.UUID]) -> list[StoredBooking]: ...

    def posted(self, org: str, start: date, end: date) -> list[tuple[str, LedgerVoucher]]:
        """(reference, voucher as posted) of every voucher dated in the range."""
        ...


class Documents(Protocol):
    def pending(self, org: str, store: str) -> list[uuid.UUID]: ...

    def source(self, export_id: uuid.UUID) -> ReportSource: ...

    def begin_attach(self, export_id: uuid.UUID) -> AttachTarget:
        """Record that an attach request for the export's day report is about to be sent; return where it goes and
        whether one was recorded before (read under the row's lock)."""
        ...

    def mark_attached(self, export_id: uuid.UUID, document_id: int, name: str) -> None: ...

    def mark_failed(self, export_id: uuid.UUID, name: str, details: Sequence[Detail]) -> None: ...


class DeadLetters(Protocol):
    def record_once(self, topic: str, partition: int, offset: int, error_code: str) -> bool:
        """False when this message was dead-lettered before (a redelivery)."""
        ...

    def first_conflict_notice(self, org: str, event_key: str, version: str) -> bool:
        """False when this conflicting version of the organization's event was dead-lettered and notified within
        the conflict-notice window (a copy: counted only); True otherwise, and it is recorded as notified now."""
        ...


@dataclass(frozen=True)
class OutboxRow:
    id: int
    topic: str
    key: bytes | None
    value: bytes


class Outbox(Protocol):
    def outcome(self, event: Outcome) -> None: ...

    def dead_letter(self, letter: DeadLetter) -> None: ...

    def command(self, command: Command) -> None: ...

    def lock_publisher(self) -> bool:
        """Become the one relay publishing (until commit); False when another one is."""
        ...

    def unsent(self, limit: int, max_attempts: int) -> list[OutboxRow]: ...

    def mark_sent(self, ids: Sequence[int]) -> None: ...

    def count_refusals(self, refused: dict[int, str]) -> None: ...

    def depth(self) -> tuple[int, float]: ...


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

"""In-memory fakes of the service layer's ports: a unit of work over dict "tables" that only keeps what is
committed, and an exporter that answers as told. The export handlers run against them exactly as they run
against PostgreSQL and BL, so the decision table is tested without either.

Every write a repository makes is named; ``commit`` appends the names of the writes it made durable to
``Store.commits``, so a test can state the sequence of commits of an export (docs/architecture.md). A unit of
work reads a snapshot taken when it began and commits the tables it wrote, as with PostgreSQL.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, date, datetime, timedelta
from types import TracebackType
from typing import Any

from mapping.cashchain import CashChainLink
from mapping.ledger import LedgerVoucher
from mapping.periods import CorrectionDate, FiscalYear
from mapping.plan import AccountPlan
from mapping.totals import DayTotals
from mapping.vatreport import ZDay
from mapping.voucher import Voucher
from service.exporter import (
    AttachedDocument,
    Attachment,
    BookedVoucher,
    ChartNames,
    CompanyDetails,
    ExportError,
    VoucherLocation,
)
from service.messages import Command, DayClosed, DeadLetter, Detail, Outcome, SalesEnvelope, SalesItem, Trigger
from service.model import (
    AttachTarget,
    Correction,
    DayCloseStatus,
    DocumentStatus,
    Export,
    ExportStatus,
    Integration,
    Job,
    Lease,
    ReportSource,
    StoredBooking,
    StoredDayClose,
)
from service.ports import (
    ChainEnd,
    Flushed,
    Ingested,
    NewDayClose,
    OutboxRow,
    Pending,
    RegisterDay,
    SinglePurposeOf,
    Written,
)

Day = tuple[str, str, date, str]  # organization, store, business date, register
CloseKey = tuple[str, str, date, int, str]  # organization, store, business date, Z number, register


@dataclass
class Row:
    """An export as the fake keeps it."""

    export: Export
    voucher: Voucher | None = None
    receipt_count: int = 0
    lease_owner: str | None = None
    reason_details: tuple[Detail, ...] = ()
    booked: BookedVoucher | None = None
    document: DocumentStatus | None = None
    document_id: int | None = None
    vat_adjustment: dict[int, int] = field(default_factory=dict)
    z_report_number: int | None = None
    #: A post was attempted (recorded with the lease): every later attempt must look up before posting.
    post_attempted: bool = False
    #: An attach of the day report was attempted: every later attempt must read the voucher back first.
    attach_attempted: bool = False


@dataclass
class Tables:
    integrations: dict[str, Integration] = field(default_factory=dict)
    plans: dict[str, AccountPlan] = field(default_factory=dict)
    jobs: list[Job] = field(default_factory=list)
    job_delays: dict[int, timedelta] = field(default_factory=dict)
    #: Parked jobs (late sales waiting) and when they run again; the clock that says whether they are due.
    parked: dict[int, datetime] = field(default_factory=dict)
    #: The source id of each queued job (a source queues one job while it exists), and the last job id handed out.
    sources: dict[int, str] = field(default_factory=dict)
    last_job: int = 0
    now: datetime = datetime(2026, 11, 25, 23, 30, tzinfo=UTC)
    #: Job id → the worker holding its lease.
    job_leases: dict[int, str] = field(default_factory=dict)
    #: Sales not claimed by any export yet, per register-day.
    unexported: dict[Day, list[SalesItem]] = field(default_factory=dict)
    #: Sales claimed, per export.
    claimed: dict[uuid.UUID, list[SalesItem]] = field(default_factory=dict)
    exports: dict[uuid.UUID, Row] = field(default_factory=dict)
    day_closes: dict[CloseKey, StoredDayClose] = field(default_factory=dict)
    checked: set[CloseKey] = field(default_factory=set)
    chain_checked: dict[CloseKey, CashChainLink | None] = field(default_factory=dict)
    #: The watermark-free fake's stand-in: export ids per Z-report they booked.
    booked_z: dict[CloseKey, uuid.UUID] = field(default_factory=dict)
    audit: list[uuid.UUID] = field(default_factory=list)
    outbox: list[Outcome] = field(default_factory=list)
    dead_letters: set[tuple[str, int, int]] = field(default_factory=set)
    #: Event keys stored (each once), and the last sales row id handed out.
    seen: set[str] = field(default_factory=set)
    last_sale: int = 0


@dataclass
class Store:
    """What is durable: the tables as of the last commit, and the writes of each commit in order."""

    tables: Tables = field(default_factory=Tables)
    commits: list[tuple[str, ...]] = field(default_factory=list)

    def uow(self) -> FakeUnitOfWork:
        return FakeUnitOfWork(self)


class FakeUnitOfWork:
    def __init__(self, store: Store) -> None:
        self.store = store

    def __enter__(self) -> FakeUnitOfWork:
        self.tables = _clone(self.store.tables)
        self.writes: list[str] = []
        self.dirty: set[str] = set()
        self.integrations = _Integrations(self)
        self.jobs = _Jobs(self)
        self.exports = _Exports(self)
        self.day_closes = _DayCloses(self)
        self.sales = _Sales(self)
        self.audit = _Audit(self)
        self.corrections = _Corrections(self)
        self.documents = _Documents(self)
        self.dead_letters = _DeadLetters(self)
        self.outbox = _Outbox(self)
        self.totals = _Totals(self)
        self.vat_reads = _VatReads(self)
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.rollback()

    def commit(self) -> None:
        for table in self.dirty:
            setattr(self.store.tables, table, _clone(getattr(self.tables, table)))
        if self.writes:
            self.store.commits.append(tuple(self.writes))
        self.writes, self.dirty = [], set()

    def rollback(self) -> None:
        self.tables = _clone(self.store.tables)
        self.writes, self.dirty = [], set()

    def wrote(self, name: str, *tables: str) -> None:
        self.writes.append(name)
        self.dirty.update(tables)


def _clone(value: Any) -> Any:
    """A copy deep enough for the fake: containers and rows are copied, frozen values are shared."""
    if isinstance(value, Tables):
        return Tables(**{f.name: _clone(getattr(value, f.name)) for f in fields(Tables)})
    if isinstance(value, Row):
        return replace(value, vat_adjustment=dict(value.vat_adjustment))
    if isinstance(value, dict):
        return {k: _clone(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_clone(v) for v in value]
    if isinstance(value, set):
        return set(value)
    return value


class _Repo:
    def __init__(self, uow: FakeUnitOfWork) -> None:
        self.uow = uow

    @property
    def t(self) -> Tables:
        return self.uow.tables


class _Integrations(_Repo):
    def get(self, org: str, *, lock: bool = False) -> Integration | None:
        return self.t.integrations.get(org)

    def plan(self, org: str) -> AccountPlan | None:
        return self.t.plans.get(org)

    def known(self, orgs: Collection[str]) -> set[str]:
        return set(orgs) & set(self.t.integrations)

    def single_purpose(self, orgs: Collection[str]) -> dict[str, Mapping[str, int]]:
        return {org: dict(p.single_purpose_methods) if (p := self.t.plans.get(org)) else {} for org in orgs}


class _Jobs(_Repo):
    def _waiting(self, job: Job) -> bool:
        return job.id in self.t.job_delays or (job.id in self.t.parked and self.t.parked[job.id] > self.t.now)

    def lease_next(self, owner: str, lease: timedelta) -> Job | None:
        due = [j for j in self.t.jobs if not self._waiting(j)]
        busy = {
            (k.organization_id, k.store_id) for k in self.t.jobs if self.t.job_leases.get(k.id, owner) != owner
        }  # another worker runs a job of that store
        heads = [
            j
            for j in due
            if (j.organization_id, j.store_id) not in busy
            and not any(
                k.id < j.id
                and (k.organization_id, k.store_id) == (j.organization_id, j.store_id)
                and not (k.id in self.t.parked and self._waiting(k))  # a parked job holds up nobody
                for k in self.t.jobs
            )
        ]
        if not heads:
            return None
        job = min(heads, key=lambda j: j.id)
        self.t.job_leases[job.id] = owner
        self.uow.wrote("jobs.lease", "job_leases")
        return job

    def renew(self, job: Job, owner: str, lease: timedelta) -> bool:
        self.uow.wrote("jobs.renew", "job_leases")
        return self.t.job_leases.get(job.id) == owner

    def finish(self, job: Job) -> None:
        self.t.jobs = [j for j in self.t.jobs if j.id != job.id]
        self.t.sources.pop(job.id, None)
        self.t.parked.pop(job.id, None)
        self.t.job_leases.pop(job.id, None)
        self.uow.wrote("jobs.finish", "jobs", "sources", "parked", "job_leases")

    def park(self, job: Job, until: datetime) -> None:
        self.t.parked[job.id] = until
        self.t.job_leases.pop(job.id, None)
        self.uow.wrote("jobs.park", "jobs", "parked", "job_leases")

    def reschedule(self, job: Job, delay: timedelta) -> None:
        self.t.parked.pop(job.id, None)
        self.t.job_delays[job.id] = delay
        self.t.job_leases.pop(job.id, None)
        self.t.jobs = [replace(j, attempts=j.attempts + 1) if j.id == job.id else j for j in self.t.jobs]
        self.uow.wrote("jobs.reschedule", "jobs", "job_delays", "job_leases")

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
        if source_id in self.t.sources.values():
            return False
        next_id = max((j.id for j in self.t.jobs), default=self.t.last_job) + 1
        self.t.last_job = next_id
        self.t.sources[next_id] = source_id
        self.t.jobs.append(Job(next_id, org, store, day, trigger, 0, 0.0, z_report_number, register))
        self.uow.wrote("jobs.queue", "jobs", "sources", "last_job")
        return True


class _Exports(_Repo):
    def open(self, org: str, store: str) -> list[Export]:
        return [
            r.export
            for r in self.t.exports.values()
            if (r.export.organization_id, r.export.store_id) == (org, store) and r.export.status != ExportStatus.BOOKED
        ]

    def fresh_invoices(self, org: str, store: str) -> list[Export]:
        return [
            e
            for e in self.open(org, store)
            if e.invoice is not None and e.attempts == 0 and e.status == ExportStatus.POSTING
        ]

    def unexported_dates(self, org: str, store: str, since: date, until: date) -> list[tuple[date, str]]:
        return sorted(
            (d, r)
            for (o, s, d, r), items in self.t.unexported.items()
            if (o, s) == (org, store) and items and since <= d <= until
        )

    def has_unexported(self, org: str, store: str, day: date, *, register: str = "") -> bool:
        return bool(self.t.unexported.get((org, store, day, register)))

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
        key = (org, store, day, register)
        items = self.t.unexported.pop(key, [])
        if not items and not include_day_close:
            return None
        export_id = uuid.uuid4()
        claimed = DayTotals.of(store, day, items, single_purpose, register_id=register)
        whole = DayTotals.of(store, day, [*self._day_items(key), *items], single_purpose, register_id=register)
        complements = None if include_day_close else complements_z
        export = Export(
            export_id,
            "DC-" + export_id.hex[:16],
            org,
            store,
            day,
            trigger,
            ExportStatus.POSTING,
            0,
            None,
            claimed,
            whole,
            register,
            complements,
        )
        self.t.claimed[export_id] = list(items)
        self.t.exports[export_id] = Row(
            replace(export, totals=None, day=None), z_report_number=z_report_number if include_day_close else None
        )
        if include_day_close and z_report_number is not None:
            self.t.booked_z[(org, store, day, z_report_number, register)] = export_id
        self.uow.wrote("exports.claim", "unexported", "claimed", "exports", "booked_z")
        return export

    def _day_items(self, day: Day) -> list[SalesItem]:
        return [
            item
            for export_id, items in self.t.claimed.items()
            if _day_of(self.t.exports[export_id].export) == day
            for item in items
        ]

    def totals(self, export: Export, single_purpose: Mapping[str, int]) -> DayTotals:
        return DayTotals.of(
            export.store_id,
            export.business_date,
            self.t.claimed.get(export.export_id, []),
            single_purpose,
            register_id=export.register_id,
        )

    def resum(self, export: Export, single_purpose: Mapping[str, int]) -> DayTotals:
        return self.totals(export, single_purpose)

    def day_snapshot(self, export: Export) -> DayTotals | None:
        return DayTotals.of(
            export.store_id, export.business_date, self._day_items(_day_of(export)), register_id=export.register_id
        )

    def day_close(self, export: Export) -> StoredDayClose | None:
        z = self.t.exports[export.export_id].z_report_number
        if z is None:
            return None
        return self.t.day_closes.get((export.organization_id, export.store_id, export.business_date, z,
                                      export.register_id))  # fmt: skip

    def store_name(self, org: str, store: str) -> str:
        return store

    def posting_voucher(self, export: Export) -> tuple[Voucher, int] | None:
        row = self.t.exports[export.export_id]
        if row.export.status != ExportStatus.POSTING or row.voucher is None:
            return None
        return row.voucher, row.receipt_count

    def stored_voucher(self, export: Export) -> Voucher:
        voucher = self.t.exports[export.export_id].voucher
        if voucher is None:
            raise LookupError(export.export_id)
        return voucher

    def take_lease(self, export: Export, owner: str, lease: timedelta, voucher: Voucher, receipt_count: int) -> Lease:
        row = self.t.exports[export.export_id]
        if row.lease_owner not in (None, owner):
            return Lease.HELD_ELSEWHERE
        before, row.post_attempted = row.post_attempted, True
        row.lease_owner, row.voucher, row.receipt_count = owner, voucher, receipt_count
        self.uow.wrote("exports.take_lease", "exports")
        return Lease.POSTED_BEFORE if before else Lease.FIRST_POST

    def mark_booked(self, export: Export, booked: BookedVoucher, voucher: Voucher, receipt_count: int) -> None:
        row = self.t.exports[export.export_id]
        row.export = replace(row.export, status=ExportStatus.BOOKED, attempts=row.export.attempts + 1, reason_code=None)
        row.booked, row.voucher, row.lease_owner = booked, voucher, None
        self.uow.wrote("exports.mark_booked", "exports")

    def mark_failed(self, export: Export, status: ExportStatus, reason_code: str, details: Sequence[Detail]) -> None:
        row = self.t.exports[export.export_id]
        row.export = replace(row.export, status=status, attempts=row.export.attempts + 1, reason_code=reason_code)
        row.reason_details, row.lease_owner = tuple(details), None
        self.uow.wrote("exports.mark_failed", "exports")

    def release_empty(self, export: Export, reason_code: str = "NOTHING_TO_BOOK") -> None:
        row = self.t.exports[export.export_id]
        row.export = replace(row.export, status=ExportStatus.BOOKED, reason_code=reason_code)
        self.uow.wrote("exports.release_empty", "exports")

    def vat_adjustment(self, export: Export) -> dict[int, int]:
        return dict(self.t.exports[export.export_id].vat_adjustment)

    def set_vat_adjustment(self, export: Export, by_rate: dict[int, int]) -> None:
        self.t.exports[export.export_id].vat_adjustment = dict(by_rate)
        self.uow.wrote("exports.set_vat_adjustment", "exports")

    def booked_vat_adjustments(
        self, org: str, store: str, day: date, *, besides: uuid.UUID | None, register: str = ""
    ) -> dict[int, int]:
        return {}


def _day_of(export: Export) -> Day:
    return (export.organization_id, export.store_id, export.business_date, export.register_id)


class _DayCloses(_Repo):
    def get(
        self, org: str, store: str, day: date, z_report_number: int | None = None, *, register: str = ""
    ) -> StoredDayClose | None:
        found = sorted(
            (z, c)
            for (o, s, d, z, r), c in self.t.day_closes.items()
            if (o, s, d, r) == (org, store, day, register) and z_report_number in (None, z)
        )
        return found[-1][1] if found else None

    def _key(self, org: str, close: StoredDayClose) -> CloseKey:
        dc = close.day_close
        return org, dc.store_id, dc.business_date, dc.z_report_number, dc.register_id

    def later_exists(self, org: str, close: StoredDayClose) -> bool:
        o, s, d, z, r = self._key(org, close)
        return any(k[:3] == (o, s, d) and k[4] == r and k[3] > z for k in self.t.day_closes)

    def set_status(self, org: str, close: StoredDayClose, status: DayCloseStatus) -> None:
        key = self._key(org, close)
        self.t.day_closes[key] = replace(self.t.day_closes[key], status=status)
        self.uow.wrote(f"day_closes.{status.value}", "day_closes")

    def supersede_earlier(self, org: str, close: StoredDayClose) -> None:
        o, s, d, z, r = self._key(org, close)
        for key, c in list(self.t.day_closes.items()):
            if key[:3] == (o, s, d) and key[4] == r and key[3] < z and c.status.awaits_export:
                self.t.day_closes[key] = replace(c, status=DayCloseStatus.SUPERSEDED)
                self.uow.wrote("day_closes.superseded", "day_closes")

    def booked_cash_difference(self, org: str, close: StoredDayClose) -> int:
        o, s, d, z, r = self._key(org, close)
        return sum(
            c.day_close.cash_difference_ore
            for key, c in self.t.day_closes.items()
            if key[:3] == (o, s, d) and key[4] == r and key[3] < z and c.status == DayCloseStatus.EXPORTED
        )

    def claim_sequence_check(self, org: str, close: StoredDayClose) -> bool:
        key = self._key(org, close)
        if key in self.t.checked:
            return False
        self.t.checked.add(key)
        self.uow.wrote("day_closes.sequence_checked", "checked")
        return True

    def z_reports(self, org: str, store: str, around: date, *, register: str = "") -> list[tuple[date, int]]:
        return [(d, z) for o, s, d, z, r in self.t.day_closes if (o, s, r) == (org, store, register)]

    def chain(self, org: str, close: StoredDayClose) -> tuple[ChainEnd | None, ChainEnd, ChainEnd | None]:
        o, s, d, z, r = self._key(org, close)
        mine = sorted((k[2], k[3], k) for k in self.t.day_closes if (k[0], k[1], k[4]) == (o, s, r))
        at = [k for _, _, k in mine].index((o, s, d, z, r))

        def end(i: int) -> ChainEnd | None:
            if not 0 <= i < len(mine):
                return None
            key = mine[i][2]
            return ChainEnd(self.t.day_closes[key], key in self.t.chain_checked, 0 if key in self.t.booked_z else None)

        here = end(at)
        assert here is not None
        return end(at - 1), here, end(at + 1)

    def moved_between(self, org: str, earlier: ChainEnd, later: StoredDayClose) -> int:
        return 0  # the fake has no watermarks: cash chain figures are checked against PostgreSQL

    def record_chain(self, org: str, close: StoredDayClose, link: CashChainLink | None) -> bool:
        key = self._key(org, close)
        if key in self.t.chain_checked:
            return False
        self.t.chain_checked[key] = link
        self.uow.wrote("day_closes.chain_checked", "chain_checked")
        return True


class _Sales(_Repo):
    def ingest(self, envelopes: Sequence[SalesEnvelope], *, closing: Collection[RegisterDay] = ()) -> Ingested:
        """As PostgreSQL stores a batch: each id once (a repeat is ignored; this fake does not compare contents), the
        items before the day closes, and per register-day what it got and whether a Z-report of it was stored
        before this batch's own day closes (late sales), and the day closes stored now (their jobs are the
        handler's: service/sales.py)."""
        t, result = self.t, Ingested()
        got: dict[Day, list[int]] = {}
        for env in envelopes:
            if isinstance(env.item, DayClosed) or env.event_key in t.seen:
                continue
            t.seen.add(env.event_key)
            day = (env.organization_id, env.store_id, env.business_date, env.register_id)
            t.unexported.setdefault(day, []).append(env.item)
            t.last_sale += 1
            got.setdefault(day, []).append(t.last_sale)
        for day, ids in sorted(got.items()):
            closed = any(k[:3] == day[:3] and k[4] == day[3] for k in t.day_closes)
            result.written.append(Written(*day[:3], len(ids), ids[0], ids[-1], closed, day[3]))
            result.new += len(ids)
        for env in envelopes:
            if isinstance(env.item, DayClosed) and env.event_key not in t.seen:
                t.seen.add(env.event_key)
                dc = env.item.day_close
                key = (env.organization_id, env.store_id, env.business_date, dc.z_report_number, dc.register_id)
                t.day_closes[key] = StoredDayClose(dc, env.item.store_name, env.item.control, DayCloseStatus.OPEN)
                result.closed.append(NewDayClose(*key[:3], dc.register_id, dc.z_report_number, env.event_key))
                result.new += 1
        self.uow.wrote("sales.ingest", "seen", "unexported", "last_sale", "day_closes")
        return result


class _Totals(_Repo):
    def flush(self, pending: Mapping[RegisterDay, Pending], single_purpose_of: SinglePurposeOf) -> Flushed:
        raise NotImplementedError


class _VatReads(_Repo):
    """Read only by the VAT report and by a correction's new voucher, neither of which these tests book."""

    def z_days(self, org: str, start: date, end: date) -> list[ZDay]:
        raise NotImplementedError

    def bookings(self, org: str, start: date, end: date) -> list[StoredBooking]:
        raise NotImplementedError

    def bookings_of(self, org: str, export_ids: Collection[uuid.UUID]) -> list[StoredBooking]:
        raise NotImplementedError

    def posted(self, org: str, start: date, end: date) -> list[tuple[str, LedgerVoucher]]:
        raise NotImplementedError


class _Audit(_Repo):
    def record_booked(
        self,
        export: Export,
        booked: BookedVoucher,
        voucher: Voucher,
        receipt_count: int,
        names: ChartNames,
        years: list[FiscalYear],
    ) -> None:
        self.t.audit.append(export.export_id)
        self.t.exports[export.export_id].document = DocumentStatus.PENDING
        self.uow.wrote("audit.record_booked", "audit", "exports")


class _Corrections(_Repo):
    def of_reversal(self, export: Export) -> Correction | None:
        return None

    def may_date(self, correction: Correction) -> bool:
        return True

    def set_entry_date(self, correction: Correction, decided: CorrectionDate) -> None:
        raise NotImplementedError

    def of_new_export(self, export: Export) -> Correction | None:
        return None

    def complete(self, reversal: Export) -> bool:
        """Records the write; reports no original reversed (this fake keeps none), so no day is queued anew."""
        self.uow.wrote("corrections.complete")
        return False

    def booked_anew_by(self, export: Export) -> Correction | None:
        return None


class _Documents(_Repo):
    def pending(self, org: str, store: str) -> list[uuid.UUID]:
        return [
            i
            for i, r in self.t.exports.items()
            if r.document == DocumentStatus.PENDING and (r.export.organization_id, r.export.store_id) == (org, store)
        ]

    def source(self, export_id: uuid.UUID) -> ReportSource:
        row = self.t.exports[export_id]
        e, booked, voucher = row.export, row.booked, row.voucher
        if booked is None or voucher is None:
            raise LookupError(export_id)
        stored = {
            "text": voucher.text,
            "rows": [[r.account, r.amount_ore, r.cost_centre, r.text] for r in voucher.rows],
            "receipt_count": row.receipt_count,
        }
        return ReportSource(
            export_id,
            e.organization_id,
            e.store_id,
            e.store_id,
            "AB",
            e.business_date,
            e.trigger,
            e.reference,
            booked.series,
            booked.number,
            booked.entry_date,
            stored,
            row.z_report_number,
            None,
            [],
            [],
            [],
            None,
            None,
        )

    def begin_attach(self, export_id: uuid.UUID) -> AttachTarget:
        row = self.t.exports[export_id]
        before, row.attach_attempted = row.attach_attempted, True
        self.uow.wrote("documents.begin_attach", "exports")
        return AttachTarget(row.booked.entity_id if row.booked else None, before)

    def mark_attached(self, export_id: uuid.UUID, document_id: int, name: str) -> None:
        row = self.t.exports[export_id]
        row.document, row.document_id = DocumentStatus.ATTACHED, document_id
        self.uow.wrote("documents.mark_attached", "exports")

    def mark_failed(self, export_id: uuid.UUID, name: str, details: Sequence[Detail]) -> None:
        self.t.exports[export_id].document = DocumentStatus.FAILED
        self.uow.wrote("documents.mark_failed", "exports")


class _DeadLetters(_Repo):
    def record_once(self, topic: str, partition: int, offset: int, error_code: str) -> bool:
        key = (topic, partition, offset)
        new = key not in self.t.dead_letters
        self.t.dead_letters.add(key)
        self.uow.wrote("dead_letters.record", "dead_letters")
        return new


class _Outbox(_Repo):
    def outcome(self, event: Outcome) -> None:
        self.t.outbox.append(event)
        self.uow.wrote(f"outbox.{event.status.value}", "outbox")

    def dead_letter(self, letter: DeadLetter) -> None:
        raise NotImplementedError

    def command(self, command: Command) -> None:
        raise NotImplementedError

    def lock_publisher(self) -> bool:
        return True

    def unsent(self, limit: int, max_attempts: int) -> list[OutboxRow]:
        return []

    def mark_sent(self, ids: Sequence[int]) -> None:
        pass

    def count_refusals(self, refused: dict[int, str]) -> None:
        pass

    def depth(self) -> tuple[int, float]:
        return len(self.t.outbox), 0.0


class Crash(BaseException):
    """The process dies here (a SIGKILL): nothing after it runs, nothing it did not commit survives. A
    BaseException, so no handler of ours catches it (run_next_job catches Exception)."""


@dataclass
class FakeExporter:
    """BL as the test tells it to answer: ``failures`` are raised by ``export`` in turn, then it books.

    Like BL, it keeps what was booked and attached, and it counts its requests the way the BL adapter would make
    them: a look-up before a post unless the caller proved none was attempted (``maybe_posted=False``), and a
    read-back before an attach unless the caller proved none was attempted and knew the voucher's entity id.
    ``preflight_failures`` are raised by ``preflight`` in turn."""

    failures: list[ExportError] = field(default_factory=list)
    attach_failures: list[ExportError] = field(default_factory=list)
    preflight_failures: list[ExportError] = field(default_factory=list)
    posted: list[Voucher] = field(default_factory=list)
    attached: list[str] = field(default_factory=list)
    on_export: Callable[[Voucher], None] = lambda _voucher: None
    #: Every request in order: "look up", "post", "read back", "attach".
    requests: list[str] = field(default_factory=list)
    #: Where the process dies (:class:`Crash`), each once: "before post" (after the caller recorded it), "after post"
    #: (BL booked it; the answer never arrives), "before attach", "after attach" (BL attached it).
    crashes: set[str] = field(default_factory=set)

    def _crash(self, point: str) -> None:
        if point in self.crashes:
            self.crashes.discard(point)
            raise Crash(point)

    def verify(self, user_key: str) -> CompanyDetails:
        return CompanyDetails("AB", "5560000000")

    def preflight(
        self, voucher: Voucher, user_key: str, plan: AccountPlan | None = None, *, org: str | None = None
    ) -> None:
        if self.preflight_failures:
            raise self.preflight_failures.pop(0)

    def export(
        self,
        voucher: Voucher,
        user_key: str,
        attachment: Attachment | None = None,
        *,
        maybe_posted: bool = True,
        org: str | None = None,
    ) -> BookedVoucher:
        self.on_export(voucher)
        if maybe_posted:
            self.requests.append("look up")
            found = [i for i, v in enumerate(self.posted) if v.reference == voucher.reference]
            if found:
                return self._booked(voucher, found[0] + 1, already_existed=True)
        self._crash("before post")
        self.requests.append("post")
        if self.failures:
            raise self.failures.pop(0)
        self.posted.append(voucher)
        self._crash("after post")
        return self._booked(voucher, len(self.posted), already_existed=False)

    @staticmethod
    def _booked(voucher: Voucher, number: int, already_existed: bool) -> BookedVoucher:
        return BookedVoucher(
            voucher.series, number, voucher.entry_date, voucher.reference, already_existed, entity_id=50_000 + number
        )

    def fiscal_years(self, user_key: str, *, fresh: bool = False) -> list[FiscalYear]:
        return []

    def fiscal_year_for(self, user_key: str, day: date, *, org: str | None = None) -> FiscalYear | None:
        return None

    def chart_names(
        self, user_key: str, accounts: Collection[str], cost_centres: Collection[str] = (), *, org: str | None = None
    ) -> ChartNames:
        return ChartNames()

    def attach_document(
        self, user_key: str, voucher: VoucherLocation, attachment: Attachment, *, maybe_attached: bool = True
    ) -> AttachedDocument:
        if maybe_attached or voucher.entity_id is None:
            self.requests.append("read back")
            if attachment.filename in self.attached:
                return AttachedDocument(self.attached.index(attachment.filename) + 1, attachment.filename, True)
        self._crash("before attach")
        self.requests.append("attach")
        if self.attach_failures:
            raise self.attach_failures.pop(0)
        self.attached.append(attachment.filename)
        self._crash("after attach")
        return AttachedDocument(len(self.attached), attachment.filename, False)


@dataclass
class FakeReports:
    #: The process dies (:class:`Crash`) while rendering this many reports: after booking, before any attach.
    crashes: int = 0

    def render(self, source: ReportSource, names: ChartNames) -> Attachment:
        if self.crashes:
            self.crashes -= 1
            raise Crash("rendering the day report")
        return Attachment(f"{source.reference}.pdf", b"%PDF-fake")


def outcomes(store: Store) -> list[tuple[str, str | None]]:
    """(status, reason code) of every committed outcome event."""
    return [(o.status.value, o.reason_code) for o in store.tables.outbox]

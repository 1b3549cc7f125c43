"""The fake database the repositories of the unit of work share: its tables, a row of each export, and what a
repository needs of its unit of work (the tables as this transaction sees them, and a way to name each write)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any, Protocol

from mapping.cashchain import CashChainLink
from mapping.plan import AccountPlan
from mapping.voucher import Voucher
from service.exporter import BookedVoucher
from service.messages import Detail, Outcome, SalesItem
from service.model import DocumentStatus, Export, Integration, Job, StoredDayClose

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
    #: When the last attempt recorded its end (the tables' clock): its posts were all sent before.
    attempt_ended: datetime | None = None


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

    def copy(self) -> Tables:
        """A copy deep enough for the fake: containers and rows are copied, frozen values are shared."""
        return Tables(**{f.name: clone(getattr(self, f.name)) for f in fields(Tables)})


def clone(value: Any) -> Any:
    """A copy of one table (see :meth:`Tables.copy`)."""
    if isinstance(value, Row):
        return replace(value, vat_adjustment=dict(value.vat_adjustment))
    if isinstance(value, dict):
        return {k: clone(v) for k, v in value.items()}
    if isinstance(value, list):
        return [clone(v) for v in value]
    if isinstance(value, set):
        return set(value)
    return value


def day_of(export: Export) -> Day:
    return (export.organization_id, export.store_id, export.business_date, export.register_id)


class Transaction(Protocol):
    """What a repository uses of its unit of work."""

    @property
    def tables(self) -> Tables: ...

    def wrote(self, name: str, *tables: str) -> None:
        """Name a write (it is listed in ``Store.commits`` once committed) and the tables it changed."""
        ...


class Repo:
    """A repository of the fake unit of work: reads and writes the tables of its transaction."""

    def __init__(self, uow: Transaction) -> None:
        self.uow = uow

    @property
    def t(self) -> Tables:
        return self.uow.tables

"""The ports of the export handlers: integrations, the job queue, exports and their leases, day closes."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Protocol

from mapping.cashchain import CashChainLink
from mapping.plan import AccountPlan
from mapping.totals import DayTotals
from mapping.voucher import Voucher
from service.exporter import BookedVoucher
from service.messages import Detail, Trigger
from service.model import (
    DayCloseStatus,
    Export,
    ExportStatus,
    Integration,
    Job,
    LeaseTaken,
    StoredDayClose,
)


class Integrations(Protocol):
    def get(self, org: str, *, lock: bool = False) -> Integration | None: ...

    def plan(self, org: str) -> AccountPlan | None: ...

    def known(self, orgs: Collection[str]) -> set[str]:
        """The organizations among ``orgs`` that have an integration."""
        ...

    def single_purpose(self, orgs: Collection[str]) -> dict[str, Mapping[str, int]]:
        """Each organization's single-purpose gift card methods (method → VAT rate); empty without a plan."""
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


class Jobs(JobQueue, Protocol):
    def lease_next(self, owner: str, lease: timedelta) -> Job | None:
        """Lease the next due job whose store has no older job to ``owner`` (the lease is the claim, once committed);
        a lease lapses after ``lease`` and is void when its process is gone."""
        ...

    def renew(self, job: Job, owner: str, lease: timedelta) -> bool:
        """The lease runs ``lease`` from now again; False when ``owner`` no longer holds it."""
        ...

    def finish(self, job: Job, owner: str) -> bool:
        """The job is done and gone. Like :meth:`reschedule` and :meth:`park`, only while ``owner`` holds its lease:
        False (nothing written) when another worker took it over; its new holder decides."""
        ...

    def reschedule(self, job: Job, delay: timedelta, owner: str) -> bool:
        """Run it again after ``delay``; the lease ends."""
        ...

    def park(self, job: Job, *, until: datetime, owner: str) -> bool:
        """Run the job again at ``until`` without holding up the store's other jobs meanwhile."""
        ...


class Exports(Protocol):
    def open(self, org: str, store: str) -> list[Export]:
        """The store's exports not yet booked, oldest first."""
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

    def take_lease(
        self, export: Export, owner: str, lease: timedelta, voucher: Voucher, receipt_count: int
    ) -> LeaseTaken:
        """Store the exact voucher about to be posted, lease the export to ``owner`` and record that a post is
        attempted; say whether an earlier attempt was recorded (read under the row's lock) and how long ago it may
        last have posted (:class:`service.model.LeaseTaken`), or that another worker holds the lease (nothing
        written)."""
        ...

    def let_go(self, export: Export, owner: str) -> None:
        """End ``owner``'s lease of the export, if it still holds it, as an attempt that ended (its end recorded now:
        the next attempt's look-up waits the quiet period from it). Nothing else changes."""
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

    def z_reports(self, org: str, store: str, around: date, *, register: str = "") -> list[tuple[date, int]]:
        """(business date, Z number) of the register's Z-reports within a year either side of ``around``."""
        ...

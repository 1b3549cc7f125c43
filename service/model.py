"""The export service's domain objects: jobs, exports, day closes and integrations as the service layer
sees them, with their states as enums. Storage maps the enums to the text columns and CHECK constraints of
the schema (``storage/migrations``); nothing in the service layer compares bare strings.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from mapping.periods import PeriodChoice
from mapping.reconcile import ControlTotals
from mapping.register_day import CashMovement, DayClose, GiftCardExpiry
from mapping.sales import Invoice, Receipt
from mapping.totals import DayTotals
from mapping.vatperiods import DEFAULT_REPORTING, VatReporting
from service.messages import Trigger
from service.secrets import Secret


class ExportStatus(StrEnum):
    """``posting``: claimed, maybe in BL (the next attempt looks it up first); ``booked``; ``failed``: refused
    for a reason someone must fix, kept and retried after the fix."""

    POSTING = "posting"
    BOOKED = "booked"
    FAILED = "failed"


class Lease(StrEnum):
    """What taking an export's lease found (:meth:`service.ports.Exports.take_lease`). The lease records, in the same
    commit, that a post of the export is about to be attempted."""

    #: Leased, and no earlier post attempt is recorded: no voucher of this export can be in BL.
    FIRST_POST = "first_post"
    #: Leased after an earlier post attempt (which may have reached BL): look the reference up before posting.
    POSTED_BEFORE = "posted_before"
    #: Another worker holds the lease: not posted by this one.
    HELD_ELSEWHERE = "held_elsewhere"


@dataclass(frozen=True)
class LeaseTaken:
    """What taking an export's lease found, and for :attr:`Lease.POSTED_BEFORE` how long ago (seconds, by the
    database's clock) the earlier attempt may last have sent a post: the time since it recorded its end, or 0 when
    it left none (its process died, or its lease ran out, with a post maybe on its way to BL). BL may still be
    committing a post sent that recently, so the look-up waits for the rest of the exporter's quiet period."""

    kind: Lease
    last_post_s_ago: float | None = None


class DayCloseStatus(StrEnum):
    OPEN = "open"
    MISMATCH = "mismatch"  # does not add up to its Z-report (reported once)
    EXPORTED = "exported"
    SUPERSEDED = "superseded"  # a later Z-report of the same day covers it

    @property
    def awaits_export(self) -> bool:
        return self in (DayCloseStatus.OPEN, DayCloseStatus.MISMATCH)


class DocumentStatus(StrEnum):
    """The day report attached to a booked voucher: ``pending`` → ``attached`` | ``failed``."""

    PENDING = "pending"
    ATTACHED = "attached"
    FAILED = "failed"


class IntegrationStatus(StrEnum):
    SETUP = "setup"
    ACTIVE = "active"
    INACTIVE = "inactive"


class DeactivatedBy(StrEnum):
    MERCHANT = "MERCHANT"
    BL = "BL"


@dataclass(frozen=True)
class Job:
    """A queued export job: one store's day close, manual export, retry or correction."""

    id: int
    organization_id: str
    store_id: str
    business_date: date | None
    trigger: Trigger
    attempts: int
    age_seconds: float
    z_report_number: int | None = None
    #: The register whose day this job closes (None: a job for the store or its days, every register).
    register_id: str | None = None


@dataclass(frozen=True)
class Export:
    """The durable identity of one voucher we try to book (its ``reference`` goes into the voucher text)."""

    export_id: uuid.UUID
    reference: str
    organization_id: str
    store_id: str
    business_date: date
    trigger: Trigger
    status: ExportStatus
    attempts: int
    reason_code: str | None
    #: What this export books, when it was just claimed (so it is not read a second time).
    totals: DayTotals | None = None
    #: The whole register-day's totals when it was just claimed (what its day close reconciles against).
    day: DayTotals | None = None
    #: The register whose day it books ("": the store's one register).
    register_id: str = ""
    #: Late sales booked without a Z-report of their own: the booked Z-report of the day they complement.
    complements_z: int | None = None
    #: One sale paid by invoice, booked as its own voucher (storage/invoices.py).
    invoice: Invoice | None = None


@dataclass(frozen=True)
class AttachTarget:
    """Where a booked export's day report goes, and whether an attach of it was attempted before
    (:meth:`service.ports.Documents.begin_attach`, which records this attempt in the same commit)."""

    #: BL's entity id of the voucher, kept from its booking (None for a voucher booked before it was kept).
    entity_id: int | None
    #: An earlier attach request may have reached BL: read the voucher back and look for ours first.
    attempted_before: bool
    #: Seconds (the database's clock) since the last earlier attempt began: a request of one whose process died
    #: may still be being committed by BL, so the read-back waits for the rest of the exporter's quiet period.
    last_attempt_s_ago: float | None = None

    @property
    def direct(self) -> bool:
        """Nothing of ours can be on the voucher and we know where it is: attach without reading it back."""
        return self.entity_id is not None and not self.attempted_before


@dataclass(frozen=True)
class StoredDayClose:
    day_close: DayClose
    store_name: str
    control: ControlTotals
    status: DayCloseStatus


@dataclass(frozen=True)
class Integration:
    """One merchant organization's integration: the one reading of the ``integrations`` table (with its
    account plan's version). ``user_key`` is the merchant's BL key, decrypted, never logged."""

    organization_id: str
    status: IntegrationStatus
    start_date: date | None
    user_key: Secret | None
    key_hint: str | None = None
    company_name: str | None = None
    company_org_number: str | None = None
    key_verified_at: datetime | None = None
    activated_at: datetime | None = None
    deactivated_at: datetime | None = None
    deactivated_by: DeactivatedBy | None = None
    plan_version: int | None = None
    #: How often the merchant files the VAT return (the assumed default while unset: ``is_set`` False).
    vat_reporting: VatReporting = DEFAULT_REPORTING

    @property
    def is_active(self) -> bool:
        return self.active() is not None

    def active(self) -> ActiveIntegration | None:
        """What an export needs of an active integration: its key and start date (None when not active)."""
        if self.status != IntegrationStatus.ACTIVE or self.user_key is None or self.start_date is None:
            return None
        return ActiveIntegration(self.organization_id, self.user_key, self.start_date)


@dataclass(frozen=True)
class ActiveIntegration:
    organization_id: str
    user_key: Secret
    start_date: date


@dataclass(frozen=True)
class Correction:
    correction_id: uuid.UUID
    business_date: date
    originals: list[dict[str, Any]]
    entry_date: date | None
    new_export_id: uuid.UUID | None
    #: The day the correction was made: the day the error is found (Europe/Stockholm).
    found_on: date
    #: Where it is asked to be dated: where the error is found, or the original period (with a statement).
    requested_period: PeriodChoice = PeriodChoice.FOUND

    @property
    def not_before(self) -> date:
        """The latest entry date among the vouchers reversed: a reversal never precedes what it reverses."""
        return max([self.business_date, *(date.fromisoformat(o["entry_date"]) for o in self.originals)])


@dataclass(frozen=True)
class StoredBooking:
    """A booked voucher as the VAT report reads it: where it is in BL, what it is, and what its export claimed
    (``totals``; for a reversal, the reversed export's; None when that cannot be read any more) with the
    Z_REPORT VAT rounding it booked."""

    export_id: uuid.UUID
    reference: str
    series: str
    number: int
    entry_date: date
    store_id: str
    business_date: date
    trigger: str
    z_report_number: int | None
    reverses: bool
    #: The new voucher of a correction.
    corrects: bool
    #: An earlier voucher of the same register-day was booked before it (not counting reversals).
    earlier_booked: bool
    totals: DayTotals | None
    vat_adjustment: dict[int, int]
    #: The register whose Z-report the voucher books ("" for a store's only one).
    register_id: str = ""


@dataclass(frozen=True)
class ReportSource:
    """Everything the day report of one booked export is made of, read in one place."""

    export_id: uuid.UUID
    organization_id: str
    store_id: str
    store_name: str
    company_name: str
    business_date: date
    trigger: Trigger
    reference: str
    series: str
    number: int
    entry_date: date
    voucher: dict[str, Any]
    z_report_number: int | None
    control: ControlTotals | None
    receipts: list[Receipt]
    receipt_numbers: list[str]
    complements: list[str]
    reverses: str | None
    correction: dict[str, Any] | None
    late_after: str | None = None
    #: Issue #21: what the report needs to support every row (exporters/dayreport_books.py).
    org_number: str | None = None
    register_id: str = ""
    #: When the voucher was booked (the report's compiled date, Bokföringslagen 5 kap. 7 §).
    booked_on: date | None = None
    #: The cash movements and gift card expiries this export books (its receipts are ``receipts``).
    others: list[CashMovement | GiftCardExpiry] = field(default_factory=list)
    #: For a day-close export: the Z-report as reconciled, the whole register-day's totals then, the cash difference
    #: earlier Z-reports of the day booked, their numbers, and the cash chain's line.
    day_close: DayClose | None = None
    day: DayTotals | None = None
    cash_booked_before: int = 0
    superseded: list[int] = field(default_factory=list)
    cash_chain: str | None = None
    complements_z: int | None = None
    invoice: Invoice | None = None

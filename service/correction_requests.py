"""Correct a booked store-day: a booked day is never edited. Every booked voucher of it not reversed yet is
reversed (an exact reversal voucher referencing the original) under one correction, and only once a reversal is
booked is its original marked reversed, which releases its sales for the day's export anew through the current
account plan. Both steps are exports with durable identities, so a crash or a timeout anywhere in between is
retried without booking anything twice.

This module decides, over two narrow ports: which vouchers a correction reverses (refusing a day with nothing
booked, or whose sales retention has purged: reversing it would leave the day unbooked), the reversal vouchers
(:func:`mapping.reversal.reverse`) and their identities (``RV-…``), and the jobs (a CORRECTION job per reversal; the
day's export anew once a reversal is booked). Storage (:mod:`storage.corrections`) loads the originals under a lock
and stores what was decided. Who asked, when and why is stored with the correction (Bokföringslagen 5 kap. 5 §);
its date is decided later by the export worker from BL's fiscal years (:mod:`service.corrections`).

Reached through :mod:`service.bus` by the API (``POST …/exports/{id}/corrections``) and ``dayclose reexport``
(:class:`CorrectDay`); by the export worker when a reversal is booked (:func:`complete`). The caller commits.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Protocol

from mapping.periods import PeriodChoice
from mapping.reversal import reverse
from mapping.voucher import Voucher
from service.messages import Trigger
from service.model import Export
from service.ports import JobQueue


class NothingToCorrect(LookupError):
    """The store-day has no booked voucher left to reverse, one is being reversed already, or its sales were
    purged (the API answers 409 ``NOTHING_TO_CORRECT``, the CLI exits 1)."""


@dataclass(frozen=True)
class CorrectDay:
    """Correct a booked store-day (the API's and the CLI's request)."""

    organization_id: str
    store_id: str
    business_date: date
    reason: str
    requested_by: str
    via: str = "CLI"
    period: PeriodChoice = PeriodChoice.FOUND
    #: With ``period`` ORIGINAL: the accountant's statement that the work on that period is not finished.
    statement: str | None = None
    #: The day the correction is made (default: today in Stockholm, by the database's clock).
    found_on: date | None = None


@dataclass(frozen=True)
class Requested:
    correction_id: uuid.UUID
    reversal_export_ids: list[uuid.UUID]


@dataclass(frozen=True)
class BookedOriginal:
    """A booked voucher of the store-day, not reversed yet (locked until the caller's transaction ends)."""

    export_id: uuid.UUID
    voucher: Voucher
    reference: str
    series: str
    number: int
    #: Sales events the export booked, and whether any of its rows is still stored (retention purges them).
    event_count: int
    sales_kept: bool


@dataclass(frozen=True)
class NewCorrection:
    correction_id: uuid.UUID
    request: CorrectDay
    originals: list[BookedOriginal]


@dataclass(frozen=True)
class NewReversal:
    """A reversal export to store: posting, booking no sale of its own, naming its original and its correction."""

    export_id: uuid.UUID
    reference: str
    voucher: Voucher
    original_id: uuid.UUID
    correction_id: uuid.UUID


class CorrectionStore(Protocol):
    def booked_originals(self, org: str, store: str, day: date) -> list[BookedOriginal]:
        """The store-day's booked vouchers not reversed (nor being reversed), oldest first, locked."""
        ...

    def record(self, correction: NewCorrection) -> None:
        """Store the correction: who asked, when and why, and the vouchers it replaces."""
        ...

    def add_reversal(self, correction: NewCorrection, reversal: NewReversal) -> bool:
        """Store the reversal export; False when another correction of the same voucher committed meanwhile (the
        transaction cannot go on then: the caller raises)."""
        ...


class ReversalsBooked(Protocol):
    def complete(self, reversal: Export) -> bool:
        """The reversal booked: mark its original reversed (releasing its sales) and its day close open again;
        False when ``reversal`` reverses nothing (nothing done)."""
        ...


class CompletionWork(Protocol):
    """What completing a correction uses of a unit of work."""

    @property
    def corrections(self) -> ReversalsBooked: ...

    @property
    def jobs(self) -> JobQueue: ...


class CorrectionWork(Protocol):
    """What correcting uses of a unit of work (:class:`service.ports.UnitOfWork` has all of it)."""

    @property
    def corrections(self) -> CorrectionStore: ...

    @property
    def jobs(self) -> JobQueue: ...


def correct_day(uow: CorrectionWork, command: CorrectDay) -> Requested:
    """Queue the reversal of every booked, not yet reversed voucher of the store-day under one correction: a
    reversal export per voucher, posting, with its CORRECTION job. The re-export follows by itself once each
    reversal is booked (:func:`complete`). Raises :class:`NothingToCorrect`, or ValueError for the original period
    without the statement."""
    org, store, day = command.organization_id, command.store_id, command.business_date
    if command.period == PeriodChoice.ORIGINAL and not (command.statement or "").strip():
        raise ValueError("a correction in the original period needs the statement that its work is not finished")
    originals = uow.corrections.booked_originals(org, store, day)
    if not originals:
        raise NothingToCorrect(f"no booked voucher to correct for store {store} on {day}")
    purged = [o.reference for o in originals if o.event_count and not o.sales_kept]
    if purged:
        # Reversing would leave the day unbooked: the sales to book it anew are gone (retention).
        raise NothingToCorrect(f"the sales of {', '.join(purged)} were purged; correct it by hand in BL")
    correction = NewCorrection(uuid.uuid4(), command, originals)
    uow.corrections.record(correction)
    created = []
    for original in originals:
        export_id = uuid.uuid4()
        reference = "RV-" + export_id.hex[:16]
        voucher = reverse(
            original.voucher,
            reference=reference,
            original_voucher=f"{original.series} {original.number}",
            business_date=day,
        )
        reversal = NewReversal(export_id, reference, voucher, original.export_id, correction.correction_id)
        if not uow.corrections.add_reversal(correction, reversal):
            raise NothingToCorrect(f"a correction of store {store} on {day} is already queued")
        uow.jobs.queue(org, store, day, Trigger.CORRECTION, f"correction:{export_id}")
        created.append(export_id)
    return Requested(correction.correction_id, created)


def complete(uow: CompletionWork, reversal: Export) -> None:
    """A reversal is booked: its original is marked reversed (its sales are released: the day's next claim books
    them again) and the register-day's export is queued anew, once per reversal. In the transaction that records
    the reversal as booked."""
    if uow.corrections.complete(reversal):
        uow.jobs.queue(
            reversal.organization_id,
            reversal.store_id,
            reversal.business_date,
            Trigger.DAY_CLOSE,
            f"reexport:{reversal.export_id}",
            register=reversal.register_id,
        )

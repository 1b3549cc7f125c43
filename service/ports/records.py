"""The ports of what a booked export leaves behind and what goes out: the audit record, corrections, the VAT
reads, documents, dead letters and the outbox."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Protocol

from mapping.ledger import LedgerVoucher
from mapping.periods import CorrectionDate, FiscalYear
from mapping.vatreport import ZDay
from mapping.voucher import Voucher
from service.exporter import BookedVoucher, ChartNames
from service.messages import Command, DeadLetter, Detail, Outcome
from service.model import (
    AttachTarget,
    Correction,
    Export,
    ReportSource,
    StoredBooking,
)


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

    def attach_ended(self, export_id: uuid.UUID) -> None:
        """The attempt BL could not take ended now (the document stays pending): an attach request of it may have been
        sent until now, so the next attempt's read-back counts its wait from now, not from when this one began
        (its retries inside the call may have run longer than the quiet period)."""
        ...

    def mark_attached(self, export_id: uuid.UUID, document_id: int, name: str) -> None: ...

    def mark_failed(self, export_id: uuid.UUID, name: str, details: Sequence[Detail]) -> None: ...


class DeadLetters(Protocol):
    def record_once(self, topic: str, partition: int, offset: int, error_code: str) -> bool:
        """False when this message was dead-lettered before (a redelivery)."""
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

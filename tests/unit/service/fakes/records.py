"""Fakes of what a booked export leaves behind and what goes out (:mod:`service.ports.records`): the audit record,
corrections, the VAT reads, documents, dead letters and the outbox, over the fake tables."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from datetime import date

from mapping.ledger import LedgerVoucher
from mapping.periods import CorrectionDate, FiscalYear
from mapping.vatreport import ZDay
from mapping.voucher import Voucher
from service.exporter import BookedVoucher, ChartNames
from service.messages import Command, DeadLetter, Detail, Outcome
from service.model import AttachTarget, Correction, DocumentStatus, Export, ReportSource, StoredBooking
from service.ports import OutboxRow
from tests.unit.service.fakes.tables import Repo


class FakeVatReads(Repo):
    """Read only by the VAT report and by a correction's new voucher, neither of which these tests book."""

    def z_days(self, org: str, start: date, end: date) -> list[ZDay]:
        raise NotImplementedError

    def bookings(self, org: str, start: date, end: date) -> list[StoredBooking]:
        raise NotImplementedError

    def bookings_of(self, org: str, export_ids: Collection[uuid.UUID]) -> list[StoredBooking]:
        raise NotImplementedError

    def posted(self, org: str, start: date, end: date) -> list[tuple[str, LedgerVoucher]]:
        raise NotImplementedError


class FakeAudit(Repo):
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


class FakeCorrections(Repo):
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


class FakeDocuments(Repo):
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
        # The fake has no clock here: an earlier attempt is as recent as can be (the read-back waits the quiet).
        return AttachTarget(row.booked.entity_id if row.booked else None, before, 0.0 if before else None)

    def attach_ended(self, export_id: uuid.UUID) -> None:
        self.uow.wrote("documents.attach_ended", "exports")

    def mark_attached(self, export_id: uuid.UUID, document_id: int, name: str) -> None:
        row = self.t.exports[export_id]
        row.document, row.document_id = DocumentStatus.ATTACHED, document_id
        self.uow.wrote("documents.mark_attached", "exports")

    def mark_failed(self, export_id: uuid.UUID, name: str, details: Sequence[Detail]) -> None:
        self.t.exports[export_id].document = DocumentStatus.FAILED
        self.uow.wrote("documents.mark_failed", "exports")


class FakeDeadLetters(Repo):
    def record_once(self, topic: str, partition: int, offset: int, error_code: str) -> bool:
        key = (topic, partition, offset)
        new = key not in self.t.dead_letters
        self.t.dead_letters.add(key)
        self.uow.wrote("dead_letters.record", "dead_letters")
        return new


class FakeOutbox(Repo):
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

"""The service's messages on the wire: outcomes, dead letters and BackOffice's commands as Avro records of
``schemas/``, encoded for their topics. Storage writes what this returns into the outbox, in the
transaction of the state change it reports (:class:`service.ports.EventEncoder`)."""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime
from typing import Any

import schemas
from consumer.codec import AvroCodec, SchemaRegistry
from service.messages import Command, DeadLetter, ManualExportRequested, Outcome
from service.ports import OutboxMessage
from service.reasons import reason

#: A dead letter must itself fit in a Kafka message; larger originals stay readable at their offset.
MAX_DEAD_LETTER_VALUE_BYTES = 512 * 1024
MANUAL_EXPORT = "dayclose.backoffice.v1.ManualExportRequested"
RETRY_FAILED = "dayclose.backoffice.v1.RetryFailedExports"


class AvroEvents:
    """Encodes outcomes, dead letters and commands for their topics (Avro, single-object or registry framing)."""

    def __init__(
        self, outcomes_topic: str, dead_letter_topic: str, commands_topic: str, registry: SchemaRegistry | None = None
    ) -> None:
        self.outcomes = AvroCodec(schemas.EXPORT_OUTCOME, outcomes_topic, registry)
        self.dead_letters = AvroCodec(schemas.DEAD_LETTER, dead_letter_topic, registry)
        self.commands = AvroCodec(schemas.COMMAND, commands_topic, registry)

    def outcome(self, event: Outcome) -> OutboxMessage:
        key = event.organization_id.encode() if event.organization_id else None
        value = self.outcomes.encode(outcome_record(event))
        return OutboxMessage(self.outcomes.topic, schemas.EXPORT_OUTCOME, key, value)

    def dead_letter(self, letter: DeadLetter) -> OutboxMessage:
        record = letter_record(letter)
        return OutboxMessage(
            self.dead_letters.topic, schemas.DEAD_LETTER, record["original_key"], self.dead_letters.encode(record)
        )

    def command(self, command: Command) -> OutboxMessage:
        """Keyed by organization, so one merchant's commands stay in order."""
        return OutboxMessage(
            self.commands.topic,
            schemas.COMMAND,
            command.organization_id.encode(),
            self.commands.encode(command_record(command)),
        )


def outcome_record(event: Outcome, now: datetime | None = None) -> dict[str, Any]:
    """The ``ExportOutcome`` record, with the failure's texts from the reason-code registry."""
    failure = None
    if event.reason_code is not None:
        r = reason(event.reason_code)
        failure = {
            "reason_code": event.reason_code,
            "severity": r.severity.value,
            "merchant_action_required": r.merchant_action_required,
            "will_retry": r.will_retry,
            "title_sv": r.title_sv,
            "message_sv": r.message_sv,
            "title_en": r.title_en,
            "message_en": r.message_en,
            "details": [d.as_json() for d in event.details],
        }
    voucher = event.voucher
    return {
        "event_id": str(uuid.uuid4()),
        "organization_id": event.organization_id,
        "store_id": event.store_id,
        "business_date": event.business_date,
        "export_id": event.export_id,
        "occurred_at": now or datetime.now(UTC),
        "status": str(event.status),
        "trigger": str(event.trigger),
        "voucher": None
        if voucher is None
        else {
            "series": voucher.series,
            "number": voucher.number,
            "entry_date": voucher.entry_date,
            "total_debit_ore": voucher.total_debit_ore,
            "receipt_count": voucher.receipt_count,
            "already_existed": voucher.already_existed,
        },
        "failure": failure,
    }


def letter_record(letter: DeadLetter) -> dict[str, Any]:
    return dead_letter_record(
        topic=letter.topic,
        partition=letter.partition,
        offset=letter.offset,
        key=letter.key,
        value=letter.value,
        error_code=letter.error_code,
        error_message=letter.error_message,
    )


def dead_letter_record(
    *,
    topic: str,
    partition: int,
    offset: int,
    key: bytes | None,
    value: bytes | None,
    error_code: str,
    error_message: str,
) -> dict[str, Any]:
    if value is not None and len(value) > MAX_DEAD_LETTER_VALUE_BYTES:
        digest = hashlib.sha256(value).hexdigest()
        error_message = (
            f"{error_message}; original value ({len(value)} bytes, sha256 {digest}) not copied: "
            f"read it at {topic}/{partition}/{offset}"
        )
        value = None
    return {
        "dead_letter_id": str(uuid.uuid4()),
        "source_topic": topic,
        "source_partition": partition,
        "source_offset": offset,
        "original_key": key,
        "original_value": value,
        "error_code": error_code,
        "error_message": error_message[:2000],
        "failed_at": datetime.now(UTC),
    }


def command_record(command: Command) -> dict[str, Any]:
    """The ``DaycloseCommand`` record (schemas/command.avsc)."""
    kind = MANUAL_EXPORT if isinstance(command, ManualExportRequested) else RETRY_FAILED
    return {
        "command_id": command.command_id,
        "organization_id": command.organization_id,
        "requested_at": command.requested_at,
        "requested_by": command.requested_by,
        "payload": (kind, {"store_id": command.store_id}),
    }

"""What storage needs from the edges (a cipher for merchants' keys, an encoder for outbox events, the day-report
renderer), and the two storage errors the service sees instead of a driver's exception."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from service.exporter import Attachment, ChartNames
from service.messages import Command, DeadLetter, Outcome
from service.model import (
    ReportSource,
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

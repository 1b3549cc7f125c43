"""The typed messages both sides need: what the Kafka edge decodes (sales, day closes, commands) and what
the service emits (outcomes, dead letters, commands). Frozen dataclasses over :mod:`mapping.sales` (and
:mod:`mapping.register_day`) types; the wire forms live at the edge (:mod:`consumer.records`,
:mod:`consumer.events`), the stored forms in :mod:`storage.codecs`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any

import msgspec

from mapping.reconcile import ControlTotals
from mapping.register_day import CashMovement, DayClose, GiftCardExpiry
from mapping.sales import Receipt

SalesItem = Receipt | CashMovement | GiftCardExpiry


@dataclass(frozen=True, slots=True)
class DayClosed:
    day_close: DayClose
    store_name: str
    control: ControlTotals
    closed_at: datetime


class SalesEnvelope(msgspec.Struct, frozen=True, gc=False):
    """One sales event as decoded: a msgspec Struct like the receipt it carries (built in C: one per event ingested,
    a tenth of a frozen dataclass's cost); it holds no reference back, so the cyclic collector need not track it."""

    event_id: str
    organization_id: str
    store_id: str
    business_date: date
    occurred_at: datetime
    item: SalesItem | DayClosed

    @property
    def kind(self) -> str:
        return _KIND[type(self.item)]

    @property
    def register_id(self) -> str:
        """The register the event happened at ("": the store's one register)."""
        item = self.item
        return item.day_close.register_id if isinstance(item, DayClosed) else item.register_id

    @property
    def event_key(self) -> str:
        """Idempotency key of the item within its organization (receipt id, movement id, ...)."""
        item = self.item
        if isinstance(item, Receipt):
            return f"receipt:{item.receipt_id}"
        if isinstance(item, CashMovement):
            return f"cash:{item.movement_id}"
        if isinstance(item, GiftCardExpiry):
            return f"giftcard:{item.expiry_id}"
        # Z numbers run per register: two registers' Z 7 of one day are two Z-reports.
        till = f"{item.day_close.register_id}:" if item.day_close.register_id else ""
        return f"dayclose:{self.store_id}:{till}{self.business_date}:{item.day_close.z_report_number}"


_KIND: dict[type, str] = {
    Receipt: "receipt",
    CashMovement: "cash_movement",
    GiftCardExpiry: "gift_card_expired",
    DayClosed: "day_closed",
}


@dataclass(frozen=True, slots=True)
class ManualExportRequested:
    command_id: str
    organization_id: str
    store_id: str | None
    requested_at: datetime
    requested_by: str | None


@dataclass(frozen=True, slots=True)
class RetryFailedExports:
    command_id: str
    organization_id: str
    store_id: str | None
    requested_at: datetime
    requested_by: str | None


Command = ManualExportRequested | RetryFailedExports


@dataclass(frozen=True)
class Conflict:
    """An event whose id (receipt id, movement id, gift card id, or a day's Z-report number) was seen before
    with other content. The first version stands; this one is not stored (see docs/events.md). Both
    versions are in the stored form without labels (:func:`storage.codecs.content`)."""

    envelope: SalesEnvelope
    stored: dict[str, Any]
    received: dict[str, Any]


# --- what the service emits ------------------------------------------------------------------------


class Trigger(StrEnum):
    """Why an export ran (and the outcome event's ``trigger``)."""

    DAY_CLOSE = "DAY_CLOSE"
    MANUAL = "MANUAL"
    RETRY = "RETRY"  # any later attempt, and the late sales of a day already closed
    CORRECTION = "CORRECTION"  # the reversal of an earlier voucher
    INGEST = "INGEST"  # bad input found while reading the sales stream
    INTEGRATION = "INTEGRATION"  # the integration itself changed (e.g. deactivated in BL)


class OutcomeStatus(StrEnum):
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    WARNING = "WARNING"


@dataclass(frozen=True)
class Detail:
    kind: str
    code: str
    message: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "code": self.code, "message": self.message}


@dataclass(frozen=True)
class BookedSummary:
    """The booked voucher as an outcome event carries it."""

    series: str
    number: int
    entry_date: date
    total_debit_ore: int
    receipt_count: int
    already_existed: bool = False


@dataclass(frozen=True)
class Outcome:
    """One outcome event before encoding: its texts come from :mod:`service.reasons` by ``reason_code``."""

    organization_id: str | None
    trigger: Trigger
    status: OutcomeStatus
    store_id: str | None = None
    business_date: date | None = None
    export_id: str | None = None
    voucher: BookedSummary | None = None
    reason_code: str | None = None
    details: Sequence[Detail] = field(default_factory=tuple)


@dataclass(frozen=True)
class DeadLetter:
    """A message set aside: where it was read, its bytes, and why."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    error_code: str
    error_message: str

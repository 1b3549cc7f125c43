"""Messages the loop cannot ingest, and whom their failure outcome may name.

Trust follows what was read. A Kafka key is bytes anyone who can write to the topic chooses; the value is
what we book. So:

- a message that could not be decoded names **no** organization: its failure goes to operators (dead
  letter, metric, log) with ``organization_id`` null. When its key names an organization we have an
  integration for, the outcome carries that only as a detail ``("unverified_key", "<org>/<store>")``,
  sanitized, never as the addressee, so garbage cannot put a banner on a merchant;
- a message that decoded names the organization and store in its payload — the very fields its sales
  would be booked under — so an INVALID_EVENT or a RECEIPT_CONFLICT is addressed to them (docs/events.md).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol

from consumer.conflicts import describe
from mapping.text import MAX_IDENTIFIER_LENGTH, is_identifier
from service.messages import Conflict, Detail, Outcome, OutcomeStatus, Trigger
from service.reasons import ReasonCode

#: Longest organization or store id an outcome repeats (the API's identifiers are at most 128 characters).
MAX_IDENTIFIER = MAX_IDENTIFIER_LENGTH


class Source(Protocol):
    """Where a poison message was read (``confluent_kafka.Message`` or the loop's stub)."""

    def topic(self) -> str | None: ...
    def partition(self) -> int | None: ...
    def offset(self) -> int | None: ...
    def key(self) -> bytes | None: ...
    def value(self) -> bytes | None: ...


@dataclass
class Poison:
    msg: Source
    code: str  # the dead letter's error_code
    message: str
    #: Only from a decoded payload, never from the Kafka key.
    organization_id: str | None = None
    store_id: str | None = None
    business_date: date | None = None
    #: What the failure is about, first in the outcome's details (e.g. the conflicting receipt).
    subject: Detail | None = None

    @property
    def reason_code(self) -> ReasonCode:
        """The outcome's reason: what was read of the message decides whom it names (module docstring)."""
        if self.code in (ReasonCode.INVALID_EVENT, ReasonCode.RECEIPT_CONFLICT):
            return ReasonCode(self.code)
        return ReasonCode.POISON_MESSAGE

    def outcome(self, known: set[str]) -> Outcome:
        """The INGEST failure: what it is about, where the message is, and (addressed to nobody) whom its key
        names if that is an organization in ``known``."""
        where = f"{self.msg.topic() or ''}/{self.msg.partition() or 0}/{self.msg.offset() or 0}"
        details = [*([self.subject] if self.subject else []), Detail("message", where, f"{self.code}: {self.message}")]
        unverified = unverified_key(self.msg.key(), known) if self.organization_id is None else None
        return Outcome(
            organization_id=self.organization_id,
            store_id=self.store_id,
            business_date=self.business_date,
            trigger=Trigger.INGEST,
            status=OutcomeStatus.FAILED,
            reason_code=self.reason_code,
            details=[*details, *([unverified] if unverified else [])],
        )


def identifier(value: object) -> str | None:
    """``value`` if it can name an organization or store: an id as the edge accepts it
    (:func:`mapping.text.is_identifier`: at most :data:`MAX_IDENTIFIER` characters, no control or invisible
    characters, no line break); None otherwise."""
    return value if isinstance(value, str) and is_identifier(value) else None


def key_parts(key: bytes | None) -> tuple[str | None, str | None]:
    """(organization, store) as the Kafka key ``<organization>/<store>`` writes them, each None unless
    :func:`identifier` accepts it."""
    try:
        text = key.decode("utf-8") if key else ""
    except UnicodeDecodeError:
        return None, None
    org, _, store = text.partition("/")
    return identifier(org), identifier(store)


def invalid(msg: Source, message: str, record: Any) -> Poison:
    """A message that decoded but breaks the contract: addressed to its payload's organization and store
    (the key's store only when the key names the same organization)."""
    fields = record if isinstance(record, dict) else {}
    payload = fields.get("payload")
    inner = payload[1] if isinstance(payload, tuple) and len(payload) == 2 and isinstance(payload[1], dict) else {}
    org = identifier(fields.get("organization_id"))
    store = identifier(fields.get("store_id")) or identifier(inner.get("store_id"))
    key_org, key_store = key_parts(msg.key())
    if store is None and org is not None and key_org == org:
        store = key_store
    day = fields.get("business_date")
    return Poison(msg, ReasonCode.INVALID_EVENT, message, org, store, day if isinstance(day, date) else None)


def conflict(msg: Source, found: Conflict) -> Poison:
    env = found.envelope
    detail = describe(env, found.stored, found.received)
    return Poison(
        msg,
        ReasonCode.RECEIPT_CONFLICT,
        detail.message or "",
        identifier(env.organization_id),
        identifier(env.store_id),
        env.business_date,
        detail,
    )


def named_organizations(poison: Iterable[Poison]) -> set[str]:
    """The organizations the keys of unaddressed poison name (to be checked against our integrations)."""
    return {org for p in poison if p.organization_id is None and (org := key_parts(p.msg.key())[0])}


def unverified_key(key: bytes | None, known: set[str]) -> Detail | None:
    org, store = key_parts(key)
    if org is None or org not in known:
        return None
    return Detail(
        "unverified_key",
        f"{org}/{store}" if store else org,
        "The message's Kafka key names this organization, but the message could not be read: "
        "nothing shows that it came from this organization's POS.",
    )

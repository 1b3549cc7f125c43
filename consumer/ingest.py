"""One consumed batch in one unit of work: its sales and its commands, each a command to the service's bus
(:mod:`service.sales` decides the sales' export jobs, :mod:`service.commands` the commands'), and for poison
messages and conflicting re-sends (an id seen before with other content) a dead-letter record plus a failure
event in the outbox. The loop (:mod:`consumer.loop`) stores the batch's offsets only after this commits."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

import structlog

from consumer import poison
from consumer.accumulator import Accumulator, Presum
from consumer.poison import Poison, Source
from service import bus
from service.commands import CommandDayCloses, CommandExports, CommandJobs, IntegrationNotActive
from service.messages import Command, Conflict, DeadLetter, SalesEnvelope
from service.ports import DayCloses, DeadLetters, Exports, Jobs, Pending, RegisterDay, UnitOfWork
from service.sales import RecordSales

log = structlog.get_logger("dayclose.consumer")


class IngestJobs(Jobs, CommandJobs, Protocol):
    """The job queue, with BackOffice's commands recorded as acted on (a batch's commands run in its transaction)."""


class IngestExports(Exports, CommandExports, Protocol):
    """Exports, with what a command asks of them."""


class IngestDayCloses(DayCloses, CommandDayCloses, Protocol):
    """Day closes, with what a command asks of them."""


class ConflictNotices(DeadLetters, Protocol):
    def first_conflict_notice(self, org: str, event_key: str, version: str) -> bool:
        """False when this conflicting version of the organization's event was dead-lettered and notified within
        the conflict-notice window (a copy: counted only); True otherwise, and it is recorded as notified now."""
        ...


class IngestWork(UnitOfWork, Protocol):
    """What a consumed batch's transaction uses: the unit of work the export handlers use, plus what BackOffice's
    commands (:mod:`service.commands`) and the conflict notices ask of it."""

    @property
    def jobs(self) -> IngestJobs: ...

    @property
    def exports(self) -> IngestExports: ...

    @property
    def day_closes(self) -> IngestDayCloses: ...

    @property
    def dead_letters(self) -> ConflictNotices: ...


@dataclass
class BatchResult:
    new_events: int = 0
    duplicates: int = 0
    jobs: int = 0
    dead_letters: int = 0
    commands: int = 0
    conflicts: int = 0
    #: Copies of a conflicting version already dead-lettered and notified within the window: counted, not again.
    conflicts_coalesced: int = 0
    flushed_from_memory: int = 0
    flushed_from_rows: int = 0


@dataclass
class Decoded:
    sales: list[SalesEnvelope] = field(default_factory=list)
    commands: list[Command] = field(default_factory=list)
    poison: list[Poison] = field(default_factory=list)
    handled: list[tuple[Source, SalesEnvelope | Command]] = field(default_factory=list)
    #: Made from ``sales`` on the Kafka loop's thread before the batch is written (``Writer.prepare``): the storage
    #: adapter's rows, and the running totals' sums per register-day. None: made when it is written.
    rows: object | None = None
    sums: Mapping[RegisterDay, Presum] | None = None


def write_batch(uow: IngestWork, decoded: Decoded, totals: Accumulator | None = None) -> BatchResult:
    """The batch's writes, committed together (the caller's unit of work); returns what they did. With ``totals``,
    the new rows' buckets are summed in memory, and the store-days whose day close is in the batch (or whose
    pending rows reach a bound) are flushed in the same transaction (their export then claims from the totals,
    without reading the day's rows)."""
    result = BatchResult()
    closing = totals.due_with(decoded.sales) if totals is not None else set()
    # The sales and the jobs they ask for (day closes, late sales): the service's decisions (service/sales.py).
    recorded = bus.handle(uow, RecordSales(decoded.sales, closing, decoded.rows))
    ingested = recorded.ingested
    staged: dict[RegisterDay, Pending] = {}
    if totals is not None and decoded.sales:
        single_purpose = totals.single_purpose(uow.integrations, {e.organization_id for e in decoded.sales})
        staged = totals.stage(decoded.sales, ingested.written, single_purpose, decoded.sums)
        flushed = totals.flush_in(uow, closing, staged)
        result.flushed_from_memory, result.flushed_from_rows = flushed.from_memory, flushed.folded
    result.jobs += recorded.late_checks  # as before: a day close's own job is not counted here
    result.new_events, result.conflicts = ingested.new, len(ingested.conflicts)
    result.duplicates = len(decoded.sales) - result.new_events - result.conflicts
    for cmd in decoded.commands:
        result.jobs += _command(uow, cmd)
    result.commands = len(decoded.commands)
    first = [c for c in ingested.conflicts if _first_notice(uow, c)]
    result.conflicts_coalesced = len(ingested.conflicts) - len(first)
    source = {id(obj): msg for msg, obj in decoded.handled} if first else {}
    failed = [*decoded.poison, *(poison.conflict(source[id(c.envelope)], c) for c in first)]
    known = uow.integrations.known(poison.named_organizations(failed)) if failed else set()
    for p in failed:
        _dead_letter(uow, p, known)
    result.dead_letters = len(failed)
    uow.commit()
    if totals is not None:
        totals.committed(staged, closing)
    return result


def _command(uow: IngestWork, command: Command) -> int:
    """The command's jobs, decided by its handler (:mod:`service.commands`) and committed with the batch."""
    try:
        return bus.handle(uow, command).jobs
    except IntegrationNotActive:
        # Recorded as acted on: its jobs would be dropped, and an activation retries every open export anyway.
        log.info("command.integration_inactive", organization_id=command.organization_id, command_id=command.command_id)
        return 0


def conflict_version(conflict: Conflict) -> str:
    """The conflicting version's identity: the SHA-256 of its content (what would be booked; not its event id)."""
    text = json.dumps(conflict.received, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def _first_notice(uow: IngestWork, conflict: Conflict) -> bool:
    """Each distinct conflicting version of an organization's event is dead-lettered and notified once per window;
    a POS re-sending the same one 200 times gives one dead letter and one banner, not 200 (its copies are counted)."""
    env = conflict.envelope
    if uow.dead_letters.first_conflict_notice(env.organization_id, env.event_key, conflict_version(conflict)):
        return True
    log.info(
        "message.conflict_coalesced",
        organization_id=env.organization_id,
        store_id=env.store_id,
        event_key=env.event_key,
        version=conflict_version(conflict)[:16],
    )
    return False


def _dead_letter(uow: IngestWork, p: Poison, known: set[str]) -> None:
    """Once per source offset (a redelivery after a crash is not dead-lettered twice): the record and its
    failure event, addressed as :mod:`consumer.poison` decides."""
    topic, partition, offset = p.msg.topic() or "", p.msg.partition() or 0, p.msg.offset() or 0
    if not uow.dead_letters.record_once(topic, partition, offset, p.code):
        log.info("message.already_dead_lettered", topic=topic, partition=partition, offset=offset)
        return
    uow.outbox.dead_letter(DeadLetter(topic, partition, offset, p.msg.key(), p.msg.value(), p.code, p.message))
    uow.outbox.outcome(p.outcome(known))
    log.warning(
        "message.dead_lettered",
        topic=topic,
        partition=partition,
        offset=offset,
        error_code=p.code,
        error=p.message,
        organization_id=p.organization_id,
        store_id=p.store_id,
        unverified_key="/".join(part or "?" for part in poison.key_parts(p.msg.key())),
    )

"""BackOffice's commands: export now (manual), retry the failed exports, retry what a saved account plan fixes, and
resume after an activation. Each decides which stores and days get a job; the repositories only store and load.
Each is acted on once: a command once per (organization, command id), so a redelivered command or the same request
read twice queues nothing new; a plan's retries once per plan version; an activation's once per activation.

Reached through :mod:`service.bus` by the Kafka ingest (:mod:`consumer.ingest`, in the batch's transaction) and by
the API and the CLI's retry (a command of their own, in a unit of work of their own). The caller commits.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from types import TracebackType
from typing import Any, Protocol, Self

from mapping.plan import AccountPlan
from service.messages import ManualExportRequested, RetryFailedExports, Trigger
from service.model import Integration, IntegrationStatus
from service.plan_fixes import fixed_stores
from service.ports.exports import JobQueue

#: A manual export starts this long after its request is read: sales the POS sent just before the click are in
#: (the sales topic may lag the commands topic by a moment; docs/events.md).
MANUAL_GRACE = timedelta(seconds=1)


class IntegrationNotActive(Exception):
    """Exports are retried only while the organization's integration is active."""


@dataclass(frozen=True)
class JobsQueued:
    #: The stores the command covers (sorted).
    stores: list[str]
    #: Jobs queued now (none for a command acted on before).
    jobs: int


@dataclass(frozen=True)
class RetryPlanFixes:
    """Retry the failed exports ``plan`` cures, in the transaction that saved it (a saved fix always comes with its
    retry; no dual write): sent by the API after it saved the plan."""

    plan: AccountPlan


def _activation() -> str:
    return f"activation-{uuid.uuid4().hex[:12]}"


@dataclass(frozen=True)
class ResumeExports:
    """Queue what an organization's integration left undone while it was not active, in the activating transaction:
    sent by the API when it activates."""

    organization_id: str
    #: The start date: days closed before it are not the service's to book.
    since: date
    #: The activation's identity, the jobs' source ids (one activation queues each job once).
    source: str = field(default_factory=_activation)


@dataclass(frozen=True)
class Resumed:
    #: Stores with an export left failed or posting, retried.
    retries: int
    #: Closed register-days not fully booked, queued for export.
    days: int


class CommandIntegrations(Protocol):
    def get(self, org: str, *, lock: bool = False) -> Integration | None: ...


class CommandJobs(JobQueue, Protocol):
    def record_command(self, org: str, command_id: str) -> bool:
        """Record the command as acted on; False when it was before."""
        ...


class CommandExports(Protocol):
    def failed(self, org: str) -> list[tuple[str, str | None, Any]]: ...

    def stores_with_open(self, org: str) -> list[str]: ...

    def known_stores(self, org: str) -> list[str]: ...


class CommandDayCloses(Protocol):
    def unbooked_since(self, org: str, since: date) -> list[tuple[str, date, str]]: ...


class CommandWork(Protocol):
    """What the command handlers use of a unit of work (:class:`service.ports.UnitOfWork` has all of it)."""

    @property
    def integrations(self) -> CommandIntegrations: ...

    @property
    def jobs(self) -> CommandJobs: ...

    @property
    def exports(self) -> CommandExports: ...

    @property
    def day_closes(self) -> CommandDayCloses: ...


class CommandUnit(CommandWork, Protocol):
    """A unit of work with the command handlers' ports, entered and committed by :func:`service.bus.handle_in`."""

    def __enter__(self) -> Self: ...

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...

    def commit(self) -> None: ...


def retry_now(org: str, store: str | None = None, by: str | None = None) -> RetryFailedExports:
    """The command of a retry asked for through the API or the CLI (a fresh id: each request is acted on)."""
    return RetryFailedExports(f"retry-{uuid.uuid4().hex[:12]}", org, store, datetime.now(UTC), by)


def request_manual_export(uow: CommandWork, command: ManualExportRequested) -> JobsQueued:
    """One MANUAL job per store after :data:`MANUAL_GRACE`: the store named, or every store the organization has
    sold in and every store with an export not booked yet (each job retries its store's open exports first). Every
    store, not only those with unexported sales right now: the sales topic may lag the commands topic."""
    org = command.organization_id
    if command.store_id is not None:
        stores = [command.store_id]
    else:
        stores = sorted({*uow.exports.known_stores(org), *uow.exports.stores_with_open(org)})
    return _queue_once(uow, command.command_id, org, stores, Trigger.MANUAL, MANUAL_GRACE)


def retry_failed(uow: CommandWork, command: RetryFailedExports) -> JobsQueued:
    """One RETRY job per store with a failed export (the store named only, when one is): a store's job retries
    every open export of that store, oldest first, looking each voucher up in BL before it posts. Raises
    :class:`IntegrationNotActive` (after recording the command: it is not acted on later) while the integration is
    not active; its jobs would be dropped, and an activation retries every open export anyway."""
    org = command.organization_id
    if not uow.jobs.record_command(org, command.command_id):
        return JobsQueued([], 0)
    integration = uow.integrations.get(org)
    if integration is None or integration.status != IntegrationStatus.ACTIVE:
        raise IntegrationNotActive(org)
    stores = sorted({s for s, _, _ in uow.exports.failed(org) if command.store_id in (None, s)})
    return JobsQueued(stores, _queue(uow, command.command_id, org, stores, Trigger.RETRY, None))


def retry_plan_fixes(uow: CommandWork, command: RetryPlanFixes) -> JobsQueued:
    """One RETRY job per store with a failed export the plan cures (:func:`service.plan_fixes.fixed_stores`), once
    per plan version; none while the integration is not active (an activation retries every open export)."""
    org = command.plan.organization_id
    integration = uow.integrations.get(org)
    if integration is None or integration.status != IntegrationStatus.ACTIVE:
        return JobsQueued([], 0)
    stores = sorted(fixed_stores(command.plan, uow.exports.failed(org)))
    # The version just saved (read in the saving transaction).
    source = f"plan:{org}:v{integration.plan_version or 0}"
    return JobsQueued(stores, _queue(uow, source, org, stores, Trigger.RETRY, None))


def resume_exports(uow: CommandWork, command: ResumeExports) -> Resumed:
    """A RETRY job per store with an export not booked (jobs that came while inactive were dropped, so an export left
    failed or posting needs its own retry), and one per closed register-day since the start date not fully booked
    (closed before the set-up or while inactive, or with sales that came after its export): the service resumes
    exactly where it stopped. The retries of a store's open exports run first, in the same jobs' order."""
    org, source = command.organization_id, command.source
    retries = _queue(uow, source, org, uow.exports.stores_with_open(org), Trigger.RETRY, None)
    days = sum(
        uow.jobs.queue(org, store, day, Trigger.RETRY, f"{source}:{org}:{store}:{register}:{day}", register=register)
        for store, day, register in uow.day_closes.unbooked_since(org, command.since)
    )
    return Resumed(retries, days)


def _queue_once(
    uow: CommandWork, command_id: str, org: str, stores: Collection[str], trigger: Trigger, delay: timedelta | None
) -> JobsQueued:
    if not uow.jobs.record_command(org, command_id):
        return JobsQueued([], 0)
    return JobsQueued(sorted(stores), _queue(uow, command_id, org, stores, trigger, delay))


def _queue(
    uow: CommandWork, source: str, org: str, stores: Collection[str], trigger: Trigger, delay: timedelta | None
) -> int:
    """A job per store, once per (organization, ``source:store``)."""
    return sum(uow.jobs.queue(org, store, None, trigger, f"{source}:{store}", delay=delay) for store in stores)

"""Ask for an export now (BackOffice's button): record the request and its :class:`ManualExportRequested` command in
one transaction, or answer with an earlier request still in progress that covers the same stores.

Repeated clicks coalesce: under the organization's lock, a request that covers the store (or every store) and is
not done yet (the service has not taken its command, or a job it queued still waits) is returned instead of sending
again; the consumer exports each sale once regardless. The command reaches the commands topic through the outbox
and comes back to :func:`service.commands.request_manual_export`, which queues the jobs.

Reached through :mod:`service.bus` by the API (``POST …/manual-exports``) in its unit of work; the caller commits
when the request is new (a coalesced one wrote nothing).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from service.commands import CommandIntegrations, IntegrationNotActive
from service.messages import Command, ManualExportRequested
from service.model import IntegrationStatus


@dataclass(frozen=True)
class RequestManualExport:
    organization_id: str
    #: One store, or every store of the organization (None).
    store_id: str | None
    #: The BackOffice user, for the audit trail.
    requested_by: str | None


@dataclass(frozen=True)
class ManualExportAsked:
    request_id: uuid.UUID
    store_id: str | None
    requested_at: datetime
    #: requested (its command not taken yet), exporting (its jobs queued or running), done.
    state: str
    #: An earlier request in progress, returned instead of a new one.
    coalesced: bool


class ManualExportRequests(Protocol):
    def lock(self, org: str) -> None:
        """Serialise the organization's requests until the transaction ends (two clicks never both send)."""
        ...

    def pending(self, org: str, store: str | None) -> tuple[uuid.UUID, datetime] | None:
        """The newest recent request covering ``store`` that is not done yet."""
        ...

    def get(self, org: str, request_id: uuid.UUID) -> dict[str, Any] | None:
        """The request's ``request_id``, ``store_id``, ``requested_at`` and ``state``."""
        ...

    def record(self, request_id: uuid.UUID, org: str, store: str | None, requested_by: str | None) -> datetime:
        """Store the request; when it was made (the database's clock)."""
        ...


class CommandOutbox(Protocol):
    def command(self, command: Command) -> None: ...


class ManualExportWork(Protocol):
    """What asking for an export uses of the API's unit of work."""

    @property
    def integrations(self) -> CommandIntegrations: ...

    @property
    def manual_exports(self) -> ManualExportRequests: ...

    @property
    def outbox(self) -> CommandOutbox: ...


def ask_for_export(uow: ManualExportWork, command: RequestManualExport) -> ManualExportAsked:
    """The request in progress that covers the stores asked for (coalesced), else a new request and its command in
    the outbox. Raises :class:`~service.commands.IntegrationNotActive` (nothing written) unless the integration is
    active."""
    org, store = command.organization_id, command.store_id
    integration = uow.integrations.get(org)
    if integration is None or integration.status != IntegrationStatus.ACTIVE:
        raise IntegrationNotActive(org)
    uow.manual_exports.lock(org)
    pending = uow.manual_exports.pending(org, store)
    current = uow.manual_exports.get(org, pending[0]) if pending is not None else None
    if current is not None:
        return ManualExportAsked(**current, coalesced=True)
    request_id = uuid.uuid4()
    at = uow.manual_exports.record(request_id, org, store, command.requested_by)
    uow.outbox.command(ManualExportRequested(str(request_id), org, store, at, command.requested_by))
    return ManualExportAsked(request_id, store, at, "requested", coalesced=False)

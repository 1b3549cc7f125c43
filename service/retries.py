"""Retry refused exports now, after their cause was fixed (in BL, in the account plan, or in our code): one RETRY
job per store with a failed export; a store's job retries every open export of that store, oldest first, looking
each voucher up in BL before it posts. The API's retry endpoint and ``dayclose exports retry`` both call this."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass

from service.model import IntegrationStatus
from service.ports import UnitOfWork


class IntegrationNotActive(Exception):
    """Exports are retried only while the organization's integration is active."""


@dataclass(frozen=True)
class RetriesQueued:
    #: Stores with a failed export (narrowed to the store asked for).
    stores: list[str]
    #: Jobs queued now (a store whose retry was already queued by the same request counts once).
    jobs: int


def retry_failed_exports(
    uow: Callable[[], UnitOfWork], org: str, store: str | None = None, source: str | None = None
) -> RetriesQueued:
    """Queue a retry of every failed export of ``org`` (of ``store`` only, when given). ``source`` makes the
    request idempotent (a repeated request with the same source queues nothing new)."""
    with uow() as work:
        integration = work.integrations.get(org)
        if integration is None or integration.status != IntegrationStatus.ACTIVE:
            raise IntegrationNotActive(org)
        stores = sorted({s for s, _, _ in work.exports.failed(org) if store is None or s == store})
        queued = work.jobs.queue_retries(org, stores, source or f"retry-{uuid.uuid4().hex[:12]}")
        work.commit()
    return RetriesQueued(stores, queued)

"""The PostgreSQL unit of work: one pooled connection, one transaction, one repository per aggregate.

``with uow: …; uow.commit()`` — nothing is durable until ``commit``; leaving the block without it rolls back
and returns the connection to the pool (a broken one is replaced). psycopg's errors leave the block as the
service's :class:`~service.ports.StorageUnavailable` or :class:`~service.ports.StorageRefused`, so no caller
needs to know the driver.

``conn`` is there for the read models of the API and the CLI (:mod:`storage.history`, :mod:`storage.audit`):
queries that answer a screen rather than change an aggregate.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import timedelta
from types import TracebackType
from typing import Any, Self

import psycopg
from psycopg_pool import ConnectionPool

from service.ports import Cipher, EventEncoder, StorageRefused, StorageUnavailable
from storage.audit import PostgresAudit
from storage.backoffice import PostgresManualExports, PostgresRegisteredItems
from storage.corrections import PostgresCorrections
from storage.day_closes import PostgresDayCloses
from storage.documents import PostgresDocuments
from storage.exports import PostgresExports
from storage.history import PostgresPlanItems
from storage.integrations import PostgresIntegrations
from storage.jobs import PostgresJobs
from storage.kept_facts import PostgresOrganizationFacts
from storage.notifications import PostgresNotifications
from storage.outbox import CONFLICT_NOTICE_WINDOW, PostgresDeadLetters, PostgresOutbox
from storage.prepared import forget_if_stale
from storage.retention import PostgresRetention
from storage.sales import PostgresSales
from storage.totals import PostgresTotals
from storage.vat_reads import PostgresVatReads


def translated(exc: BaseException) -> Exception | None:
    """The service's error for a driver's error (None when ``exc`` is not one)."""
    if isinstance(exc, psycopg.DataError):
        return StorageRefused(_first_line(exc))
    if isinstance(exc, psycopg.OperationalError | psycopg.InterfaceError):
        return StorageUnavailable(_first_line(exc))
    return None


def _first_line(exc: BaseException) -> str:
    text = str(exc)
    return text.splitlines()[0] if text else type(exc).__name__


class PostgresUnitOfWork:
    def __init__(
        self,
        pool: ConnectionPool[Any],
        cipher: Cipher,
        encoder: EventEncoder,
        timeout: float | None = None,
        conflict_window: timedelta = CONFLICT_NOTICE_WINDOW,
    ) -> None:
        self.pool = pool
        self.cipher = cipher
        self.encoder = encoder
        self.timeout = timeout
        self.conflict_window = conflict_window
        self._scope: AbstractContextManager[psycopg.Connection[Any]] | None = None

    def __enter__(self) -> Self:
        scope = self.pool.connection(self.timeout)
        try:
            conn = scope.__enter__()
        except psycopg.Error as exc:
            error = translated(exc)
            if error is None:
                raise
            raise error from exc
        self._scope, self.conn = scope, conn
        self.integrations = PostgresIntegrations(conn, self.cipher)
        self.jobs = PostgresJobs(conn)
        self.exports = PostgresExports(conn)
        self.day_closes = PostgresDayCloses(conn)
        self.sales = PostgresSales(conn)
        self.audit = PostgresAudit(conn)
        self.corrections = PostgresCorrections(conn)
        self.documents = PostgresDocuments(conn)
        self.vat_reads = PostgresVatReads(conn)
        self.dead_letters = PostgresDeadLetters(conn, self.conflict_window)
        self.outbox = PostgresOutbox(conn, self.encoder)
        self.totals = PostgresTotals(conn)
        self.manual_exports = PostgresManualExports(conn)
        self.registered_items = PostgresRegisteredItems(conn)
        self.plan_items = PostgresPlanItems(conn)
        self.kept_facts = PostgresOrganizationFacts(conn)
        self.notifications = PostgresNotifications(conn)
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        scope, self._scope = self._scope, None
        if scope is None:
            return
        if exc is None:
            try:
                self.conn.rollback()  # whatever was not committed
            except psycopg.Error as failed:
                scope.__exit__(type(failed), failed, failed.__traceback__)  # the pool replaces the connection
                error = translated(failed)
                if error is None:
                    raise
                raise error from failed
            scope.__exit__(None, None, None)
            return
        stale = forget_if_stale(self.conn, exc)  # a migration changed what a kept statement returns: prepare anew
        scope.__exit__(kind, exc, tb)  # rolls back; a broken connection is replaced
        error = StorageUnavailable(_first_line(exc)) if stale else translated(exc)
        if error is not None:
            raise error from exc

    def commit(self) -> None:
        self.conn.commit()

    def rollback(self) -> None:
        self.conn.rollback()


class OnConnection:
    """The repositories that need neither a cipher nor an event encoder, over one plain connection whose transaction
    is the caller's: for an operator's command that calls a service handler through its narrow ports
    (``dayclose reexport``: corrections and jobs; ``dayclose purge``: the retention), and for tests that seed a
    database (sales and jobs)."""

    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self.conn = conn
        self.sales = PostgresSales(conn)
        self.jobs = PostgresJobs(conn)
        self.corrections = PostgresCorrections(conn)
        self.sales_quarters = self.retained_rows = PostgresRetention(conn)


def unit_of_work(
    pool: ConnectionPool[Any],
    cipher: Cipher,
    encoder: EventEncoder,
    timeout: float | None = None,
    conflict_window: timedelta = CONFLICT_NOTICE_WINDOW,
) -> Callable[[], PostgresUnitOfWork]:
    """A factory of units of work over ``pool``: what the handlers and the API are given."""

    def make() -> PostgresUnitOfWork:
        return PostgresUnitOfWork(pool, cipher, encoder, timeout, conflict_window)

    return make

"""The connection class of every pool: psycopg's, with its prepared statements kept across a rollback.

psycopg prepares a statement on the server once a connection has run it ``prepare_threshold`` times (5), so the server
plans it once instead of at every execution. But at every ``ROLLBACK`` psycopg forgets all of them, and then drops them
on the server too (``DEALLOCATE ALL``, a round trip of its own). It does this in case the rolled-back transaction
created an object that a statement names, and the object is then made again. A unit of work that only reads ends in
a rollback (:class:`storage.uow.PostgresUnitOfWork`), and so do a job lease that finds nothing and an outbox drain with
nothing to send. Pooled connections are shared by every thread, so in ``dayclose run`` no statement ever reached its
fifth execution on one connection, and PostgreSQL planned every statement every time. For the job lease alone, that
is ~0.5 ms of planning per statement (``docs/performance.md``).

Our transactions create no types, and nothing that a statement names: the sales partitions a batch may create are
reached through their parent table, and PostgreSQL itself re-plans a cached statement when a table it reads changes.
So keeping the statements across a rollback is safe here. ``tests/integration/db/test_prepared_statements.py`` pins
this: what is kept, and that a statement still runs after a rolled-back transaction that changed its table. That test
also fails if a new psycopg stops working this way.

One change PostgreSQL does not re-plan around: a committed migration that changes the type of a column a kept statement
returns. The statement's next run fails with "cached plan must not change result type". This can happen while a new
version's migration runs beside an old pod. The unit of work then drops that connection's statements
(:func:`forget_if_stale`) and reports the failure as :class:`~service.ports.StorageUnavailable`, so it is tried again
and the statement is prepared anew.
"""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg.rows import TupleRow


class Connection(psycopg.Connection[TupleRow]):
    """:class:`psycopg.Connection`, whose ``rollback()`` keeps the statements prepared on this connection."""

    def rollback(self) -> None:
        prepared: Any = self._prepared  # psycopg's PrepareManager (private; the test above guards it)
        prepared.clear = _keep  # an attribute of the instance, over the class's method, for this call only
        try:
            super().rollback()
        finally:
            del prepared.clear


def _keep() -> bool:
    """In place of ``PrepareManager.clear``: forget nothing, so nothing is deallocated (False: nothing to flush)."""
    return False


def forget_if_stale(conn: psycopg.Connection[Any], exc: BaseException) -> bool:
    """When ``exc`` says a kept statement's result type changed under it: end the failed transaction as psycopg does
    (forgetting and deallocating every statement of ``conn``) and return True."""
    if not (
        isinstance(exc, psycopg.errors.FeatureNotSupported) and "cached plan must not change result type" in str(exc)
    ):
        return False
    try:
        psycopg.Connection.rollback(conn)  # psycopg's own: every prepared statement forgotten and deallocated
    except psycopg.Error:
        pass  # a broken connection: the pool replaces it as the unit of work ends
    return True

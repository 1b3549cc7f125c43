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

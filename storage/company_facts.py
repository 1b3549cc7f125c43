"""The BL pre-flight's facts per company in PostgreSQL (table ``bl_company_facts``, migration 0020): the adapter of
:class:`service.company_facts.CompanyFactsStore`, over the process's pool.

**One fetch across processes.** :meth:`PostgresCompanyFacts.fetch_once` takes a session-level advisory lock per
(organization, company, kind) on a connection of its own and commits at once, so the lock is held while BL is
asked but no transaction is (the house rule: never a transaction across a network call). Whoever waited for the
lock looks again and uses what was stored meanwhile. A process killed while it holds the lock loses its
connection, and PostgreSQL releases the lock with it: the next asker fetches; nothing half-written is left (the
facts are written by one statement after the fetch).

**Forgotten means forgotten.** A forget marks the rows (``forgotten_at``, the database's clock) rather than
deleting them, and a fetch stores what it found only if no forget came after it began; the row a fetch marks as
``asked`` exists before the fetch begins, so there is always a row for the forget to mark.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import psycopg
from psycopg.types.json import Jsonb
from psycopg_pool import ConnectionPool

from service.company_facts import KINDS, Fetched, StoredFacts
from storage.uow import translated

#: How long a process waits for another one's fetch of the same facts before it gives up (and asks BL itself):
#: longer than a fetch with all its retries (the BL client's timeouts and backoff), so in practice only a hung
#: process is given up on.
LOCK_WAIT_S = 300.0


class PostgresCompanyFacts:
    def __init__(self, pool: ConnectionPool[Any], timeout: float | None = None) -> None:
        self.pool = pool
        self.timeout = timeout

    def versions(self, org: str, company: str) -> dict[str, datetime]:
        with self._connection() as conn:
            rows = conn.execute(
                "SELECT kind, fetched_at FROM bl_company_facts "
                "WHERE organization_id = %s AND company_digest = %s AND facts IS NOT NULL",
                (org, company),
            ).fetchall()
        return {kind: fetched_at for kind, fetched_at in rows}

    def read(self, org: str, company: str, kind: str) -> StoredFacts | None:
        with self._connection() as conn:
            row = conn.execute(
                "SELECT facts, fetched_at FROM bl_company_facts "
                "WHERE organization_id = %s AND company_digest = %s AND kind = %s AND facts IS NOT NULL",
                (org, company, kind),
            ).fetchone()
        return StoredFacts(row[0], row[1]) if row else None

    def fetch_once(
        self,
        org: str,
        company: str,
        kind: str,
        usable: Callable[[StoredFacts, bool], bool],
        fetch: Callable[[StoredFacts | None], Any],
    ) -> Fetched:
        key = (org, company, kind)
        with self._connection() as conn, _locked(conn, f"bl_company_facts/{org}/{company}/{kind}") as waited_since:
            conn.execute(
                "INSERT INTO bl_company_facts (organization_id, company_digest, kind) VALUES (%s, %s, %s) "
                "ON CONFLICT DO NOTHING",
                key,
            )
            conn.commit()  # the row exists before the fetch begins: a forget from now on marks it
            row = conn.execute(
                "SELECT facts, fetched_at, stored_at, clock_timestamp() FROM bl_company_facts "
                "WHERE organization_id = %s AND company_digest = %s AND kind = %s",
                key,
            ).fetchone()
            conn.commit()
            if row is None:
                raise RuntimeError("the facts' row was not found right after it was made")
            facts, fetched_at, stored_at, began = row
            kept = StoredFacts(facts, fetched_at) if facts is not None else None
            if kept is not None:
                meanwhile = waited_since is not None and stored_at >= waited_since
                if usable(kept, meanwhile):
                    return Fetched(kept, fresh=meanwhile)
            found = fetch(kept)  # BL: no transaction is open
            stored = conn.execute(
                "UPDATE bl_company_facts SET facts = %s, fetched_at = %s, stored_at = clock_timestamp() "
                "WHERE organization_id = %s AND company_digest = %s AND kind = %s "
                "AND (forgotten_at IS NULL OR forgotten_at < %s)",
                (Jsonb(found), began, *key, began),
            ).rowcount
            conn.commit()
            return Fetched(StoredFacts(found, began), fresh=True, kept=stored == 1)

    def forget(self, org: str, company: str, kinds: Collection[str] = KINDS) -> None:
        with self._connection() as conn:
            conn.execute(
                "UPDATE bl_company_facts SET facts = NULL, fetched_at = NULL, forgotten_at = clock_timestamp() "
                "WHERE organization_id = %s AND company_digest = %s AND kind = ANY(%s)",
                (org, company, list(kinds)),
            )

    @contextmanager
    def _connection(self) -> Iterator[psycopg.Connection[Any]]:
        """A pooled connection, committed on the way out; the driver's errors as the service's."""
        try:
            with self.pool.connection(self.timeout) as conn:
                yield conn
        except psycopg.Error as exc:
            error = translated(exc)
            if error is None:
                raise
            raise error from exc


@contextmanager
def _locked(conn: psycopg.Connection[Any], name: str) -> Iterator[datetime | None]:
    """Hold the advisory lock named ``name`` for the block, outside any transaction; yields when this session began
    waiting for it (None when it gave up waiting after LOCK_WAIT_S: the block runs unlocked)."""
    began = conn.execute("SELECT clock_timestamp()").fetchone()
    conn.execute(f"SET LOCAL lock_timeout = {int(LOCK_WAIT_S * 1000)}")
    try:
        conn.execute("SELECT pg_advisory_lock(hashtextextended(%s, 0))", (name,))
        conn.commit()  # a session lock outlives the transaction that took it
        locked = True
    except psycopg.errors.LockNotAvailable:
        conn.rollback()
        locked = False
    try:
        yield began[0] if began and locked else None
    finally:
        if locked:
            _unlock(conn, name)


def _unlock(conn: psycopg.Connection[Any], name: str) -> None:
    """Release the lock. A broken connection released it already (its session ended), and the pool replaces it."""
    if conn.broken:
        return
    try:
        conn.rollback()  # whatever a failure in the block left open
        conn.execute("SELECT pg_advisory_unlock(hashtextextended(%s, 0))", (name,))
        conn.commit()
    except psycopg.OperationalError:
        pass  # the connection broke: the session, and its lock, are gone

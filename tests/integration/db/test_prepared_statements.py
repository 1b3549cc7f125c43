"""Prepared statements outlive a rollback on the pools' connections (``storage/prepared.py``), and stay correct when
the rolled-back transaction changed what they read. The comparison is psycopg's own connection on the same server:
psycopg forgets its prepared statements at every rollback and drops them on the server."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest
from psycopg_pool import ConnectionPool

from consumer.events import AvroEvents
from dayclose.bootstrap import service_pool
from dayclose.bootstrap_api import _api_pool
from dayclose.keys import KeyVault
from devstack.harness import Topics, make_settings
from service.ports import StorageUnavailable
from service.secrets import Secret
from storage.prepared import Connection
from storage.uow import unit_of_work

pytestmark = pytest.mark.integration

LOOK_UP = "SELECT v FROM t WHERE id = %s"


def _prepared_on_server(conn: psycopg.Connection[Any]) -> list[str]:
    rows = conn.execute("SELECT statement FROM pg_prepared_statements").fetchall()
    conn.rollback()
    return [r[0] for r in rows]


def _runs_rolled_back(conn: psycopg.Connection[Any], times: int) -> None:
    """``LOOK_UP`` ``times`` times, each in a transaction of its own that ends in a rollback (a unit of work that
    only reads)."""
    for _ in range(times):
        assert conn.execute(LOOK_UP, (1,)).fetchone() == ("one",)
        conn.rollback()


@pytest.fixture
def table(empty_database_url: str) -> str:
    with psycopg.connect(empty_database_url, autocommit=True) as setup:
        setup.execute("CREATE TABLE t (id int PRIMARY KEY, v text NOT NULL)")
        setup.execute("INSERT INTO t VALUES (1, 'one'), (2, 'two')")
    return empty_database_url


def test_a_statement_run_in_rolled_back_transactions_is_prepared_once_and_stays_prepared(table: str) -> None:
    with Connection.connect(table) as ours, psycopg.connect(table) as psycopgs:
        _runs_rolled_back(ours, 20)
        _runs_rolled_back(psycopgs, 20)
        kept = _prepared_on_server(ours)
        assert len(kept) == 1 and "FROM t WHERE id = $1" in kept[0]
        assert _prepared_on_server(psycopgs) == []  # psycopg's own: forgotten and deallocated at each rollback


def test_a_kept_statement_reads_what_a_rolled_back_or_committed_change_to_its_table_leaves(table: str) -> None:
    with Connection.connect(table) as conn:
        _runs_rolled_back(conn, 6)
        assert len(_prepared_on_server(conn)) == 1
        # A transaction that changes the table's shape and rows, rolled back: the statement reads what is left.
        conn.execute("ALTER TABLE t ADD COLUMN w int")
        conn.execute("UPDATE t SET v = 'changed'")
        conn.execute("ALTER TABLE t RENAME COLUMN v TO v_old")
        conn.execute("ALTER TABLE t ADD COLUMN v text")
        conn.rollback()
        _runs_rolled_back(conn, 3)
        # A committed change of the columns it reads: PostgreSQL re-plans it, and it reads the new values.
        conn.execute("ALTER TABLE t ALTER COLUMN v TYPE varchar(10)")
        conn.execute("UPDATE t SET v = 'uno' WHERE id = 1")
        conn.commit()
        assert conn.execute(LOOK_UP, (1,)).fetchone() == ("uno",)
        conn.rollback()


def test_the_pools_of_dayclose_run_and_the_api_make_connections_that_keep_them(table: str) -> None:
    """The pools the processes are built with (``dayclose/bootstrap.py``, ``dayclose/bootstrap_api.py``)."""
    settings = make_settings(table, "127.0.0.1:1", Topics("sales", "commands", "outcomes", "dead-letters"))
    for pool in (service_pool(settings, "prepared-test"), _api_pool(settings)):
        with pool:  # opens it, and closes it at the end
            for _ in range(20):  # every connection of the pool (two at least) runs it five times at least
                with pool.connection() as conn:
                    assert conn.execute(LOOK_UP, (2,)).fetchone() == ("two",)
                    conn.rollback()
            with pool.connection() as conn:
                assert isinstance(conn, Connection)
                assert len(_prepared_on_server(conn)) == 1


def test_a_kept_statement_whose_result_type_a_migration_changed_fails_once_as_unavailable_then_runs(table: str) -> None:
    """A new version's migration beside a running pod: the unit of work that meets the changed result type fails as
    :class:`StorageUnavailable` (tried again by every caller), and the next prepares the statement anew."""
    pool: ConnectionPool[Any] = ConnectionPool(table, connection_class=Connection, min_size=1, max_size=1, open=True)
    make = unit_of_work(pool, KeyVault(Secret(KeyVault.generate_key())), AvroEvents("o", "d", "c"))
    try:
        for _ in range(6):
            with make() as uow:
                assert uow.conn.execute(LOOK_UP, (1,)).fetchone() == ("one",)
        with psycopg.connect(table, autocommit=True) as migration:
            migration.execute("ALTER TABLE t ALTER COLUMN v TYPE int USING length(v)")
        with pytest.raises(StorageUnavailable, match="cached plan must not change result type"), make() as uow:
            uow.conn.execute(LOOK_UP, (1,)).fetchone()
        with make() as uow:
            assert uow.conn.execute(LOOK_UP, (1,)).fetchone() == (3,)
    finally:
        pool.close()

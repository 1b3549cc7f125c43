"""devstack.postgres.LocalPostgres.restart(): the fault tests need the same server back on the same port."""

from __future__ import annotations

import os

import psycopg
import pytest

from devstack.postgres import LocalPostgres

pytestmark = pytest.mark.integration


@pytest.mark.skipif(os.environ.get("DATABASE_URL") is not None, reason="needs local PostgreSQL binaries")
def test_restart_brings_the_same_server_back_on_the_same_port() -> None:
    pg = LocalPostgres().start()
    try:
        with psycopg.connect(pg.url) as conn:
            conn.execute("CREATE TABLE survives (id int)")
        pg.restart()
        with psycopg.connect(pg.url, connect_timeout=5) as conn:
            assert conn.execute("SELECT count(*) FROM survives").fetchone() == (0,)
    finally:
        pg.stop()

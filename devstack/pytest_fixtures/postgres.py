"""pytest fixtures: one real PostgreSQL server per session, a fresh migrated database per test.

Each test's database is cloned from a migrated template (``CREATE DATABASE … TEMPLATE``), which
costs a few milliseconds, so tests never see each other's rows.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from devstack.postgres import ExternalPostgres, LocalPostgres, create_database, drop_database, postgres_from_env
from storage.migrate import migrate


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[LocalPostgres | ExternalPostgres]:
    server = postgres_from_env().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def migrated_template(postgres_server: LocalPostgres | ExternalPostgres) -> Iterator[str]:
    name = f"dayclose_template_{uuid.uuid4().hex[:8]}"
    url = create_database(postgres_server.url, name)
    migrate(url)
    yield name
    drop_database(postgres_server.url, name)


@pytest.fixture
def database_url(postgres_server: LocalPostgres | ExternalPostgres, migrated_template: str) -> Iterator[str]:
    """URL of a fresh database with every migration applied, dropped after the test."""
    name = f"dayclose_test_{uuid.uuid4().hex[:12]}"
    url = create_database(postgres_server.url, name, template=migrated_template)
    yield url
    drop_database(postgres_server.url, name)


@pytest.fixture
def empty_database_url(postgres_server: LocalPostgres | ExternalPostgres) -> Iterator[str]:
    """URL of a fresh database with nothing in it (for migration tests)."""
    name = f"dayclose_empty_{uuid.uuid4().hex[:12]}"
    url = create_database(postgres_server.url, name)
    yield url
    drop_database(postgres_server.url, name)

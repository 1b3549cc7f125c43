import psycopg
import pytest

from storage.migrate import Migration, MigrationError, applied_versions, load_migrations, migrate

pytestmark = pytest.mark.integration


def test_round_trip_against_a_real_server(database_url: str) -> None:
    with psycopg.connect(database_url) as conn:
        conn.execute("CREATE TABLE t (id int PRIMARY KEY, amount_ore bigint NOT NULL)")
        conn.execute("INSERT INTO t VALUES (1, 12345)")
        conn.commit()
    with psycopg.connect(database_url) as conn:
        row = conn.execute("SELECT amount_ore, version() FROM t WHERE id = 1").fetchone()
    assert row is not None
    assert row[0] == 12345
    assert row[1].startswith("PostgreSQL")


def test_migrate_applies_every_migration_once_and_is_idempotent(empty_database_url: str) -> None:
    expected = [m.version for m in load_migrations()]
    first = migrate(empty_database_url)
    assert [m.version for m in first] == expected
    assert migrate(empty_database_url) == []
    assert applied_versions(empty_database_url) == expected


def test_a_changed_applied_migration_is_refused(empty_database_url: str) -> None:
    original = Migration(9001, "demo", "CREATE TABLE demo_a (id int);")
    migrate(empty_database_url, [original])
    edited = Migration(9001, "demo", "CREATE TABLE demo_b (id int);")
    with pytest.raises(MigrationError, match="changed after it was applied"):
        migrate(empty_database_url, [edited])


def test_a_failing_migration_leaves_nothing_half_applied(empty_database_url: str) -> None:
    good = Migration(9001, "good", "CREATE TABLE good_t (id int);")
    bad = Migration(9002, "bad", "CREATE TABLE bad_t (id int); SELECT no_such_function();")
    with pytest.raises(psycopg.errors.UndefinedFunction):
        migrate(empty_database_url, [good, bad])
    with psycopg.connect(empty_database_url) as conn:
        tables = {r[0] for r in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}
    assert "bad_t" not in tables

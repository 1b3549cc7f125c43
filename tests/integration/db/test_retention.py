import uuid
from datetime import date

import psycopg
import pytest
from psycopg.types.json import Jsonb

from dayclose.db.retention import purge

pytestmark = pytest.mark.integration
TODAY = date(2026, 11, 26)


def _sale(conn: psycopg.Connection, key: str, day: date, export_id: uuid.UUID | None = None) -> None:
    conn.execute(
        "INSERT INTO sales_events (organization_id, store_id, business_date, kind, event_key, payload, export_id) "
        "VALUES ('o', 's', %s, 'receipt', %s, %s, %s)",
        (day, key, Jsonb({}), export_id),
    )


def _export(conn: psycopg.Connection, status: str, day: date) -> uuid.UUID:
    export_id = uuid.uuid4()
    conn.execute(
        "INSERT INTO exports (export_id, reference, organization_id, store_id, business_date, trigger, status, "
        "event_count) VALUES (%s, %s, 'o', 's', %s, 'DAY_CLOSE', %s, 1)",
        (export_id, f"DC-{export_id.hex[:16]}", day, status),
    )
    return export_id


def test_purge_keeps_recent_and_unbooked_sales_and_drops_the_rest(database_url: str) -> None:
    old, recent = date(2025, 1, 1), date(2026, 11, 1)
    with psycopg.connect(database_url) as conn:
        booked = _export(conn, "booked", old)
        failed = _export(conn, "failed", old)
        posting = _export(conn, "posting", old)
        _sale(conn, "old-booked", old, booked)
        _sale(conn, "old-failed", old, failed)
        _sale(conn, "old-posting", old, posting)
        _sale(conn, "old-unclaimed", old)
        _sale(conn, "recent-unclaimed", recent)
        result = purge(conn, TODAY, retention_days=90)
        kept = {r[0] for r in conn.execute("SELECT event_key FROM sales_events")}
    assert result.sales_events == 2
    assert kept == {"old-failed", "old-posting", "recent-unclaimed"}


def test_purge_drops_sent_outbox_rows_after_a_week_but_never_unsent_ones(database_url: str) -> None:
    with psycopg.connect(database_url) as conn:
        conn.execute("INSERT INTO outbox (topic, schema_name, value, sent_at, created_at) VALUES "
                     "('t', 's', 'x', now() - interval '30 days', now() - interval '30 days'), "
                     "('t', 's', 'y', NULL, now() - interval '30 days'), "
                     "('t', 's', 'z', now(), now())")
        result = purge(conn, date.today(), retention_days=90)
        left = sorted(bytes(r[0]) for r in conn.execute("SELECT value FROM outbox"))
    assert result.sent_outbox_rows == 1
    assert left == [b"y", b"z"]

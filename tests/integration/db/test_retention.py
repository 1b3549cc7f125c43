import uuid
from datetime import date

import psycopg
import pytest
from psycopg.types.json import Jsonb

from storage import partitions
from storage.retention import purge

pytestmark = pytest.mark.integration
TODAY = date(2026, 11, 26)


def _sale(conn: psycopg.Connection, key: str, day: date, export_id: uuid.UUID | None = None) -> None:
    """A stored sale, held by ``export_id`` when given (the export names its id)."""
    partitions.ensure(conn, [day])
    (row_id,) = conn.execute(
        "INSERT INTO sales (organization_id, store_id, business_date, kind, event_key, payload) "
        "VALUES ('o', 's', %s, 'receipt', %s, %s) RETURNING id",
        (day, key, Jsonb({})),
    ).fetchone()
    if export_id is not None:
        conn.execute(
            "UPDATE exports SET sales_ids = sales_ids + int8multirange(int8range(%s, %s, '[]')), watermark = %s "
            "WHERE export_id = %s",
            (row_id, row_id, row_id, export_id),
        )


def _export(conn: psycopg.Connection, status: str, day: date) -> uuid.UUID:
    export_id = uuid.uuid4()
    conn.execute(
        "INSERT INTO exports (export_id, reference, organization_id, store_id, business_date, trigger, status, "
        "event_count) VALUES (%s, %s, 'o', 's', %s, 'DAY_CLOSE', %s, 1)",
        (export_id, f"DC-{export_id.hex[:16]}", day, status),
    )
    return export_id


def _audit(conn: psycopg.Connection, export_id: uuid.UUID, day: date, retain_until: date) -> None:
    conn.execute(
        "INSERT INTO audit_vouchers (export_id, organization_id, store_id, business_date, trigger, reference, series, "
        "number, entry_date, voucher, receipt_count, fiscal_year_end, retain_until) "
        "VALUES (%s, 'o', 's', %s, 'DAY_CLOSE', %s, 'D', 1, %s, '{}', 1, %s, %s)",
        (export_id, day, f"DC-{export_id.hex[:16]}", day, date(day.year, 12, 31), retain_until),
    )


def test_purge_keeps_recent_and_unbooked_sales_and_drops_the_rest(database_url: str) -> None:
    old, recent = date(2025, 1, 1), date(2026, 11, 1)
    with psycopg.connect(database_url) as conn:
        booked = _export(conn, "booked", old)
        _audit(conn, booked, old, date(2032, 12, 31))
        booked_without_audit = _export(conn, "booked", old)
        failed = _export(conn, "failed", old)
        posting = _export(conn, "posting", old)
        _sale(conn, "old-booked", old, booked)
        _sale(conn, "old-booked-no-audit-record", old, booked_without_audit)
        _sale(conn, "old-failed", old, failed)
        _sale(conn, "old-posting", old, posting)
        _sale(conn, "old-unclaimed", old)
        _sale(conn, "recent-unclaimed", recent)
        result = purge(conn, TODAY, retention_days=90)
        kept = {r[0] for r in conn.execute("SELECT event_key FROM sales")}
        audits = conn.execute("SELECT count(*) FROM audit_vouchers").fetchone()
    assert result.sales_events == 2
    assert kept == {"old-booked-no-audit-record", "old-failed", "old-posting", "recent-unclaimed"}
    assert audits == (1,)  # the audit record outlives the sales


def test_audit_records_go_only_after_their_retention(database_url: str) -> None:
    with psycopg.connect(database_url) as conn:
        expired, kept = _export(conn, "booked", date(2018, 3, 1)), _export(conn, "booked", date(2019, 3, 1))
        _audit(conn, expired, date(2018, 3, 1), date(2025, 12, 31))
        _audit(conn, kept, date(2019, 3, 1), date(2026, 12, 31))
        result = purge(conn, TODAY, retention_days=90)
        left = [r[0] for r in conn.execute("SELECT export_id FROM audit_vouchers")]
    assert result.audit_vouchers == 1
    assert left == [kept]


def test_purge_drops_sent_outbox_rows_after_a_week_but_never_unsent_ones(database_url: str) -> None:
    with psycopg.connect(database_url) as conn:
        conn.execute(
            "INSERT INTO outbox (topic, schema_name, value, sent_at, created_at) VALUES "
            "('t', 's', 'x', now() - interval '30 days', now() - interval '30 days'), "
            "('t', 's', 'y', NULL, now() - interval '30 days'), "
            "('t', 's', 'z', now(), now())"
        )
        result = purge(conn, date.today(), retention_days=90)
        left = sorted(bytes(r[0]) for r in conn.execute("SELECT value FROM outbox"))
    assert result.sent_outbox_rows == 1
    assert left == [b"y", b"z"]

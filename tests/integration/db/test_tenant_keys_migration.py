"""Migration 0012 on a database that already holds data (migrated to 0011, then 0012): the export-job, processed-command
and manual-export keys carry the organization, what was deduplicated before still is, and the day closes the
global key left without a job (issue #20 finding 1) get theirs."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

import psycopg
import pytest
from psycopg.types.json import Jsonb

from mapping.reconcile import ControlTotals
from mapping.register_day import DayClose
from service.messages import DayClosed, SalesEnvelope, Trigger
from storage.jobs import PostgresJobs
from storage.migrate import load_migrations, migrate
from tests.recording import record

pytestmark = pytest.mark.integration
DAY = date(2026, 11, 29)
AT = datetime(2026, 11, 29, 22, 0, tzinfo=UTC)


def _integration(
    conn: psycopg.Connection[Any], org: str, status: str = "active", start: date = date(2026, 11, 1)
) -> None:
    conn.execute(
        "INSERT INTO integrations (organization_id, status, start_date) VALUES (%s, %s, %s)", (org, status, start)
    )


def _day_close(conn: psycopg.Connection[Any], org: str, store: str, day: date, z: int, status: str) -> None:
    payload = {"store_name": f"Butik {store}", "receipt_count": 0, "grand_total_ore": 0, "vat": [], "payments": []}
    conn.execute(
        "INSERT INTO day_closes (organization_id, store_id, business_date, z_report_number, payload, closed_at, "
        "status) VALUES (%s, %s, %s, %s, %s, %s, %s)",
        (org, store, day, z, Jsonb(payload), AT, status),
    )


def _job(conn: psycopg.Connection[Any], org: str, store: str, day: date | None, source: str) -> None:
    conn.execute(
        "INSERT INTO export_jobs (organization_id, store_id, business_date, trigger, source_id) "
        "VALUES (%s, %s, %s, 'RETRY', %s)",
        (org, store, day, source),
    )


def _source(store: str, day: date, z: int) -> str:
    """The source id the ingest gives a day close's job (``SalesEnvelope.event_key``)."""
    close = DayClosed(DayClose(store, day, z, 0, 0), "Butik", ControlTotals(0, 0, (), ()), AT)
    return SalesEnvelope("e", "any-org", store, day, AT, close).event_key


def test_keys_carry_the_organization_and_the_days_the_old_key_dropped_get_their_job(empty_database_url: str) -> None:
    migrate(empty_database_url, [m for m in load_migrations() if m.version < 12])
    request_id = uuid.uuid4()
    with psycopg.connect(empty_database_url) as conn:
        for org in ("org-a", "org-b", "org-c"):
            _integration(conn, org, "inactive" if org == "org-c" else "active")
        # org-a closed s1 first and was booked; org-b's day close with the same store, date and Z lost its job.
        _day_close(conn, "org-a", "s1", DAY, 1, "exported")
        _day_close(conn, "org-b", "s1", DAY, 1, "open")
        # Not stuck: reopened and closed again (only the latest Z gets a job), already queued, before the start
        # date, of an inactive integration, mismatching.
        _day_close(conn, "org-b", "s2", DAY, 4, "open")
        _day_close(conn, "org-b", "s2", DAY, 5, "open")
        _day_close(conn, "org-b", "s3", DAY, 1, "open")
        _job(conn, "org-b", "s3", None, "a-manual-export:s3")
        _day_close(conn, "org-b", "s4", date(2026, 10, 31), 1, "open")
        _day_close(conn, "org-c", "s1", DAY, 1, "open")
        _day_close(conn, "org-b", "s5", DAY, 1, "mismatch")
        # A job waiting under the old key, a command taken and a manual export request of org-a.
        _job(conn, "org-a", "s9", DAY, _source("s9", DAY, 1))
        conn.execute("INSERT INTO processed_commands (command_id, organization_id) VALUES ('cmd-1', 'org-a')")
        conn.execute(
            "INSERT INTO manual_export_requests (request_id, organization_id) VALUES (%s, 'org-a')", (request_id,)
        )

    applied = migrate(empty_database_url, [m for m in load_migrations() if m.version <= 12])

    assert [m.version for m in applied] == [12]
    with psycopg.connect(empty_database_url) as conn:
        jobs = conn.execute(
            "SELECT organization_id, store_id, business_date, trigger, source_id, z_report_number FROM export_jobs "
            "ORDER BY id"
        ).fetchall()
        assert jobs[:2] == [
            ("org-b", "s3", None, "RETRY", "a-manual-export:s3", None),
            ("org-a", "s9", DAY, "RETRY", "dayclose:s9:2026-11-29:1", None),
        ]
        assert sorted(jobs[2:]) == [
            ("org-b", "s1", DAY, "DAY_CLOSE", _source("s1", DAY, 1), 1),  # the stuck day
            ("org-b", "s2", DAY, "DAY_CLOSE", _source("s2", DAY, 5), 5),  # its latest Z-report only
        ]
        conn.commit()
        migrate(empty_database_url)  # the code below is today's: every later migration too
        jobs_of = PostgresJobs(conn)
        # What was deduplicated before still is (a redelivery read across the upgrade queues nothing) ...
        assert not jobs_of.queue("org-a", "s9", DAY, Trigger.DAY_CLOSE, _source("s9", DAY, 1), 1)
        assert not jobs_of.queue("org-b", "s1", DAY, Trigger.DAY_CLOSE, _source("s1", DAY, 1), 1)
        # ... and another organization's identical source id is its own job.
        assert jobs_of.queue("org-c", "s9", DAY, Trigger.DAY_CLOSE, _source("s9", DAY, 1), 1)
        assert not jobs_of.record_command("org-a", "cmd-1")  # taken before the upgrade: not again
        assert jobs_of.record_command("org-b", "cmd-1")  # another organization's command with the same id
        conn.execute("INSERT INTO manual_export_requests (request_id, organization_id) VALUES (%s, 'org-b')",
                     (request_id,))  # fmt: skip
        keys = conn.execute(
            """SELECT c.conrelid::regclass::text, pg_get_constraintdef(c.oid) FROM pg_constraint c
               WHERE c.conrelid IN ('export_jobs'::regclass, 'processed_commands'::regclass,
                                    'manual_export_requests'::regclass) AND c.contype IN ('p', 'u')
               ORDER BY 1, 2"""
        ).fetchall()
    assert keys == [
        ("export_jobs", "PRIMARY KEY (id)"),
        ("export_jobs", "UNIQUE (organization_id, source_id)"),
        ("manual_export_requests", "PRIMARY KEY (organization_id, request_id)"),
        ("processed_commands", "PRIMARY KEY (organization_id, command_id)"),
    ]


def test_the_same_store_date_and_z_in_two_organizations_queue_two_jobs(database_url: str) -> None:
    """The attack run's finding: org-a's day close was booked, org-b's identical one was stored without a job."""
    close = DayClosed(DayClose("s1", DAY, 1, 0, 0), "Butik", ControlTotals(0, 0, (), ()), AT)
    with psycopg.connect(database_url) as conn:
        for org in ("org-a", "org-b"):
            ingested = record(conn, [SalesEnvelope("evt-1", org, "s1", DAY, AT, close)]).ingested
            assert ingested.new == 1 and not ingested.conflicts
        again = record(conn, [SalesEnvelope("evt-1", "org-b", "s1", DAY, AT, close)]).ingested  # a redelivery
        jobs = conn.execute(
            "SELECT organization_id, store_id, business_date, trigger, z_report_number FROM export_jobs ORDER BY 1"
        ).fetchall()
    assert again.new == 0
    assert jobs == [("org-a", "s1", DAY, "DAY_CLOSE", 1), ("org-b", "s1", DAY, "DAY_CLOSE", 1)]

"""Migration 0014 on existing data: corrections requested before it get the day they were made (in Stockholm,
not UTC) and keep a date already decided, marked as decided by the earlier rule; integrations start with no VAT
reporting set."""

from __future__ import annotations

import uuid
from datetime import date

import psycopg
import pytest
from psycopg.types.json import Jsonb

from storage.migrate import load_migrations, migrate

pytestmark = pytest.mark.integration


def test_corrections_before_0014_are_found_the_stockholm_day_they_were_requested(empty_database_url: str) -> None:
    migrate(empty_database_url, [m for m in load_migrations() if m.version < 14])
    dated, undated = uuid.uuid4(), uuid.uuid4()
    with psycopg.connect(empty_database_url) as conn:
        conn.execute("INSERT INTO integrations (organization_id, status) VALUES ('org-1', 'active')")
        for correction_id, requested_at, entry_date, in_period in (
            # 23:30 UTC on 31 March is 01:30 on 1 April in Stockholm (CEST)
            (dated, "2026-03-31 23:30:00+00", date(2026, 5, 1), False),
            (undated, "2026-11-20 10:00:00+00", None, None),
        ):
            conn.execute(
                """INSERT INTO corrections (correction_id, organization_id, store_id, business_date, reason,
                                            requested_by, requested_via, requested_at, originals, entry_date,
                                            in_original_period)
                   VALUES (%s, 'org-1', 's1', '2026-03-10', 'fel konto', 'anna', 'CLI', %s, %s, %s, %s)""",
                (correction_id, requested_at, Jsonb([]), entry_date, in_period),
            )
    migrate(empty_database_url)
    with psycopg.connect(empty_database_url) as conn:
        rows = dict(
            (r[0], r[1:])
            for r in conn.execute(
                "SELECT correction_id, found_on, requested_period, period_statement, dating, entry_date "
                "FROM corrections"
            ).fetchall()
        )
        reporting = conn.execute("SELECT vat_frequency, vat_above_40_msek FROM integrations").fetchall()
        with pytest.raises(psycopg.errors.CheckViolation):
            conn.execute("UPDATE corrections SET requested_period = 'ORIGINAL' WHERE correction_id = %s", (undated,))
    assert rows[dated] == (date(2026, 4, 1), "FOUND", None, "BEFORE_ISSUE_22", date(2026, 5, 1))
    assert rows[undated] == (date(2026, 11, 20), "FOUND", None, None, None)  # dated by the new rule when posted
    assert reporting == [(None, False)]  # not set: monthly is assumed

"""Conflict notices (issue #20 finding 6): once per organization, event and version within the window."""

from __future__ import annotations

from datetime import timedelta

import psycopg
import pytest

from storage.outbox import PostgresDeadLetters

pytestmark = pytest.mark.integration


def test_one_notice_per_organization_event_and_version_within_the_window(database_url: str) -> None:
    with psycopg.connect(database_url) as conn:
        day = PostgresDeadLetters(conn, timedelta(days=1))
        first = [day.first_conflict_notice("org-a", "receipt:r1", "v1") for _ in range(3)]
        assert first == [True, False, False]
        assert day.first_conflict_notice("org-a", "receipt:r1", "v2")  # another version
        assert day.first_conflict_notice("org-b", "receipt:r1", "v1")  # another organization's r1
        conn.execute("UPDATE conflict_notices SET notified_at = now() - interval '25 hours' WHERE version = 'v1'")
        assert day.first_conflict_notice("org-a", "receipt:r1", "v1")  # the window has passed: once more
        assert not day.first_conflict_notice("org-a", "receipt:r1", "v1")
        every = PostgresDeadLetters(conn, timedelta(0))
        assert [every.first_conflict_notice("org-c", "cash:m1", "v1") for _ in range(2)] == [True, True]
        copies = conn.execute("SELECT organization_id, version, copies FROM conflict_notices ORDER BY 1, 2").fetchall()
    assert copies == [("org-a", "v1", 5), ("org-a", "v2", 1), ("org-b", "v1", 1), ("org-c", "v1", 2)]

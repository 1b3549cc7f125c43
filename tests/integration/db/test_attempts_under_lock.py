"""The post and the attach are put on record in one statement each (issue #27: fewer round trips per booked day);
whether one was on record before is still read from what is committed when the row's lock is granted, not from the
statement's snapshot: a worker that waited for another's lease (or attach) to commit never takes the row for a
first post (or a first attach)."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any, TypeVar

import psycopg
import pytest

from mapping.voucher import Voucher, VoucherRow
from service.messages import Trigger
from service.model import AttachTarget, Export, ExportStatus, Lease, LeaseTaken
from storage.documents import PostgresDocuments
from storage.exports import PostgresExports

pytestmark = pytest.mark.integration
ORG, STORE, DAY = "org-l", "s1", date(2026, 9, 30)
VOUCHER = Voucher("D", DAY, "Dagsavslut ref DC-x", "DC-x", (VoucherRow("1910", 100), VoucherRow("3001", -100)))
T = TypeVar("T")


def _export(conn: psycopg.Connection[Any], status: str) -> uuid.UUID:
    export_id = uuid.uuid4()
    conn.execute(
        "INSERT INTO exports (export_id, reference, organization_id, store_id, business_date, trigger, status, "
        "event_count, bl_entity_id) VALUES (%s, %s, %s, %s, %s, 'DAY_CLOSE', %s, 1, 7)",
        (export_id, f"DC-{export_id.hex[:16]}", ORG, STORE, DAY, status),
    )
    conn.commit()
    return export_id


def _while_held(database_url: str, hold: Callable[[psycopg.Connection[Any]], object], wait: Callable[[], T]) -> T:
    """``wait`` run on another thread while ``hold``'s transaction is open; committed once ``wait`` blocks on it."""
    result: list[T] = []
    with psycopg.connect(database_url) as holder:
        hold(holder)
        pid = holder.info.backend_pid
        waiter = threading.Thread(target=lambda: result.append(wait()))
        waiter.start()
        with psycopg.connect(database_url, autocommit=True) as watch:
            for _ in range(1000):  # until the waiter's statement waits for the holder's lock (not a timed race)
                row = watch.execute(
                    "SELECT count(*) FROM pg_locks WHERE NOT granted AND pid <> %s AND pid <> pg_backend_pid()", (pid,)
                ).fetchone()
                if row and row[0]:
                    break
                time.sleep(0.01)
            else:  # pragma: no cover
                raise AssertionError("the second worker never waited for the first one's lock")
        holder.commit()
        waiter.join(timeout=30)
    return result[0]


def test_a_lease_taken_while_another_commits_its_post_attempt_is_not_a_first_post(database_url: str) -> None:
    with psycopg.connect(database_url) as conn:
        export_id = _export(conn, "posting")
    export = Export(export_id, "DC-x", ORG, STORE, DAY, Trigger.DAY_CLOSE, ExportStatus.POSTING, 0, None)

    def second() -> LeaseTaken:
        with psycopg.connect(database_url) as conn:
            return PostgresExports(conn).take_lease(export, "b:w1", timedelta(minutes=5), VOUCHER, 1)

    # The first worker's lease (lapsed at once, so the second may take the export over) is not committed yet.
    first = PostgresExports.take_lease
    taken = _while_held(
        database_url, lambda c: first(PostgresExports(c), export, "a:w1", timedelta(0), VOUCHER, 1), second
    )
    # The first one's post may be in BL, or on its way there until now: look it up, after the whole quiet period.
    assert taken == LeaseTaken(Lease.POSTED_BEFORE, 0.0)


def test_an_attach_begun_while_another_commits_its_attempt_is_not_a_first_attach(database_url: str) -> None:
    with psycopg.connect(database_url) as conn:
        export_id = _export(conn, "booked")

    def second() -> AttachTarget:
        with psycopg.connect(database_url) as conn:
            return PostgresDocuments(conn).begin_attach(export_id)

    target = _while_held(database_url, lambda c: PostgresDocuments(c).begin_attach(export_id), second)
    assert (target.entity_id, target.attempted_before, target.direct) == (7, True, False)


def test_an_attach_that_ended_for_now_is_waited_for_from_its_end_not_its_start(database_url: str) -> None:
    """An attempt began a minute ago and retried inside its call until now: the next read-back counts from its end."""
    with psycopg.connect(database_url) as conn:
        export_id = _export(conn, "booked")
        conn.execute(
            """UPDATE exports SET document_status = 'pending', document_attach_attempted_at = now() - interval '60 s'
               WHERE export_id = %s""",
            (export_id,),
        )
        conn.commit()
        PostgresDocuments(conn).attach_ended(export_id)
        conn.commit()
        target = PostgresDocuments(conn).begin_attach(export_id)
    assert target.attempted_before and target.last_attempt_s_ago is not None and target.last_attempt_s_ago < 5


def test_a_lease_let_go_is_an_attempt_that_ended_and_only_its_owner_can_let_it_go(database_url: str) -> None:
    with psycopg.connect(database_url) as conn:
        export_id = _export(conn, "posting")
    export = Export(export_id, "DC-x", ORG, STORE, DAY, Trigger.DAY_CLOSE, ExportStatus.POSTING, 0, None)
    with psycopg.connect(database_url, autocommit=True) as conn:
        exports = PostgresExports(conn)
        assert exports.take_lease(export, "a:w1", timedelta(minutes=5), VOUCHER, 1).kind is Lease.FIRST_POST
        exports.let_go(export, "b:w1")  # not b's: nothing changes
        assert conn.execute("SELECT lease_owner FROM exports WHERE export_id = %s", (export_id,)).fetchone() == (
            "a:w1",
        )
        conn.execute("UPDATE exports SET updated_at = now() - interval '60 seconds' WHERE export_id = %s", (export_id,))
        exports.let_go(export, "a:w1")
        taken = exports.take_lease(export, "b:w1", timedelta(minutes=5), VOUCHER, 1)
    # a's attempt ended when it let go (just now), not a minute ago: b looks up after (nearly) the whole quiet period
    assert taken.kind is Lease.POSTED_BEFORE and taken.last_post_s_ago is not None and taken.last_post_s_ago < 5

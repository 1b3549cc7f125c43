"""Migration 0018 on existing exports: every export that may have been posted before it keeps looking its reference
up before it posts (an export not booked whose voucher was stored, i.e. leased); one never leased goes without; a
document booked before it is read back before attaching (its voucher's entity id was never kept). Then the lease and
the attach record their attempts under the row's lock."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

import psycopg
import pytest
from psycopg.types.json import Jsonb

from mapping.voucher import Voucher, VoucherRow
from service.messages import Trigger
from service.model import Export, ExportStatus, Lease
from storage.codecs import voucher_to_json
from storage.documents import PostgresDocuments
from storage.exports import PostgresExports
from storage.migrate import load_migrations, migrate

pytestmark = pytest.mark.integration
ORG, STORE, DAY = "org-m", "s1", date(2026, 9, 30)
VOUCHER = Voucher("D", DAY, "Dagsavslut ref DC-x", "DC-x", (VoucherRow("1910", 100), VoucherRow("3001", -100)))


def _export(conn: psycopg.Connection[Any], status: str, *, voucher: bool, document: str | None = None) -> uuid.UUID:
    export_id = uuid.uuid4()
    conn.execute(
        "INSERT INTO exports (export_id, reference, organization_id, store_id, business_date, trigger, status, "
        "event_count, voucher, voucher_series, voucher_number, document_status) "
        "VALUES (%s, %s, %s, %s, %s, 'DAY_CLOSE', %s, 1, %s, %s, %s, %s)",
        (
            export_id,
            f"DC-{export_id.hex[:16]}",
            ORG,
            STORE,
            DAY,
            status,
            Jsonb(voucher_to_json(VOUCHER, 1)) if voucher else None,
            "D" if status == "booked" else None,
            1 if status == "booked" else None,
            document,
        ),
    )
    return export_id


def _as_export(export_id: uuid.UUID, status: str) -> Export:
    return Export(export_id, "DC-x", ORG, STORE, DAY, Trigger.DAY_CLOSE, ExportStatus(status), 0, None)


def test_exports_that_may_have_been_posted_look_up_and_the_rest_post_at_once(empty_database_url: str) -> None:
    migrate(empty_database_url, [m for m in load_migrations() if m.version < 18])
    with psycopg.connect(empty_database_url) as conn:
        leased = _export(conn, "posting", voucher=True)  # leased before: maybe in BL
        refused = _export(conn, "failed", voucher=True)  # refused by BL's post, or by a pre-flight after a lease
        claimed = _export(conn, "posting", voucher=False)  # claimed, never leased: never posted
        unmappable = _export(conn, "failed", voucher=False)  # refused before a voucher existed
        booked = _export(conn, "booked", voucher=True, document="pending")

    assert [m.version for m in migrate(empty_database_url, [m for m in load_migrations() if m.version <= 18])] == [18]

    with psycopg.connect(empty_database_url) as conn:
        attempted = dict(conn.execute("SELECT export_id, post_attempted_at IS NOT NULL FROM exports").fetchall())
        assert attempted == {leased: True, refused: True, claimed: False, unmappable: False, booked: False}
        exports = PostgresExports(conn)
        lease = timedelta(minutes=5)
        leases = {
            export_id: exports.take_lease(_as_export(export_id, status), "me:w1", lease, VOUCHER, 1).kind
            for export_id, status in ((leased, "posting"), (refused, "failed"), (claimed, "posting"))
        }
        assert leases == {leased: Lease.POSTED_BEFORE, refused: Lease.POSTED_BEFORE, claimed: Lease.FIRST_POST}
        # The lease put the post on record: the next attempt, whoever makes it, looks up.
        assert (
            exports.take_lease(_as_export(claimed, "posting"), "me:w1", lease, VOUCHER, 1).kind is Lease.POSTED_BEFORE
        )

        documents = PostgresDocuments(conn)
        first = documents.begin_attach(booked)
        assert (first.entity_id, first.attempted_before, first.direct) == (None, False, False)  # read back first
        conn.execute("UPDATE exports SET bl_entity_id = 50001 WHERE export_id = %s", (booked,))
        again = documents.begin_attach(booked)
        assert (again.entity_id, again.attempted_before, again.direct) == (50001, True, False)


def test_a_lease_held_by_a_live_worker_is_not_taken_and_puts_nothing_on_record(database_url: str) -> None:
    with psycopg.connect(database_url) as conn:
        export_id = _export(conn, "posting", voucher=False)
        conn.execute(
            "UPDATE exports SET lease_owner = %s, lease_until = now() + interval '5 minutes' WHERE export_id = %s",
            # A lease of this very connection's process: alive (its application_name is in pg_stat_activity).
            ("live:w1", export_id),
        )
        conn.execute("SET application_name = 'dayclose-live'")
        conn.commit()
        exports = PostgresExports(conn)
        taken = exports.take_lease(_as_export(export_id, "posting"), "other:w2", timedelta(minutes=5), VOUCHER, 1)
        assert taken.kind is Lease.HELD_ELSEWHERE
        row = conn.execute("SELECT post_attempted_at, voucher FROM exports WHERE export_id = %s", (export_id,))
        assert row.fetchone() == (None, None)

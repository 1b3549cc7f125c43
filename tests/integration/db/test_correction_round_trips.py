"""A correction's round trips to PostgreSQL, counted on the wire: the same before and after its decisions moved
into :mod:`service.correction_requests` (#23), and what it stores (the correction, one reversal per booked voucher,
their jobs, the day queued anew once a reversal is booked) with it.

Measured on main (``storage.corrections.request_reexport`` and ``complete_correction``): 8 round trips to request
the correction of a day with two booked vouchers (the originals locked, the correction, per voucher its reversal,
its job and the job's ``NOTIFY``), 5 to complete one reversal (its original, the original marked reversed, its day
close reopened, the re-export's job and ``NOTIFY``).
"""

from __future__ import annotations

import psycopg
import pytest

from service import bus, correction_requests
from service.correction_requests import CorrectDay
from storage.uow import OnConnection
from tests.integration.db.test_retention import OLD, ORG, STORE, activate, book, claim, ingest, receipts, reversal_of
from tests.wire import Wire

pytestmark = pytest.mark.integration


def test_a_correction_and_its_completion_cost_the_same_round_trips_as_before(database_url: str) -> None:
    with psycopg.connect(database_url, autocommit=True) as conn:
        activate(conn)
        ingest(conn, receipts(2))
        first = claim(conn)
        book(conn, first.export_id, 1)
        ingest(conn, receipts(1))
        second = claim(conn)
        book(conn, second.export_id, 2)

        with conn.transaction(), Wire(conn) as trips:
            requested = bus.handle(OnConnection(conn), CorrectDay(ORG, STORE, OLD, reason="fel", requested_by="anna"))
        assert trips.count == 8
        reversals = conn.execute(
            "SELECT reverses, correction_id, status, event_count FROM exports WHERE trigger = 'CORRECTION' "
            "ORDER BY created_at"
        ).fetchall()
        assert reversals == [(e, requested.correction_id, "posting", 0) for e in (first.export_id, second.export_id)]
        jobs = conn.execute("SELECT trigger, source_id FROM export_jobs ORDER BY id").fetchall()
        assert jobs == [("CORRECTION", f"correction:{r}") for r in requested.reversal_export_ids]

        reversal = requested.reversal_export_ids[0]
        book(conn, reversal, 3)
        with conn.transaction(), Wire(conn) as trips:
            correction_requests.complete(OnConnection(conn), reversal_of(reversal))
        assert trips.count == 5
        assert conn.execute("SELECT trigger, source_id FROM export_jobs ORDER BY id DESC LIMIT 1").fetchone() == (
            "DAY_CLOSE",
            f"reexport:{reversal}",
        )

"""The export job's claim is a lease committed before the job runs, and its result is committed after (issue #23): no
transaction stays open while BL is called. Against real PostgreSQL: who may take which job, and a slow BL under a
short ``idle_in_transaction_session_timeout``."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import psycopg
import pytest
from psycopg_pool import ConnectionPool

from consumer.events import AvroEvents
from devstack.bl_standin import BLStandIn, Company
from exporters.bl import BLExporter
from exporters.reporting import PdfDayReports
from service.deps import ExportDeps
from service.jobs import run_next_job
from service.messages import Trigger
from storage.exports import LEASE_PREFIX
from storage.jobs import PostgresJobs
from storage.uow import unit_of_work
from tests.integration.pipeline.conftest import FAST_POLICY, a_closed_day

pytestmark = pytest.mark.integration
DAY = date(2026, 11, 25)
LEASE = timedelta(minutes=10)


def process(database_url: str, instance: str) -> psycopg.Connection[Any]:
    """A connection of a `dayclose run` process (its instance in application_name: what keeps its leases alive)."""
    return psycopg.connect(database_url, autocommit=True, application_name=f"{LEASE_PREFIX}{instance}")


def lease(conn: psycopg.Connection[Any], owner: str, lease: timedelta = LEASE) -> str | None:
    """The source id of the job ``owner`` leased (committed at once), or None."""
    job = PostgresJobs(conn).lease_next(owner, lease)
    if job is None:
        return None
    row = conn.execute("SELECT source_id FROM export_jobs WHERE id = %s", (job.id,)).fetchone()
    return row[0] if row else None


@pytest.fixture
def jobs(database_url: str) -> Iterator[PostgresJobs]:
    with psycopg.connect(database_url, autocommit=True) as conn:
        yield PostgresJobs(conn)


def test_a_store_s_jobs_are_leased_one_at_a_time_in_order_and_a_dead_process_s_lease_is_void(
    database_url: str, jobs: PostgresJobs
) -> None:
    jobs.queue("o", "s1", DAY, Trigger.DAY_CLOSE, "a")
    jobs.queue("o", "s1", None, Trigger.MANUAL, "b")
    jobs.queue("o", "s2", DAY, Trigger.DAY_CLOSE, "c")
    with process(database_url, "p1") as p1, process(database_url, "p2") as p2:
        assert lease(p1, "p1:w0") == "a"
        assert lease(p2, "p2:w0") == "c"  # s1's next job waits behind the one leased
        assert lease(p2, "p2:w1") is None
        assert lease(p1, "p1:w0") == "a"  # a worker takes its own lease back (its database went away mid-job)
    with process(database_url, "p3") as p3:
        assert lease(p3, "p3:w0") == "a"  # p1 is gone (no connection left): its lease is void at once
        assert lease(p3, "p3:w1") == "c"
        assert jobs.finish(_job(p3, "a"), "p3:w0")
        assert lease(p3, "p3:w2") == "b"  # a's done: s1's next job


def test_a_lapsed_lease_is_taken_over_and_a_worker_s_own_lease_comes_first(
    database_url: str, jobs: PostgresJobs
) -> None:
    jobs.queue("o", "s0", DAY, Trigger.DAY_CLOSE, "x", delay=timedelta(hours=1))  # not due yet
    jobs.queue("o", "s1", DAY, Trigger.DAY_CLOSE, "y")
    jobs.queue("o", "s2", DAY, Trigger.DAY_CLOSE, "z")
    with process(database_url, "p1") as p1, process(database_url, "p2") as p2:
        assert lease(p1, "p1:w0") == "y"
        p1.execute("UPDATE export_jobs SET not_before = now() WHERE source_id = 'x'")  # older, and due now
        assert lease(p1, "p1:w0") == "y"  # its own first, before the older job it does not hold
        assert lease(p2, "p2:w0", timedelta(0)) == "x"  # leased for no time: lapsed at once
        assert lease(p1, "p1:w1") == "x"
        assert not PostgresJobs(p2).renew(_job(p2, "x"), "p2:w0", LEASE)  # taken over: not p2's to renew
        assert PostgresJobs(p1).renew(_job(p1, "x"), "p1:w1", LEASE)
        # Nor p2's to end: finishing, rescheduling or parking a job taken over writes nothing (its holder decides).
        former = PostgresJobs(p2)
        assert not former.finish(_job(p2, "x"), "p2:w0")
        assert not former.reschedule(_job(p2, "x"), timedelta(minutes=1), "p2:w0")
        assert not former.park(_job(p2, "x"), until=datetime.now(UTC) + timedelta(hours=1), owner="p2:w0")
        assert lease(p1, "p1:w1") == "x"  # still p1's, due and unparked
        assert PostgresJobs(p1).reschedule(_job(p1, "x"), timedelta(minutes=1), "p1:w1")


def _job(conn: psycopg.Connection[Any], source: str) -> Any:
    from service.model import Job

    row = conn.execute(
        "SELECT id, organization_id, store_id FROM export_jobs WHERE source_id = %s", (source,)
    ).fetchone()
    assert row is not None
    return Job(row[0], row[1], row[2], DAY, Trigger.DAY_CLOSE, 0, 0.0)


def test_a_slow_bl_under_a_short_idle_in_transaction_timeout_books_the_day_once_and_ends_the_job(
    database_url: str, bl_standin: BLStandIn, bl_company: Company, make_bl_exporter: Callable[..., BLExporter]
) -> None:
    """PostgreSQL ends a session idle in a transaction for longer than 1 s here; BL answers each request after 1.2 s.
    The claim used to be a FOR UPDATE held open across the export's BL calls: its session was ended mid-job and the
    job's end could not commit (the worker raised; the job ran again)."""
    vault = a_closed_day(database_url, bl_company.user_key, DAY)
    bl_standin.set_faults(latency_s=1.2)
    instance = "slowbl"
    pool: ConnectionPool[Any] = ConnectionPool(
        database_url,
        min_size=1,
        max_size=4,
        open=True,
        kwargs={
            "application_name": f"{LEASE_PREFIX}{instance}",
            "options": "-c idle_in_transaction_session_timeout=1000",
        },
    )
    try:
        deps = ExportDeps(
            unit_of_work(pool, vault, AvroEvents("outcomes", "dlq", "commands")),
            make_bl_exporter(timeout_s=10.0),
            PdfDayReports(),
            FAST_POLICY,
            today=lambda: DAY,
            instance=instance,
        )
        assert run_next_job(deps) is True
        assert run_next_job(deps) is False  # the job ended: nothing left to run
    finally:
        pool.close()
    with psycopg.connect(database_url) as conn:
        assert conn.execute("SELECT count(*) FROM export_jobs").fetchone() == (0,)
        assert conn.execute("SELECT status, document_status FROM exports").fetchall() == [("booked", "attached")]
    assert len(bl_standin.vouchers(bl_company.user_key)) == 1


def test_an_operator_sees_which_worker_runs_a_store_s_job(database_url: str, jobs: PostgresJobs) -> None:
    """`dayclose exports show` lists the store's queued jobs: one being run names its worker and its lease."""
    from storage.operations import export_detail

    jobs.queue("o", "s1", DAY, Trigger.DAY_CLOSE, "a")
    with process(database_url, "p1") as p1:
        assert lease(p1, "p1:export-worker-0") == "a"
        p1.execute(
            """INSERT INTO exports (export_id, reference, organization_id, store_id, business_date, trigger, status,
                                   event_count)
               VALUES (gen_random_uuid(), 'DC-0001', 'o', 's1', %s, 'DAY_CLOSE', 'posting', 3)""",
            (DAY,),
        )
        detail = export_detail(p1, "DC-0001")
    assert detail is not None
    (job,) = detail["jobs"]
    assert job["leased_to"] == "p1:export-worker-0" and job["lease_until"] is not None


def test_a_parked_job_that_came_due_while_a_newer_job_of_its_store_was_being_leased_waits(
    database_url: str, jobs: PostgresJobs
) -> None:
    """Both workers saw the other's job as not running; under the store's lock, the one that waited sees the other's
    lease (the check and the lease are one statement since issue #27) and leases nothing."""
    import threading
    import time

    jobs.queue("o", "s1", DAY, Trigger.DAY_CLOSE, "parked", delay=timedelta(hours=1))
    jobs.conn.execute("UPDATE export_jobs SET parked = true WHERE source_id = 'parked'")
    jobs.queue("o", "s1", DAY, Trigger.DAY_CLOSE, "newer")
    taken: list[object] = []
    with psycopg.connect(database_url, application_name=f"{LEASE_PREFIX}p1") as p1:
        leased = PostgresJobs(p1).lease_next("p1:w0", LEASE)  # not committed yet
        assert leased is not None and leased.id == _job(jobs.conn, "newer").id
        jobs.conn.execute("UPDATE export_jobs SET not_before = now() WHERE source_id = 'parked'")  # due now

        def second() -> None:
            with process(database_url, "p2") as p2:
                taken.append(lease(p2, "p2:w0"))

        waiter = threading.Thread(target=second)
        waiter.start()
        for _ in range(1000):  # until the second worker waits for the store's lock (not a timed race)
            row = jobs.conn.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")
            if (row.fetchone() or (0,))[0]:
                break
            time.sleep(0.01)
        else:  # pragma: no cover
            raise AssertionError("the second worker never waited for the store's lock")
        p1.commit()
        waiter.join(timeout=30)
    assert taken == [None]


def test_a_lease_read_inside_a_transaction_that_saw_the_dead_process_alive_sees_it_gone(
    database_url: str, jobs: PostgresJobs
) -> None:
    """PostgreSQL keeps a transaction's first list of who is connected; the lease asks for a fresh one when it runs
    inside a transaction that read it before (and spares the round trip when its transaction has not begun)."""
    import time

    jobs.queue("o", "s1", DAY, Trigger.DAY_CLOSE, "a")
    with process(database_url, "p1") as p1:
        assert lease(p1, "p1:w0") == "a"
        with psycopg.connect(database_url, application_name=f"{LEASE_PREFIX}p2") as p2:
            seen = p2.execute("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'dayclose-p1'")
            assert seen.fetchone() == (1,)  # p2's transaction has its list now: p1 alive
            p1.close()
            for _ in range(1000):  # until PostgreSQL has seen p1 go (a fresh list each time: autocommit)
                gone = jobs.conn.execute("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'dayclose-p1'")
                if gone.fetchone() == (0,):
                    break
                time.sleep(0.01)
            job = PostgresJobs(p2).lease_next("p2:w0", LEASE)
            assert job is not None and job.id == _job(jobs.conn, "a").id  # p1's lease is void: p1 is gone

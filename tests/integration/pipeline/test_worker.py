"""The export worker on its own, against real PostgreSQL: claims, ordering and failure handling."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta

import psycopg
import pytest
from psycopg_pool import ConnectionPool

from consumer.events import AvroEvents
from consumer.records import sales_envelope
from dayclose.keys import KeyVault
from devstack import sampledata
from exporters.reporting import PdfDayReports
from service.deps import ExportDeps
from service.jobs import run_next_job
from service.lifecycle import ExportPolicy
from service.model import IntegrationStatus
from service.secrets import Secret
from storage.codecs import plan_from_json
from storage.integrations import PostgresIntegrations
from storage.jobs import PostgresJobs
from storage.uow import unit_of_work
from tests.recording import record

pytestmark = pytest.mark.integration
DAY = date(2026, 11, 25)


class BrokenExporter:
    def __init__(self) -> None:
        self.calls = 0

    def verify(self, user_key: str) -> None:
        raise NotImplementedError

    def preflight(self, voucher: object, user_key: str, plan: object = None, *, org: object = None) -> None:
        pass

    def export(
        self,
        voucher: object,
        user_key: str,
        attachment: object = None,
        *,
        maybe_posted: bool = True,
        last_post_s_ago: float | None = None,
        org: object = None,
        fence: object = None,
    ) -> None:
        self.calls += 1
        raise RuntimeError("an answer nobody expected")


@pytest.fixture
def pool(database_url: str) -> Iterator[ConnectionPool]:
    with ConnectionPool(database_url, min_size=1, max_size=4, open=True) as p:
        yield p


def seed(database_url: str, vault: KeyVault, stores: list[str]) -> None:
    with psycopg.connect(database_url) as conn:
        integrations = PostgresIntegrations(conn, vault)
        integrations.save("o", user_key=Secret("k"), status=IntegrationStatus.ACTIVE, start_date=date(2026, 1, 1))
        integrations.save_plan(plan_from_json("o", sampledata.SAMPLE_PLAN))
        for store in stores:
            day = sampledata.store_day("o", store, DAY, 3)
            record(conn, [sales_envelope(r) for r in [*day.events(), day.day_closed()]])


def test_an_unexpected_error_keeps_the_job_and_backs_off_instead_of_looping(
    database_url: str, pool: ConnectionPool
) -> None:
    vault = KeyVault(Secret(KeyVault.generate_key()))
    seed(database_url, vault, ["s1"])
    exporter = BrokenExporter()
    deps = ExportDeps(
        unit_of_work(pool, vault, AvroEvents("outcomes", "dlq", "commands")),
        exporter,  # type: ignore[arg-type]
        PdfDayReports(),
        ExportPolicy(transient_backoff_initial=timedelta(minutes=1)),
    )
    assert run_next_job(deps) is True
    with psycopg.connect(database_url) as conn:
        row = conn.execute("SELECT attempts, not_before > now() + interval '30 seconds' FROM export_jobs").fetchone()
        statuses = [r[0] for r in conn.execute("SELECT status FROM exports")]
    assert row == (1, True)
    assert statuses == ["posting"]  # kept, and it will look the voucher up before any new post
    assert run_next_job(deps) is False  # not due again yet: no hot loop
    assert exporter.calls == 1


def test_only_the_oldest_job_of_a_store_is_claimable_even_while_its_lease_is_being_taken(
    database_url: str, pool: ConnectionPool
) -> None:
    """Two workers lease at the same moment (neither has committed): the second skips the row being leased and does
    not take the store's next job either. (The lease's rules once committed: test_job_lease.py.)"""
    from service.messages import Trigger

    with psycopg.connect(database_url) as conn:
        jobs = PostgresJobs(conn)
        jobs.queue("o", "s1", DAY, Trigger.DAY_CLOSE, "a")
        jobs.queue("o", "s1", None, Trigger.MANUAL, "b")
        jobs.queue("o", "s2", DAY, Trigger.DAY_CLOSE, "c")
    lease = timedelta(minutes=10)
    with psycopg.connect(database_url) as first, psycopg.connect(database_url) as second:
        with first.transaction(), second.transaction():
            job_a = PostgresJobs(first).lease_next("p1:w0", lease)
            job_c = PostgresJobs(second).lease_next("p2:w0", lease)  # s1's next job waits behind the one in hand
            assert job_a is not None and job_c is not None
            assert (job_a.store_id, job_c.store_id) == ("s1", "s2")
            with psycopg.connect(database_url) as third, third.transaction():
                assert PostgresJobs(third).lease_next("p3:w0", lease) is None

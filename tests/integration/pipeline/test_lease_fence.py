"""A worker whose job was taken over sends nothing more to BL (the fence before every write), against real PostgreSQL
and the BL stand-in.

Worker A posts, BL answers 503 and A waits its quiet period to look again. Meanwhile A's lease is taken over by
worker B (in production: A's every connection was gone a while, a database restart, so its leases were void; here
A's leases lapse at once, which voids them the same way). Both look up and find nothing, because nothing was booked.
Then A would post again and B would post too: the day booked twice. The fence makes A stop before its post; B books
the day once. The negative control shows the race booking twice without it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import date, timedelta
from typing import Any

import psycopg
import pytest
import structlog
from psycopg_pool import ConnectionPool

from consumer.events import AvroEvents
from dayclose.keys import KeyVault
from devstack.bl_standin import BLStandIn, Company
from exporters.bl import BLExporter
from exporters.reporting import PdfDayReports
from service import jobs
from service.deps import ExportDeps
from service.jobs import run_next_job
from storage.exports import LEASE_PREFIX
from storage.uow import unit_of_work
from tests.integration.pipeline.conftest import FAST_POLICY, a_closed_day

pytestmark = pytest.mark.integration
DAY = date(2026, 11, 25)
#: How long either side waits for the other before the test fails (never reached when the code is right).
PATIENCE_S = 20.0


class Race:
    """A held in its quiet wait after the failed post until B is about to post; B held there until A is done."""

    def __init__(self) -> None:
        self.a_waiting = threading.Event()
        self.a_go = threading.Event()
        self.a_done = threading.Event()

    def a_sleep(self, seconds: float) -> None:  # A's exporter's sleep: the retry's quiet wait blocks here once
        if not self.a_waiting.is_set():
            self.a_waiting.set()
            assert self.a_go.wait(PATIENCE_S), "B never came to post"

    def hold_b_post(self, session: Any) -> None:
        send = session.request

        def request(method: str, url: str, *args: Any, **kwargs: Any) -> Any:
            if method == "POST" and url.endswith("/journal") and not self.a_go.is_set():
                self.a_go.set()  # B has looked up and found nothing: A goes on
                assert self.a_done.wait(PATIENCE_S), "A never finished"
            return send(method, url, *args, **kwargs)

        session.request = request


@pytest.fixture
def setting(database_url: str, bl_company: Company) -> Iterator[tuple[KeyVault, list[ConnectionPool[Any]]]]:
    vault = a_closed_day(database_url, bl_company.user_key, DAY)
    pools: list[ConnectionPool[Any]] = []
    yield vault, pools
    for pool in pools:
        pool.close()


def _worker(
    database_url: str,
    vault: KeyVault,
    pools: list[ConnectionPool[Any]],
    instance: str,
    exporter: BLExporter,
    **policy: Any,
) -> ExportDeps:
    pool: ConnectionPool[Any] = ConnectionPool(
        database_url, min_size=1, max_size=4, open=True, kwargs={"application_name": f"{LEASE_PREFIX}{instance}"}
    )
    pools.append(pool)
    return ExportDeps(
        unit_of_work(pool, vault, AvroEvents("outcomes", "dlq", "commands")),
        exporter,
        PdfDayReports(),
        replace(FAST_POLICY, **policy),
        today=lambda: DAY,
        instance=instance,
    )


def _race(
    database_url: str,
    setting: tuple[KeyVault, list[ConnectionPool[Any]]],
    bl_standin: BLStandIn,
    make_bl_exporter: Callable[..., BLExporter],
) -> None:
    vault, pools = setting
    race = Race()
    lapsing = timedelta(milliseconds=1)  # A's leases lapse at once: B may take them over, as after A lost the database
    a = _worker(database_url, vault, pools, "a", make_bl_exporter(sleep=race.a_sleep), lease=lapsing, job_lease=lapsing)
    b_exporter = make_bl_exporter(sleep=lambda s: None)
    race.hold_b_post(b_exporter.transport.session)
    b = _worker(database_url, vault, pools, "b", b_exporter)
    bl_standin.set_faults(errors_next=1, error_status=503, paths=("/journal",), methods=("POST",))

    def run_a() -> None:
        try:
            run_next_job(a)
        finally:
            race.a_done.set()

    worker_a = threading.Thread(target=run_a)
    worker_a.start()
    assert race.a_waiting.wait(PATIENCE_S), "A's post never failed"
    assert run_next_job(b) is True
    worker_a.join(PATIENCE_S)
    assert not worker_a.is_alive()


def _booked(bl_standin: BLStandIn, bl_company: Company) -> list[Any]:
    return [v for v in bl_standin.vouchers(bl_company.user_key) if "DC-" in str(v)]


def test_a_worker_whose_job_was_taken_over_posts_nothing_more_and_the_day_is_booked_once(
    database_url: str,
    setting: tuple[KeyVault, list[ConnectionPool[Any]]],
    bl_standin: BLStandIn,
    bl_company: Company,
    make_bl_exporter: Callable[..., BLExporter],
) -> None:
    with structlog.testing.capture_logs() as logs:
        _race(database_url, setting, bl_standin, make_bl_exporter)
    assert len(_booked(bl_standin, bl_company)) == 1
    assert bl_standin.requests.count("POST", "/journal") == 2  # A's refused post and B's; A sent no second one
    assert any(e["event"] == "job.lease_lost" and e.get("step") == "before a write to BL" for e in logs)
    with psycopg.connect(database_url) as conn:
        assert conn.execute("SELECT status, document_status FROM exports").fetchall() == [("booked", "attached")]
        assert conn.execute("SELECT count(*) FROM export_jobs").fetchone() == (0,)  # B ended the job


def test_without_the_fence_the_same_race_books_the_day_twice(
    monkeypatch: pytest.MonkeyPatch,
    database_url: str,
    setting: tuple[KeyVault, list[ConnectionPool[Any]]],
    bl_standin: BLStandIn,
    bl_company: Company,
    make_bl_exporter: Callable[..., BLExporter],
) -> None:
    """The negative control: the race is real. A's retry looks up, finds nothing, posts; B, which had looked up
    before, posts too."""
    monkeypatch.setattr(jobs, "fence", lambda deps, job, held: None)
    _race(database_url, setting, bl_standin, make_bl_exporter)
    assert len(_booked(bl_standin, bl_company)) == 2

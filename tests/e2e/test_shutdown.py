"""Bounded shutdown: `dayclose run` and `dayclose api`, as their own processes, get SIGTERM while Kafka,
PostgreSQL or BL is gone or hanging, and exit within DAYCLOSE_SHUTDOWN_TIMEOUT_SECONDS; a restart then
finishes what was cut off, booking each day exactly once.

The tests wait for the exit with a generous timeout (they assert that the process ended, not how fast
this machine is); the measured time from SIGTERM to exit is printed (``-s``) and kept as a property.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from devstack import sampledata
from devstack.bl_standin import BLStandIn, Company
from devstack.harness import Harness, Topics, make_settings
from devstack.kafka import KafkaCluster, MockKafkaCluster
from devstack.postgres import LocalPostgres, create_database
from devstack.processes import ServiceProcess, service_env
from storage.migrate import migrate
from tests.integration.pipeline.oracle import booked_totals, expected_totals
from tests.tokens import SERVICE_TOKEN, bearer
from tests.waiting import wait_until

pytestmark = pytest.mark.e2e
ORG = "org-shutdown"
DAY_1, DAY_2 = date(2026, 11, 24), date(2026, 11, 25)
DEADLINE_S = 5
#: How long a test waits for the exit before it fails: the deadline plus room for a loaded machine.
EXIT_WAIT_S = DEADLINE_S + 25
FAST_RESTART = {
    "DAYCLOSE_SHUTDOWN_TIMEOUT_SECONDS": str(DEADLINE_S),
    # A member cut off before leaving its group holds its partitions for the session timeout.
    "KAFKA_SESSION_TIMEOUT_MS": "6000",
    "KAFKA_HEARTBEAT_INTERVAL_MS": "500",
    "BL_AMBIGUOUS_QUIET_SECONDS": "1",
}


def start(
    h: Harness, log_path: Path, argv: tuple[str, ...] = (sys.executable, "-m", "dayclose", "run"), **extra: str
) -> ServiceProcess:
    return ServiceProcess(service_env(h.settings, **FAST_RESTART, **extra), log_path, argv=argv).start()


def sigterm(process: ServiceProcess, record_property: Callable[[str, object], None], scenario: str) -> int:
    """SIGTERM, then wait for the exit; fails if the process is still running after EXIT_WAIT_S."""
    assert process.process is not None and process.alive, process.log_tail()
    sent = time.monotonic()
    process.process.send_signal(signal.SIGTERM)
    try:
        code = process.process.wait(timeout=EXIT_WAIT_S)
    except subprocess.TimeoutExpired:
        process.kill()
        pytest.fail(
            f"{scenario}: still running {EXIT_WAIT_S}s after SIGTERM (deadline {DEADLINE_S}s)\n" + process.log_tail()
        )
    took = time.monotonic() - sent
    record_property(f"shutdown_seconds[{scenario}]", round(took, 2))
    print(f"\nshutdown after SIGTERM, {scenario}: {took:.2f}s, exit {code} (deadline {DEADLINE_S}s)")
    return code


def vouchers_by_day(bl: BLStandIn, company: Company) -> dict[str, list[dict[str, Any]]]:
    days: dict[str, list[dict[str, Any]]] = {}
    for voucher in bl.vouchers(company.user_key):
        days.setdefault(voucher["journalEntryDate"], []).append(voucher)
    return days


def assert_each_day_booked_once(bl: BLStandIn, company: Company, *days: sampledata.StoreDay) -> None:
    booked = vouchers_by_day(bl, company)
    for day in days:
        vouchers = booked.get(day.business_date.isoformat(), [])
        assert len(vouchers) == 1, f"{day.business_date}: {len(vouchers)} vouchers"
        assert booked_totals(vouchers) == expected_totals([*day.events(), day.day_closed()])


def booked_count(bl: BLStandIn, company: Company) -> Callable[[], int]:
    return lambda: len(bl.vouchers(company.user_key))


@pytest.fixture
def day_1() -> sampledata.StoreDay:
    return sampledata.store_day(ORG, "s1", DAY_1, 20)


@pytest.fixture
def day_2() -> sampledata.StoreDay:
    return sampledata.store_day(ORG, "s1", DAY_2, 20, seed=2)


def harness_on(database_url: str, bootstrap: str, topics: Topics, bl: BLStandIn, company: Company) -> Harness:
    settings = make_settings(
        database_url,
        bootstrap,
        topics,
        bl_base_url=bl.base_url,
        bl_token_url=bl.token_url,
        bl_client_id=bl.client_id,
        bl_client_secret=bl.client_secret,
    )
    h = Harness(settings, topics)
    h.activate(ORG, company.user_key, sampledata.SAMPLE_PLAN, date(2026, 1, 1))
    return h


# --- dayclose run -------------------------------------------------------------------------------------


def test_run_exits_within_the_deadline_while_bl_hangs_and_a_restart_books_the_day_once(
    database_url: str,
    kafka_cluster: KafkaCluster,
    bl_standin: BLStandIn,
    bl_company: Company,
    tmp_path: Path,
    day_1: sampledata.StoreDay,
    record_property: Callable[[str, object], None],
) -> None:
    h = harness_on(
        database_url, kafka_cluster.bootstrap_servers, Topics.fresh(kafka_cluster.create_topic), bl_standin, bl_company
    )
    # BL accepts the voucher's POST and never answers (an hour is longer than any test).
    bl_standin.set_faults(latency_s=3600, paths=("/journal",), methods=("POST",))
    first = start(h, tmp_path / "service.log")
    try:
        h.publish_sales([*day_1.events(), day_1.day_closed()])
        wait_until(lambda: bl_standin.requests.count("POST", "/journal") == 1, 60, "the voucher posted to BL")
        assert sigterm(first, record_property, "run, BL hanging") in (0, 1)
    finally:
        first.kill()
    assert "shutdown" in first.log_tail(5), first.log_tail()
    bl_standin.reset_faults()
    second = start(h, tmp_path / "service.log")
    try:
        wait_until(lambda: booked_count(bl_standin, bl_company)() >= 1, 60, "the day booked after the restart")
    finally:
        second.stop()
        h.close()
    assert_each_day_booked_once(bl_standin, bl_company, day_1)


@pytest.mark.skipif(os.environ.get("DATABASE_URL") is not None, reason="needs local PostgreSQL binaries")
def test_run_exits_within_the_deadline_with_postgresql_gone_and_a_restart_loses_nothing(
    kafka_cluster: KafkaCluster,
    bl_standin: BLStandIn,
    bl_company: Company,
    tmp_path: Path,
    day_1: sampledata.StoreDay,
    day_2: sampledata.StoreDay,
    record_property: Callable[[str, object], None],
) -> None:
    pg = LocalPostgres().start()
    try:
        url = create_database(pg.url, "dayclose_shutdown")
        migrate(url)
        h = harness_on(
            url, kafka_cluster.bootstrap_servers, Topics.fresh(kafka_cluster.create_topic), bl_standin, bl_company
        )
        first = start(h, tmp_path / "service.log")
        try:
            h.publish_sales([*day_1.events(), day_1.day_closed()])
            wait_until(lambda: booked_count(bl_standin, bl_company)() == 1, 60, "day 1 booked")
            pg.halt("fast")
            h.publish_sales([*day_2.events(), day_2.day_closed()])
            wait_until(lambda: "batch.db_unavailable" in first.log_tail(200), 60, "ingest to find PostgreSQL gone")
            assert sigterm(first, record_property, "run, PostgreSQL gone") in (0, 1)
        finally:
            first.kill()
        pg.resume()
        second = start(h, tmp_path / "service.log")
        try:
            wait_until(lambda: booked_count(bl_standin, bl_company)() >= 2, 60, "day 2 booked after the restart")
        finally:
            second.stop()
            h.close()
        assert_each_day_booked_once(bl_standin, bl_company, day_1, day_2)
    finally:
        pg.stop()


def test_run_exits_within_the_deadline_with_kafka_gone_and_a_restart_loses_nothing(
    database_url: str,
    bl_standin: BLStandIn,
    bl_company: Company,
    tmp_path: Path,
    day_1: sampledata.StoreDay,
    day_2: sampledata.StoreDay,
    record_property: Callable[[str, object], None],
) -> None:
    with MockKafkaCluster(brokers=1) as cluster:  # our own, so taking its broker down disturbs no other test
        h = harness_on(
            database_url, cluster.bootstrap_servers, Topics.fresh(cluster.create_topic), bl_standin, bl_company
        )
        first = start(h, tmp_path / "service.log")
        try:
            h.publish_sales([*day_1.events(), day_1.day_closed()])
            wait_until(lambda: booked_count(bl_standin, bl_company)() == 1, 60, "day 1 booked")
            h.publish_sales(day_2.events())
            with psycopg.connect(database_url) as conn:
                wait_until(
                    lambda: (
                        conn.execute("SELECT count(*) FROM sales WHERE business_date = %s", (DAY_2,)).fetchone()
                        == (len(list(day_2.events())),)
                    ),
                    60,
                    "day 2's sales stored",
                )
            cluster.broker_down(1)
            assert sigterm(first, record_property, "run, Kafka gone") in (0, 1)
        finally:
            first.kill()
        cluster.broker_up(1)
        second = start(h, tmp_path / "service.log")
        try:
            h.publish_sales([day_2.day_closed()])
            wait_until(lambda: booked_count(bl_standin, bl_company)() >= 2, 90, "day 2 booked after the restart")
            h.wait_for(lambda x: len(x.outcomes_for(ORG, "SUCCEEDED")) >= 2, 60, "both outcomes")
        finally:
            second.stop()
            h.close()
        assert_each_day_booked_once(bl_standin, bl_company, day_1, day_2)
        assert len(h.outcomes_for(ORG, "SUCCEEDED")) == 2


# --- dayclose api -------------------------------------------------------------------------------------

API = (sys.executable, "-m", "dayclose", "api")


def start_api(h: Harness, log_path: Path) -> tuple[ServiceProcess, str]:
    process = start(h, log_path, argv=API, DAYCLOSE_API_TOKENS=SERVICE_TOKEN.reveal())
    url = f"http://127.0.0.1:{process.env['DAYCLOSE_HTTP_PORT']}"

    def ready() -> bool:
        try:
            return httpx.get(f"{url}/readyz", timeout=1).status_code == 200
        except httpx.TransportError:
            return False

    wait_until(ready, 30, "the API ready")
    return process, url


def in_background(method: str, url: str, body: Any) -> subprocess.Popen[bytes]:
    """A client request left in flight, in its own process so that the test never blocks on it."""
    code = (
        "import httpx, json, sys; r = httpx.request(sys.argv[1], sys.argv[2], headers=json.loads(sys.argv[3]), "
        "json=json.loads(sys.argv[4]), timeout=600); print(r.status_code)"
    )
    return subprocess.Popen(
        [sys.executable, "-c", code, method, url, json.dumps(bearer(ORG)), json.dumps(body)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )


def outbox_commands(database_url: str) -> int:
    with psycopg.connect(database_url) as conn:
        row = conn.execute(
            "SELECT count(*) FROM manual_export_requests r JOIN outbox o ON o.schema_name = 'command' "
            "AND o.sent_at IS NULL"
        ).fetchone()
    return int(row[0]) if row else 0


@pytest.mark.parametrize("scenario", ["BL hanging", "Kafka gone"])
def test_api_exits_within_the_deadline_with_a_request_stuck_on_a_dependency(
    scenario: str,
    database_url: str,
    bl_standin: BLStandIn,
    bl_company: Company,
    tmp_path: Path,
    record_property: Callable[[str, object], None],
) -> None:
    with MockKafkaCluster(brokers=1) as cluster:
        h = harness_on(
            database_url, cluster.bootstrap_servers, Topics.fresh(cluster.create_topic), bl_standin, bl_company
        )
        process, url = start_api(h, tmp_path / "api.log")
        base = f"{url}/v1/organizations/{ORG}/bjorn-lunden"
        client: subprocess.Popen[bytes] | None = None
        try:
            if scenario == "BL hanging":  # a key check in flight that BL never answers
                bl_standin.set_faults(latency_s=3600, paths=("/details",))
                client = in_background("PUT", f"{base}/key", {"public_key": bl_company.user_key})
                wait_until(lambda: bl_standin.requests.count("GET", "/details") >= 1, 30, "the key check at BL")
            else:  # a manual export while no broker answers: the API has no Kafka client since its command goes
                cluster.broker_down(1)  # through the outbox, so the request commits instead of waiting on Kafka
                client = in_background("POST", f"{base}/manual-exports", {})
                wait_until(lambda: outbox_commands(database_url) >= 1, 30, "the request and its command recorded")
            assert sigterm(process, record_property, f"api, {scenario}") in (0, 1, -signal.SIGTERM)
        finally:
            process.kill()
            bl_standin.reset_faults()
            cluster.broker_up(1)
            if client is not None:
                client.kill()
                client.wait(10)
            h.close()


@pytest.mark.skipif(os.environ.get("DATABASE_URL") is not None, reason="needs local PostgreSQL binaries")
def test_api_exits_within_the_deadline_with_postgresql_and_kafka_gone(
    bl_standin: BLStandIn,
    bl_company: Company,
    tmp_path: Path,
    record_property: Callable[[str, object], None],
) -> None:
    pg = LocalPostgres().start()
    try:
        url = create_database(pg.url, "dayclose_api_shutdown")
        migrate(url)
        with MockKafkaCluster(brokers=1) as cluster:
            h = harness_on(url, cluster.bootstrap_servers, Topics.fresh(cluster.create_topic), bl_standin, bl_company)
            process, api = start_api(h, tmp_path / "api.log")
            try:
                assert httpx.get(f"{api}/v1/organizations/{ORG}/bjorn-lunden", headers=bearer(ORG)).status_code == 200
                pg.halt("immediate")
                cluster.broker_down(1)
                assert httpx.get(f"{api}/readyz", timeout=10).status_code == 503
                assert sigterm(process, record_property, "api, PostgreSQL and Kafka gone") in (0, 1, -signal.SIGTERM)
            finally:
                process.kill()
                cluster.broker_up(1)
                h.close()
    finally:
        pg.stop()

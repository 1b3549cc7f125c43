"""The merchant guide walked literally, in Swedish, in a real browser (Debian's headless Chromium): the reference
BackOffice card served by ``dayclose api`` (its own process, the card switched on by its setting) against
PostgreSQL, the Kafka mock cluster, the consumer service and the BL stand-in. Once by mouse, once by keyboard only;
axe-core on every step; a screenshot of every step; no request leaves this machine."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from devstack.bl_standin import BLStandIn
from devstack.harness import Harness, Topics, make_settings
from devstack.kafka import KafkaCluster
from devstack.processes import ServiceProcess, service_env
from devstack.sampledata import store_day
from exporters.bl import BLExporter
from service.lifecycle import ExportPolicy
from tests.e2e.card_browser import Walk, chromium
from tests.e2e.card_guide import Stack, days_ago, walk_the_guide
from tests.tokens import SERVICE_TOKEN

pytestmark = pytest.mark.e2e
STORE = "s1"
FAST_POLICY = ExportPolicy(
    reconcile_wait=timedelta(seconds=5),
    reconcile_retry=timedelta(milliseconds=200),
    transient_backoff_initial=timedelta(milliseconds=200),
    transient_backoff_max=timedelta(seconds=1),
)


@pytest.fixture
def stack(
    database_url: str,
    kafka_cluster: KafkaCluster,
    bl_standin: BLStandIn,
    make_bl_exporter: Callable[..., BLExporter],
    tmp_path: Path,
) -> Iterator[Stack]:
    topics = Topics.fresh(kafka_cluster.create_topic, partitions=2)
    settings = make_settings(
        database_url,
        kafka_cluster.bootstrap_servers,
        topics,
        bl_base_url=bl_standin.base_url,
        bl_token_url=bl_standin.token_url,
        bl_client_id=bl_standin.client_id,
        bl_client_secret=bl_standin.client_secret,
    )
    env = service_env(settings, DAYCLOSE_API_TOKENS=SERVICE_TOKEN.reveal(), DAYCLOSE_CARD_ENABLED="true")
    api = ServiceProcess(env, tmp_path / "api.log", argv=(sys.executable, "-m", "dayclose", "api")).start()
    harness = Harness(settings, topics, exporter=make_bl_exporter(), policy=FAST_POLICY).start()
    url = f"http://127.0.0.1:{env['DAYCLOSE_HTTP_PORT']}"
    try:
        _wait_ready(url, api)
        yield Stack(url, harness, bl_standin)
    finally:
        harness.close()
        api.stop()


def _wait_ready(url: str, api: ServiceProcess) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and api.alive:
        try:
            if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)  # polling a deadline loop while the process starts
    raise AssertionError(f"dayclose api did not become ready:\n{api.log_tail()}")


@pytest.mark.parametrize("keyboard", [False, True], ids=["mouse", "keyboard"])
def test_the_merchant_guide_walked_in_the_browser(stack: Stack, bl_standin: BLStandIn, keyboard: bool) -> None:
    org = f"org-card-{'keyboard' if keyboard else 'mouse'}"
    company = bl_standin.register_company(name="Kafé Linnéa AB", org_number="5567891238")
    first = store_day(org, STORE, days_ago(3), 12, seed=1, store_name="Kafé Linnéa Centrum", z_report_number=1)
    stack.publish(*first.events(), first.day_closed())
    with chromium() as browser:
        walk = Walk(browser, "keyboard" if keyboard else "mouse", keyboard)
        try:
            walk_the_guide(walk, stack, org, company)
        finally:
            walk.close()
    assert walk.external_requests() == []
    assert walk.csp_violations == []
    assert len(walk.shots) >= 20

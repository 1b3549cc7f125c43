"""Two `dayclose run` processes in one consumer group: a second one joins mid-day (the partitions are split
between them), then the first leaves (SIGTERM: it writes its in-flight batch and flushes its running totals as its
partitions are revoked). Every store-day is booked once, to the öre, in BL's books: the stand-in's vouchers against
the accountant's totals of the events sent (tests/integration/pipeline/oracle.py), whatever each process held in
memory when its partitions moved.
"""

from __future__ import annotations

import sys
from datetime import date, timedelta
from pathlib import Path

import psycopg
import pytest

from devstack import sampledata
from devstack.bl_standin import BLStandIn, Company
from devstack.harness import Harness, Topics
from devstack.kafka import KafkaCluster
from devstack.processes import ServiceProcess, service_env
from tests.e2e.test_shutdown import FAST_RESTART, ORG, harness_on, vouchers_by_day, wait_until
from tests.integration.pipeline.oracle import booked_totals, expected_totals

pytestmark = pytest.mark.e2e
FIRST_DAY = date(2026, 11, 2)
STORES = 8


def start(h: Harness, log_path: Path) -> ServiceProcess:
    argv = (sys.executable, "-m", "dayclose", "run")
    return ServiceProcess(service_env(h.settings, **FAST_RESTART), log_path, argv=argv).start()


def stored(h: Harness) -> int:
    with psycopg.connect(h.settings.database_url) as conn:
        row = conn.execute("SELECT count(*) FROM sales WHERE organization_id = %s", (ORG,)).fetchone()
    return int(row[0]) if row else 0


def test_a_consumer_joining_and_one_leaving_mid_day_book_every_store_day_once(
    database_url: str, kafka_cluster: KafkaCluster, bl_standin: BLStandIn, bl_company: Company, tmp_path: Path
) -> None:
    # One store-day per store, each on its own date, so BL's books show each as its own voucher.
    days = [sampledata.store_day(ORG, f"s{i}", FIRST_DAY + timedelta(days=i), 45, seed=i) for i in range(1, STORES + 1)]
    events = [list(d.events()) for d in days]
    thirds = [(len(e) // 3, 2 * len(e) // 3) for e in events]
    topics = Topics.fresh(kafka_cluster.create_topic)
    h = harness_on(database_url, kafka_cluster.bootstrap_servers, topics, bl_standin, bl_company)
    first = start(h, tmp_path / "first.log")
    second: ServiceProcess | None = None
    try:
        h.publish_sales([r for e, (a, _) in zip(events, thirds, strict=True) for r in e[:a]])
        wait_until(lambda: stored(h) == sum(a for a, _ in thirds), 60, "the morning stored by the first process")

        second = start(h, tmp_path / "second.log")  # joins the group: the partitions are split between the two
        joined = second
        wait_until(lambda: "kafka.partitions_assigned" in joined.log_tail(400), 60, "the second process to join")
        h.publish_sales([r for e, (a, b) in zip(events, thirds, strict=True) for r in e[a:b]])
        wait_until(lambda: stored(h) == sum(b for _, b in thirds), 60, "the afternoon stored by both")

        assert "kafka.partitions_revoked" in first.log_tail(400)  # the first gave its partitions up for the split
        # Leaves: its partitions go to the second process (1: a step of the bounded shutdown was cut short, which
        # the restart-safe design allows; see tests/e2e/test_shutdown.py).
        assert first.stop() in (0, 1), first.log_tail(60)
        h.publish_sales([r for e, (_, b) in zip(events, thirds, strict=True) for r in e[b:]])
        h.publish_sales([d.day_closed() for d in days])
        wait_until(lambda: len(bl_standin.vouchers(bl_company.user_key)) >= STORES, 120, "every store-day booked")
        assert stored(h) == sum(len(e) for e in events)  # every event once
    finally:
        first.kill()
        if second is not None:
            second.stop()
        h.close()
    booked = vouchers_by_day(bl_standin, bl_company)
    for d in days:
        vouchers = booked.get(d.business_date.isoformat(), [])
        assert len(vouchers) == 1, f"{d.store_id} {d.business_date}: {len(vouchers)} vouchers"
        assert booked_totals(vouchers) == expected_totals([*d.events(), d.day_closed()])

"""Scale-out that scales (issue #27): every `dayclose run` process gets sales partitions, whether it is a pod of its
own or one of a pod's DAYCLOSE_CONSUMER_PROCESSES, and every store-day is booked once.

Sales and commands were one consumer group: cooperative-sticky balances a group's total partition count, so a second
process could get every command partition and no sales partition. Each process here must hold sales partitions, read
from its own `kafka.partitions_assigned` / `_revoked` / `_lost` log lines.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from devstack import sampledata
from devstack.bl_standin import BLStandIn, Company
from devstack.harness import Harness, Topics
from devstack.kafka import KafkaCluster
from devstack.processes import ServiceProcess, partitions_held, service_env
from devstack.processes import split_between as split
from tests.e2e.test_shutdown import EXIT_WAIT_S, FAST_RESTART, ORG, harness_on, vouchers_by_day, wait_until
from tests.integration.pipeline.oracle import booked_totals, expected_totals

pytestmark = pytest.mark.e2e
FIRST_DAY = date(2026, 11, 2)
#: Every topic's partitions, as in the issue's finding: with 16 sales and 16 command partitions in one group, a second
#: process got every command partition and no sales partition.
SALES_PARTITIONS = 16
STORES = 6


def held(log: Path, topic: str) -> dict[Any, set[int]]:
    return partitions_held(log, topic)


def split_between(holdings: list[dict[Any, set[int]]], processes: int) -> bool:
    return split(holdings, processes, SALES_PARTITIONS)


def store_days() -> list[sampledata.StoreDay]:
    return [sampledata.store_day(ORG, f"s{i}", FIRST_DAY + timedelta(days=i), 30, seed=i) for i in range(STORES)]


def book_and_check(h: Harness, bl: BLStandIn, company: Company) -> None:
    days = store_days()
    h.publish_sales([r for d in days for r in [*d.events(), d.day_closed()]])
    wait_until(lambda: len(bl.vouchers(company.user_key)) >= STORES, 120, "every store-day booked")
    booked = vouchers_by_day(bl, company)
    for d in days:
        vouchers = booked.get(d.business_date.isoformat(), [])
        assert len(vouchers) == 1, f"{d.store_id} {d.business_date}: {len(vouchers)} vouchers"
        assert booked_totals(vouchers) == expected_totals([*d.events(), d.day_closed()])


def fresh(kafka_cluster: KafkaCluster) -> Topics:
    return Topics.fresh(kafka_cluster.create_topic, SALES_PARTITIONS)


@pytest.mark.parametrize("processes", [2, 3])
def test_each_dayclose_run_holds_sales_partitions_and_every_store_day_is_booked_once(
    processes: int,
    database_url: str,
    kafka_cluster: KafkaCluster,
    bl_standin: BLStandIn,
    bl_company: Company,
    tmp_path: Path,
) -> None:
    topics = fresh(kafka_cluster)
    h = harness_on(database_url, kafka_cluster.bootstrap_servers, topics, bl_standin, bl_company)
    argv = (sys.executable, "-m", "dayclose", "run")
    logs = [tmp_path / f"run-{i}.log" for i in range(processes)]
    running: list[ServiceProcess] = []
    try:
        for n, log in enumerate(logs, start=1):  # one after another, as pods are added: each joins a settled group
            running.append(ServiceProcess(service_env(h.settings, **FAST_RESTART), log, argv=argv).start())
            wait_until(
                lambda n=n: split_between([held(path, topics.sales) for path in logs[:n]], n),
                90,
                f"the sales partitions split between {n} processes",
            )
        book_and_check(h, bl_standin, bl_company)
    finally:
        for process in running:
            process.stop()
        h.close()


def test_a_pod_s_consumer_processes_each_hold_sales_partitions_and_stop_together_within_the_deadline(
    database_url: str, kafka_cluster: KafkaCluster, bl_standin: BLStandIn, bl_company: Company, tmp_path: Path
) -> None:
    """DAYCLOSE_CONSUMER_PROCESSES=3: one `dayclose run` supervises three; the pod's health and metrics are theirs."""
    topics = fresh(kafka_cluster)
    h = harness_on(database_url, kafka_cluster.bootstrap_servers, topics, bl_standin, bl_company)
    env = service_env(h.settings, **FAST_RESTART, DAYCLOSE_CONSUMER_PROCESSES="3")
    log = tmp_path / "pod.log"
    pod = ServiceProcess(env, log).start()
    try:
        wait_until(lambda: split_between([held(log, topics.sales)], 3), 90, "the sales partitions split three ways")
        assert set(held(log, topics.sales)) == {0, 1, 2}
        book_and_check(h, bl_standin, bl_company)
        health = httpx.get(f"http://127.0.0.1:{env['DAYCLOSE_HTTP_PORT']}/healthz", timeout=10)
        assert health.status_code == 200 and set(health.json()["checks"]) == {"process-0", "process-1", "process-2"}
        metrics = httpx.get(f"http://127.0.0.1:{env['DAYCLOSE_HTTP_PORT']}/metrics", timeout=10).text
        assert (
            all(f'consumer_process="{i}"' in metrics for i in range(3)) and "dayclose_events_consumed_total" in metrics
        )
        children = next(
            json.loads(line)["pids"] for line in log.read_text().splitlines() if "supervisor.started" in line
        )
        assert pod.process is not None
        pod.process.send_signal(signal.SIGTERM)
        assert pod.process.wait(timeout=EXIT_WAIT_S) in (0, 1), pod.log_tail()
    except subprocess.TimeoutExpired:
        pytest.fail("the supervisor did not exit after SIGTERM\n" + pod.log_tail())
    finally:
        pod.kill()
        h.close()
    for pid in children:  # each child stopped (by SIGTERM, within its own deadline), none left behind
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
    stopped = [json.loads(line) for line in log.read_text().splitlines() if '"service.stopped"' in line]
    assert sorted(entry["consumer_process"] for entry in stopped) == [0, 1, 2]

"""The local stack a benchmark runs on: PostgreSQL, the Kafka mock cluster, the BL stand-in, and the
service as its own process (``dayclose run``, configured through the environment like production)."""

from __future__ import annotations

import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any

import psycopg
from confluent_kafka import Consumer, Producer, TopicPartition

from dayclose.config import BLSettings, Settings
from dayclose.db.migrate import migrate
from dayclose.secrets import Secret
from devstack.bl_standin import BLStandIn, Company
from devstack.harness import Harness, Topics, make_settings
from devstack.kafka import MockKafkaCluster
from devstack.postgres import LocalPostgres, create_database
from devstack.processes import ServiceProcess, service_env
from devstack.sampledata import SAMPLE_PLAN

ORG = "org-bench"
START = date(2026, 1, 1)


@dataclass
class Stack:
    postgres: LocalPostgres
    kafka: MockKafkaCluster
    bl: BLStandIn
    company: Company
    workdir: Path
    services: list[ServiceProcess] = field(default_factory=list)

    def database(self) -> str:
        url = create_database(self.postgres.url, f"bench_{uuid.uuid4().hex[:10]}")
        migrate(url)
        return url

    def settings(self, topics: Topics, database_url: str, *, workers: int = 4,
                 bl_rate: float = 8.0) -> Settings:
        s = make_settings(database_url, self.kafka.bootstrap_servers, topics, bl_base_url=self.bl.base_url,
                          bl_token_url=self.bl.token_url, workers=workers)
        bl = BLSettings(base_url=self.bl.base_url, token_url=self.bl.token_url, client_id=self.bl.client_id,
                        client_secret=Secret(self.bl.client_secret),
                        max_requests_per_second=bl_rate, timeout_s=10.0)
        return replace(s, bl=bl, log_level="WARNING")

    def harness(self, settings: Settings, topics: Topics, *, activate: bool = True) -> Harness:
        h = Harness(settings, topics)
        if activate:
            h.activate(ORG, self.company.user_key, SAMPLE_PLAN, START)
        return h

    def service(self, settings: Settings, name: str) -> ServiceProcess:
        proc = ServiceProcess(service_env(settings), self.workdir / f"{name}.log").start()
        self.services.append(proc)
        return proc


@contextmanager
def local_stack() -> Iterator[Stack]:
    workdir = Path(tempfile.mkdtemp(prefix="dayclose-bench-"))
    # durable=True: fsync and synchronous commit on, so "ingested" means what it means in production.
    postgres = LocalPostgres(durable=True).start()
    kafka = MockKafkaCluster(3)
    bl = BLStandIn().start()
    stack = Stack(postgres, kafka, bl, bl.register_company(name="Benchkaféet AB"), workdir)
    try:
        yield stack
    finally:
        for proc in stack.services:
            proc.stop(timeout=20)
        bl.stop()
        kafka.close()
        postgres.stop()


def fast_producer(bootstrap: str) -> Producer:
    return Producer({"bootstrap.servers": bootstrap, "linger.ms": 20, "batch.num.messages": 10_000,
                     "queue.buffering.max.messages": 2_000_000, "queue.buffering.max.kbytes": 2_000_000,
                     "compression.type": "none", "acks": "all"})


def produce_all(producer: Producer, topic: str, messages: list[tuple[bytes, bytes]]) -> None:
    for i, (key, value) in enumerate(messages):
        while True:
            try:
                producer.produce(topic, key=key, value=value)
                break
            except BufferError:
                producer.poll(0.05)
        if i % 20_000 == 0:
            producer.poll(0)
    if producer.flush(120):
        raise RuntimeError("messages not delivered to the mock cluster")


def committed_total(bootstrap: str, group_id: str, topic: str, partitions: int) -> int:
    """Σ committed offsets of ``group_id`` on ``topic`` (asks the coordinator; never joins the group)."""
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": group_id, "enable.auto.commit": False})
    try:
        got = c.committed([TopicPartition(topic, p) for p in range(partitions)], timeout=10)
        return sum(tp.offset for tp in got if tp.offset >= 0)
    finally:
        c.close()


def count_rows(database_url: str, sql: str, params: Any = ()) -> int:
    with psycopg.connect(database_url) as conn:
        row = conn.execute(sql, params).fetchone()
    return int(row[0]) if row and row[0] is not None else 0


def wait_until(check: Any, timeout: float, what: str, interval: float = 0.1) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(interval)
    raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what}")

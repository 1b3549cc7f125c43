"""The local stack a benchmark runs on: PostgreSQL, the Kafka mock cluster, the BL stand-in, and the
service as its own process (``dayclose run``, configured through the environment like production)."""

from __future__ import annotations

import sys
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path

import psycopg
from confluent_kafka import Consumer, Producer, TopicPartition

from bench.progress import Progress
from dayclose.settings import Settings
from devstack.bl_standin import BLStandIn, Company
from devstack.harness import Harness, Topics, make_settings
from devstack.kafka import MockKafkaCluster
from devstack.postgres import LocalPostgres, create_database, drop_database
from devstack.processes import ServiceProcess, service_env
from devstack.sampledata import SAMPLE_PLAN
from exporters.bl.config import BLConfig
from service.secrets import Secret
from storage.migrate import migrate

ORG = "org-bench"
START = date(2026, 1, 1)
REPO = Path(__file__).resolve().parent.parent
#: The service commits stored offsets this often in benchmarks (KAFKA_AUTO_COMMIT_INTERVAL_MS), so the
#: moment "every offset is committed" is within 0.1 s of the last batch's database commit; the default
#: (librdkafka's 5 s) would add up to 5 s to a 20 s run.
COMMIT_INTERVAL_MS = 100


@dataclass
class Stack:
    postgres: LocalPostgres
    kafka: MockKafkaCluster
    bl: BLStandIn
    company: Company
    workdir: Path
    services: list[ServiceProcess] = field(default_factory=list)

    def database(self) -> str:
        url = self.empty_database()
        migrate(url)
        return url

    def empty_database(self) -> str:
        return create_database(self.postgres.url, f"bench_{uuid.uuid4().hex[:10]}")

    def settings(
        self,
        topics: Topics,
        database_url: str,
        *,
        workers: int = 4,
        bl_rate: float = 8.0,
        bl_company_rate: float | None = None,
    ) -> Settings:
        """Settings of a ``dayclose run`` against the rig. ``bl_rate`` is the client's limit; ``bl_company_rate`` the
        per-company one (default: the same, so only the client's binds, as when BL limits our client id)."""
        s = make_settings(
            database_url,
            self.kafka.bootstrap_servers,
            topics,
            bl_base_url=self.bl.base_url,
            bl_token_url=self.bl.token_url,
            workers=workers,
        )
        bl = BLConfig(
            base_url=self.bl.base_url,
            token_url=self.bl.token_url,
            client_id=self.bl.client_id,
            client_secret=Secret(self.bl.client_secret),
            max_requests_per_second=bl_rate,
            max_requests_per_second_per_company=bl_company_rate or bl_rate,
            timeout_s=10.0,
        )
        kafka = replace(s.kafka, auto_commit_interval_ms=COMMIT_INTERVAL_MS)
        return replace(s, kafka=kafka, bl=bl, log_level="WARNING")

    def harness(self, settings: Settings, topics: Topics, *, activate: bool = True) -> Harness:
        h = Harness(settings, topics)
        if activate:
            h.activate(ORG, self.company.user_key, SAMPLE_PLAN, START)
        return h

    def service(self, settings: Settings, name: str) -> ServiceProcess:
        # The consumer's session timeout too: a restarted member gets its partitions once the old session is over.
        env = service_env(
            settings,
            KAFKA_SESSION_TIMEOUT_MS=str(settings.kafka.session_timeout_ms),
            KAFKA_HEARTBEAT_INTERVAL_MS=str(settings.kafka.heartbeat_interval_ms),
        )
        proc = ServiceProcess(env, self.workdir / f"{name}.log").start()
        self.services.append(proc)
        return proc

    def peer(self, database_url: str, topic: str, group_id: str, name: str) -> ServiceProcess:
        """The lean COPY peer (:mod:`bench.peer`) as its own process, like ``dayclose run``."""
        argv = [
            sys.executable,
            "-m",
            "bench.peer",
            "--bootstrap",
            self.kafka.bootstrap_servers,
            "--topic",
            topic,
            "--group",
            group_id,
            "--database-url",
            database_url,
            "--commit-interval-ms",
            str(COMMIT_INTERVAL_MS),
        ]
        proc = ServiceProcess({"PYTHONPATH": str(REPO)}, self.workdir / f"{name}.log", argv).start()
        self.services.append(proc)
        return proc

    def drop(self, database_url: str) -> None:
        """Drop a benchmark database once measured (a full run writes gigabytes)."""
        drop_database(self.postgres.url, database_url.rsplit("/", 1)[-1])

    def wal_lsn(self) -> int:
        with psycopg.connect(self.postgres.url, autocommit=True) as conn:
            row = conn.execute("SELECT pg_current_wal_lsn() - '0/0'::pg_lsn").fetchone()
        if row is None:
            raise RuntimeError("pg_current_wal_lsn() returned no row")
        return int(row[0])

    def wal_between(self, start: int, end: int) -> dict[str, int]:
        """WAL written between two positions: bytes, and from the WAL itself (pg_walinspect) the number of
        records and the bytes of full-page images. Only bytes when the WAL is gone (recycled after a
        checkpoint) or the extension is missing."""
        out = {"bytes": end - start}
        try:
            with psycopg.connect(self.postgres.url, autocommit=True) as conn:
                conn.execute("CREATE EXTENSION IF NOT EXISTS pg_walinspect")
                row = conn.execute(
                    "SELECT sum(count), sum(fpi_size) FROM pg_get_wal_stats("
                    "'0/0'::pg_lsn + %s::numeric, '0/0'::pg_lsn + %s::numeric)",
                    (start, end),
                ).fetchone()
        except psycopg.Error:
            return out
        if row is not None and row[0] is not None:
            out.update(records=int(row[0]), fpi_bytes=int(row[1]))
        return out

    def checkpoint(self) -> None:
        """Start a measurement from the same WAL state every time (full-page images restart after it)."""
        with psycopg.connect(self.postgres.url, autocommit=True) as conn:
            conn.execute("CHECKPOINT")


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
    return Producer(
        {
            "bootstrap.servers": bootstrap,
            "linger.ms": 20,
            "batch.num.messages": 10_000,
            "queue.buffering.max.messages": 2_000_000,
            "queue.buffering.max.kbytes": 2_000_000,
            "compression.type": "none",
            "acks": "all",
        }
    )


def produce_all(producer: Producer, topic: str, messages: list[tuple[bytes, bytes]], label: str = "") -> None:
    """Produce every message and wait for the broker's acks (a progress line when ``label`` is given)."""
    bar = Progress(label, len(messages), "msg") if label else None
    for i, (key, value) in enumerate(messages):
        while True:
            try:
                producer.produce(topic, key=key, value=value)
                break
            except BufferError:
                producer.poll(0.05)
        if i % 20_000 == 0:
            producer.poll(0)
            if bar:
                bar.update(i)
    if producer.flush(120):
        raise RuntimeError("messages not delivered to the mock cluster")
    if bar:
        bar.update(len(messages))
        bar.close()


class OffsetProbe:
    """Σ committed offsets of a consumer group on a topic, asked of the group coordinator by one long-lived
    client that never joins the group: how progress is watched without loading PostgreSQL."""

    def __init__(self, bootstrap: str, group_id: str, topic: str, partitions: int) -> None:
        self.consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": group_id, "enable.auto.commit": False})
        self.partitions = [TopicPartition(topic, p) for p in range(partitions)]

    def committed(self) -> int:
        got = self.consumer.committed(self.partitions, timeout=10)
        return sum(tp.offset for tp in got if tp.offset >= 0)

    def close(self) -> None:
        self.consumer.close()

    def __enter__(self) -> OffsetProbe:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

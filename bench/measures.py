"""Sizes of every measurement (full and quick) and what several measurements share."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date
from typing import Any

from confluent_kafka import Consumer

import schemas
from bench import workload
from bench.stack import Stack
from consumer.codec import AvroCodec
from devstack.harness import Topics

DAY = date(2026, 11, 25)
#: Each mock partition keeps at most 5 MiB (older data is dropped): stay well below that per partition.
BYTES_PER_PARTITION = 3 * 2**20


def table_sizes(table: str) -> str:
    """SQL for (total, heap, index) bytes of ``table``, summed over its partitions when it has any (a partitioned
    parent has no storage of its own; a plain table has no partition tree)."""
    tree = f"pg_partition_tree('{table}') WHERE isleaf"
    return ", ".join(
        f"coalesce((SELECT sum({f}(relid))::bigint FROM {tree}), {f}('{table}'))"  # noqa: S608 - a table name of ours
        for f in ("pg_total_relation_size", "pg_relation_size", "pg_indexes_size")
    )


@dataclass(frozen=True)
class Sizes:
    ingest_receipts: int
    ingest_stores: int
    latency_receipts: int
    latency_runs: int
    large_day_receipts: int
    large_day_runs: int
    burst_stores: int
    burst_client_limit: float
    memory_events: int
    midnight_stores: int
    midnight_stores_per_org: int
    midnight_client_limit: float
    cost_events: int
    #: DAYCLOSE_CONSUMER_PROCESSES of the pod booking the burst and the midnight (2: one per core of this node, as
    #: production would run it); ``midnight_compare`` books one more steady night with one process, to compare.
    midnight_processes: int = 2
    midnight_compare: bool = True
    #: Ingest's product and lean peer run this many times each, in turn over the same topic (product, peer, product,
    #: …): the figures are medians and the ratio the median of each pair's (one pair moved 0.83–0.94 × within an hour).
    ingest_pairs: int = 3
    #: The scale-out's one process and two run this many times each, in turn: the figures are medians and the ratio the
    #: median of each pair's (one pair moved 1.13–1.40 × within an hour on the same code).
    scale_out_pairs: int = 3


FULL = Sizes(
    ingest_receipts=200_000,
    ingest_stores=500,
    latency_receipts=5_000,
    latency_runs=20,
    large_day_receipts=50_000,
    large_day_runs=5,
    burst_stores=1_000,
    burst_client_limit=40.0,
    memory_events=1_000_000,
    midnight_stores=10_000,
    midnight_stores_per_org=4,
    midnight_client_limit=80.0,
    cost_events=50_000,
)
QUICK = Sizes(
    ingest_receipts=20_000,
    ingest_stores=50,
    latency_receipts=1_000,
    latency_runs=5,
    large_day_receipts=5_000,
    large_day_runs=2,
    burst_stores=100,
    burst_client_limit=100.0,
    memory_events=40_000,
    midnight_stores=200,
    midnight_stores_per_org=4,
    midnight_client_limit=100.0,
    cost_events=5_000,
    scale_out_pairs=1,
)


def partitions_for(messages: list[workload.Message]) -> int:
    total = sum(len(k) + len(v) + 70 for k, v in messages)  # + record overhead in a batch
    return max(16, -(-total // BYTES_PER_PARTITION))


class OutcomeReader:
    """Reads the outcomes topic with ``poll`` (returns as soon as an event arrives: no batch wait)."""

    def __init__(self, stack: Stack, topics: Topics) -> None:
        self.codec = AvroCodec(schemas.EXPORT_OUTCOME, topics.outcomes)
        self.consumer = Consumer(
            {
                "bootstrap.servers": stack.kafka.bootstrap_servers,
                "group.id": f"reader-{topics.outcomes}",
                "auto.offset.reset": "earliest",
                "enable.auto.commit": False,
                "fetch.wait.max.ms": 10,
            }
        )
        self.consumer.subscribe([topics.outcomes])

    def next(self, timeout: float) -> tuple[float, float, dict[str, Any]] | None:
        """(wall time read, wall time the relay produced it (Kafka CreateTime), the outcome), or None."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            msg = self.consumer.poll(0.05)
            if msg is not None and not msg.error():
                _, created_ms = msg.timestamp()
                return time.time(), created_ms / 1000, self.codec.decode(msg.value())
        return None

    def close(self) -> None:
        self.consumer.close()

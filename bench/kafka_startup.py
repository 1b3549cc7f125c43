"""How long the local Kafka stack takes to be usable: in-process mock and as its own process.

Run: .venv/bin/python bench/kafka_startup.py [--rounds 5] [--brokers 3]
"Ready" means a fresh producer got metadata for a created topic from the cluster.
"""

from __future__ import annotations

import argparse
import statistics
import time

from confluent_kafka import Producer

from devstack.kafka import MockKafkaCluster
from devstack.kafka_process import start_kafka_process

TOPIC = "bench-startup"


def first_metadata_s(bootstrap: str) -> float:
    started = time.perf_counter()
    Producer({"bootstrap.servers": bootstrap}).list_topics(TOPIC, timeout=10)
    return time.perf_counter() - started


def in_process(brokers: int) -> tuple[float, float]:
    started = time.perf_counter()
    with MockKafkaCluster(brokers) as cluster:
        cluster.create_topic(TOPIC, 3)
        up = time.perf_counter() - started
        return up, up + first_metadata_s(cluster.bootstrap_servers)


def as_process(brokers: int) -> tuple[float, float]:
    started = time.perf_counter()
    cluster = start_kafka_process(brokers, {TOPIC: 3})
    try:
        up = time.perf_counter() - started
        return up, up + first_metadata_s(cluster.bootstrap_servers)
    finally:
        cluster.stop()


def report(name: str, samples: list[tuple[float, float]]) -> None:
    up = [s[0] * 1000 for s in samples]
    ready = [s[1] * 1000 for s in samples]
    print(
        f"{name:<12} listening: median {statistics.median(up):6.1f} ms (max {max(up):6.1f})   "
        f"client has metadata: median {statistics.median(ready):6.1f} ms (max {max(ready):6.1f})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--brokers", type=int, default=3)
    args = parser.parse_args()
    report("in-process", [in_process(args.brokers) for _ in range(args.rounds)])
    report("process", [as_process(args.brokers) for _ in range(args.rounds)])


if __name__ == "__main__":
    main()

"""Ingest, three ways over the same pre-published topic: the raw consume + decode baseline, the lean COPY
peer (:mod:`bench.peer`) and ``dayclose run``. Also the memory run (``dayclose run`` over a million events).

Product and peer are timed the same way: each runs as its own process against a fresh database on the
same durable server (fsync and synchronous commit on), after a CHECKPOINT; the clock runs from the start
of the first transaction that stored a row (``min(received_at)``, read once at the end) until the broker
shows the group's committed offsets covering every message (probed every 50 ms; the service commits
stored offsets every 100 ms in benchmarks, and so does the lean peer). The two run ``Sizes.ingest_pairs`` times
each, in turn (product, peer, product, …): their rates are the medians, their ratio the median of the pairs' ratios
(a single pair moved between 0.83 and 0.94 × within an hour on this machine).
"""

from __future__ import annotations

import statistics
import time
from typing import Any

from confluent_kafka import Consumer

import schemas
from bench import workload
from bench.measures import DAY, Sizes, partitions_for
from bench.progress import Progress
from bench.report import Figure
from bench.scale_out import scale_out
from bench.stack import ORG, Stack, fast_producer, produce_all
from bench.watch import timed_run
from consumer.codec import AvroCodec
from devstack.harness import Topics


def baseline_rate(stack: Stack, topic: str, n: int) -> tuple[float, float]:
    """Consume + Avro-decode only (no database): messages/s and seconds, from subscribe to the last one."""
    codec = AvroCodec(schemas.SALES_EVENT, topic)
    c = Consumer(
        {
            "bootstrap.servers": stack.kafka.bootstrap_servers,
            "group.id": f"baseline-{topic}",
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
        }
    )
    c.subscribe([topic])
    seen, started = 0, time.perf_counter()
    try:
        with Progress("baseline", n, "ev") as bar:
            while seen < n:
                for msg in c.consume(num_messages=1000, timeout=1.0):
                    if msg.error():
                        continue
                    codec.decode(msg.value())
                    seen += 1
                bar.update(seen)
                if time.perf_counter() - started > 600:
                    raise TimeoutError(f"baseline saw {seen} of {n}")
        took = time.perf_counter() - started
    finally:
        c.close()
    return n / took, took


def publish(stack: Stack, messages: list[workload.Message]) -> tuple[Topics, int]:
    partitions = partitions_for(messages)
    topics = Topics.fresh(stack.kafka.create_topic, partitions)
    produce_all(fast_producer(stack.kafka.bootstrap_servers), topics.sales, messages, label="publish")
    return topics, partitions


def product_run(
    stack: Stack,
    topics: Topics,
    partitions: int,
    n: int,
    name: str,
    milestones: tuple[int, ...] = (),
    with_wal: bool = True,
) -> dict[str, Any]:
    db = stack.database()
    settings = stack.settings(topics, db)
    try:
        return timed_run(
            stack,
            name=name,
            database_url=db,
            table="sales",
            group_id=settings.kafka.group_id,
            topic=topics.sales,
            partitions=partitions,
            n=n,
            start=lambda: stack.service(settings, name),
            milestones=milestones,
            with_wal=with_wal,
        )
    finally:
        stack.drop(db)


def peer_run(stack: Stack, topics: Topics, partitions: int, n: int, pair: int = 0) -> dict[str, Any]:
    db = stack.empty_database()
    group = f"peer-{topics.sales}-{pair}"
    try:
        return timed_run(
            stack,
            name="peer",
            database_url=db,
            table="peer_sales",
            group_id=group,
            topic=topics.sales,
            partitions=partitions,
            n=n,
            start=lambda: stack.peer(db, topics.sales, group, "peer"),
        )
    finally:
        stack.drop(db)


def _median_run(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The run of median rate (an odd count: one of them; the storage and WAL it cost are that run's)."""
    return sorted(runs, key=lambda r: float(r["ingest_rate"]))[(len(runs) - 1) // 2]


def _rounded(d: dict[str, Any]) -> dict[str, Any]:
    return {k: round(v, 4) if isinstance(v, float) else v for k, v in d.items()}


def ingest(stack: Stack, sizes: Sizes) -> list[Figure]:
    per_store = sizes.ingest_receipts // sizes.ingest_stores
    messages = workload.receipts(ORG, sizes.ingest_stores, per_store, DAY)
    topics, partitions = publish(stack, messages)
    n = len(messages)
    base_rate, base_s = baseline_rate(stack, topics.sales, n)
    pairs = []
    for pair in range(sizes.ingest_pairs):  # in turn, so a drift of the machine's speed falls on both alike
        label = "ingest" if sizes.ingest_pairs == 1 else f"ingest-{pair + 1}"
        pairs.append((product_run(stack, topics, partitions, n, label), peer_run(stack, topics, partitions, n, pair)))
    ours, peer = _median_run([o for o, _ in pairs]), _median_run([p for _, p in pairs])
    ratios = [o["ingest_rate"] / p["ingest_rate"] for o, p in pairs]
    common = {"events": n, "stores": sizes.ingest_stores, "partitions": partitions}
    each = {
        "pairs": len(pairs),
        "dayclose_each": [round(o["ingest_rate"]) for o, _ in pairs],
        "peer_each": [round(p["ingest_rate"]) for _, p in pairs],
        "ratio_each": [round(r, 3) for r in ratios],
    }
    return [
        Figure(
            "ingest: dayclose run, stored durably + offsets committed",
            ours["ingest_rate"],
            "ev/s",
            None,
            True,
            common | _rounded(ours),
        ),
        Figure(
            "ingest: lean COPY peer, stored durably + offsets committed",
            peer["ingest_rate"],
            "ev/s",
            None,
            True,
            common | _rounded(peer),
        ),
        Figure(
            "ingest: raw baseline, consume + Avro decode, no database",
            base_rate,
            "ev/s",
            None,
            True,
            common | {"seconds": round(base_s, 3)},
        ),
        Figure(
            "ingest ratio: dayclose ÷ lean COPY peer",
            statistics.median(ratios),
            "×",
            0.9,  # issue #27: against the lean peer (the product validates and keeps running totals on top)
            True,
            {"dayclose": round(ours["ingest_rate"]), "peer": round(peer["ingest_rate"])} | each,
        ),
        Figure(
            "ingest ratio: dayclose ÷ raw baseline",
            ours["ingest_rate"] / base_rate,
            "×",
            0.5,
            True,
            {"dayclose": round(ours["ingest_rate"]), "baseline": round(base_rate)},
        ),
        Figure(
            "ingest ratio: lean COPY peer ÷ raw baseline",
            peer["ingest_rate"] / base_rate,
            "×",
            None,
            True,
            {"peer": round(peer["ingest_rate"]), "baseline": round(base_rate)},
        ),
        *scale_out(stack, messages, partitions, sizes.scale_out_pairs),
    ]


def memory(stack: Stack, sizes: Sizes) -> list[Figure]:
    stores = max(50, sizes.memory_events // 2_000)
    messages = workload.receipts(ORG, stores, sizes.memory_events // stores, DAY)
    topics, partitions = publish(stack, messages)
    n = len(messages)
    early = max(1, n // 10)
    milestones = (early, n // 4, n // 2, 3 * n // 4)
    r = product_run(stack, topics, partitions, n, "memory", milestones=milestones, with_wal=False)
    mb, early_mb = r["peak_rss_mb"], r["rss_at"][str(early)] / 10**6
    # The curve shows whether growth levels off (bounded buffers) or keeps going (a leak).
    curve = {k: round(v / 10**6, 1) for k, v in r["rss_at"].items()} | {str(n): round(mb, 1)}
    detail = {
        "events": n,
        "partitions": partitions,
        "ingest_rate": round(r["ingest_rate"]),
        "peak_rss_mb_after_events": curve,
    }
    return [
        Figure(f"memory: peak RSS of dayclose run over {n:,} events", mb, "MB", 200, False, detail),
        Figure(f"memory: growth of peak RSS from {early:,} to {n:,} events", mb / early_mb, "×", 1.1, False, detail),
    ]

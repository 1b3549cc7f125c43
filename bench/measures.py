"""The four measurements of issue #8. Each takes the stack and its sizes and returns Figures."""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass
from datetime import date
from typing import Any

from confluent_kafka import Consumer

import schemas
from bench import workload
from bench.report import Figure
from bench.stack import ORG, Stack, committed_total, count_rows, fast_producer, produce_all, wait_until
from consumer.codec import AvroCodec
from devstack.harness import Topics

DAY = date(2026, 11, 25)
#: Each mock partition keeps at most 5 MiB: stay well below that per partition.
BYTES_PER_PARTITION = 3 * 2**20


@dataclass(frozen=True)
class Sizes:
    ingest_receipts: int
    ingest_stores: int
    latency_receipts: int
    latency_runs: int
    burst_stores: int
    burst_client_limit: float
    memory_events: int


FULL = Sizes(ingest_receipts=200_000, ingest_stores=500, latency_receipts=5_000, latency_runs=20,
             burst_stores=1_000, burst_client_limit=40.0, memory_events=1_000_000)
QUICK = Sizes(ingest_receipts=20_000, ingest_stores=50, latency_receipts=1_000, latency_runs=5,
              burst_stores=100, burst_client_limit=40.0, memory_events=40_000)


def partitions_for(messages: list[workload.Message]) -> int:
    total = sum(len(k) + len(v) + 70 for k, v in messages)  # + record overhead in a batch
    return max(16, -(-total // BYTES_PER_PARTITION))


# --- ingest vs raw baseline ------------------------------------------------------------------------------


def baseline_rate(stack: Stack, topic: str, n: int) -> tuple[float, float]:
    """Consume + Avro-decode only (no database): messages/s and seconds, from subscribe to the last one."""
    codec = AvroCodec(schemas.SALES_EVENT, topic)
    c = Consumer({"bootstrap.servers": stack.kafka.bootstrap_servers, "group.id": f"baseline-{topic}",
                  "auto.offset.reset": "earliest", "enable.auto.commit": False})
    c.subscribe([topic])
    seen, started = 0, time.perf_counter()
    try:
        while seen < n:
            for msg in c.consume(num_messages=1000, timeout=1.0):
                if msg.error():
                    continue
                codec.decode(msg.value())
                seen += 1
            if time.perf_counter() - started > 600:
                raise TimeoutError(f"baseline saw {seen} of {n}")
        took = time.perf_counter() - started
    finally:
        c.close()
    return n / took, took


def ingest_run(stack: Stack, messages: list[workload.Message], name: str) -> dict[str, Any]:
    """Publish everything, then start ``dayclose run`` and time until every event is a committed row
    *and* the group's committed offsets cover every message. Returns rates, times and peak RSS."""
    partitions = partitions_for(messages)
    topics = Topics.fresh(stack.kafka.create_topic, partitions)
    produce_all(fast_producer(stack.kafka.bootstrap_servers), topics.sales, messages)
    db = stack.database()
    settings = stack.settings(topics, db)
    n = len(messages)
    base_rate, base_s = baseline_rate(stack, topics.sales, n)
    proc = stack.service(settings, name)
    spawned = time.time()
    peak = 0
    rows_done_at = None
    committed_at = None
    deadline = time.monotonic() + max(600, n / 500)
    while committed_at is None:
        if not proc.alive:
            raise RuntimeError(f"service exited early:\n{proc.log_tail()}")
        peak = max(peak, proc.peak_rss_bytes() or 0)
        if rows_done_at is None and count_rows(db, "SELECT count(*) FROM sales_events") >= n:
            rows_done_at = time.time()
        if rows_done_at is not None and committed_total(
                stack.kafka.bootstrap_servers, settings.kafka.group_id, topics.sales, partitions) >= n:
            committed_at = time.time()
        if time.monotonic() > deadline:
            raise TimeoutError(f"{name}: not ingested in time:\n{proc.log_tail()}")
        time.sleep(0.25)
    first_row = count_rows(db, "SELECT extract(epoch FROM min(received_at)) FROM sales_events")
    peak = max(peak, proc.peak_rss_bytes() or 0)
    proc.stop()
    assert rows_done_at is not None
    took = committed_at - first_row
    return {
        "events": n, "partitions": partitions, "baseline_rate": base_rate, "baseline_s": base_s,
        "ingest_rate": n / took, "ingest_s": took, "rows_rate": n / max(1e-9, rows_done_at - first_row),
        "startup_s": first_row - spawned, "peak_rss_bytes": peak,
    }


def ingest(stack: Stack, sizes: Sizes) -> list[Figure]:
    per_store = sizes.ingest_receipts // sizes.ingest_stores
    messages = workload.receipts(ORG, sizes.ingest_stores, per_store, DAY)
    r = ingest_run(stack, messages, "ingest")
    detail = {k: round(v, 3) if isinstance(v, float) else v for k, v in r.items()} | {"stores": sizes.ingest_stores}
    return [
        Figure("ingest: durably ingested + offsets committed", r["ingest_rate"], "ev/s", 0.5 * r["baseline_rate"],
               True, detail),
        Figure("ingest: raw baseline (consume + Avro decode)", r["baseline_rate"], "ev/s", None, True,
               {"seconds": round(r["baseline_s"], 3)}),
    ]


def memory(stack: Stack, sizes: Sizes) -> list[Figure]:
    stores = max(50, sizes.memory_events // 2_000)
    messages = workload.receipts(ORG, stores, sizes.memory_events // stores, DAY)
    r = ingest_run(stack, messages, "memory")
    mb = r["peak_rss_bytes"] / 10**6
    return [Figure(f"memory: peak RSS over {len(messages):,} events", mb, "MB", 300, False,
                   {"events": len(messages), "ingest_rate": round(r["ingest_rate"]), "partitions": r["partitions"]})]


# --- outcomes ----------------------------------------------------------------------------------------------


class OutcomeReader:
    """Reads the outcomes topic with ``poll`` (returns as soon as an event arrives: no batch wait)."""

    def __init__(self, stack: Stack, topics: Topics) -> None:
        self.codec = AvroCodec(schemas.EXPORT_OUTCOME, topics.outcomes)
        self.consumer = Consumer({"bootstrap.servers": stack.kafka.bootstrap_servers,
                                  "group.id": f"reader-{topics.outcomes}", "auto.offset.reset": "earliest",
                                  "enable.auto.commit": False, "fetch.wait.max.ms": 10})
        self.consumer.subscribe([topics.outcomes])

    def next(self, timeout: float) -> tuple[float, dict[str, Any]] | None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            msg = self.consumer.poll(0.05)
            if msg is not None and not msg.error():
                return time.perf_counter(), self.codec.decode(msg.value())
        return None

    def close(self) -> None:
        self.consumer.close()


# --- day-close latency -------------------------------------------------------------------------------------


def day_close_latency(stack: Stack, sizes: Sizes) -> list[Figure]:
    runs = [workload.receipts(ORG, 1, sizes.latency_receipts, DAY, prefix=f"lat{i}-", templates=1)
            for i in range(sizes.latency_runs)]
    closes = [workload.day_close(ORG, workload.store_id(0, f"lat{i}-"), DAY, msgs) for i, msgs in enumerate(runs)]
    topics = Topics.fresh(stack.kafka.create_topic, 8)
    db = stack.database()
    settings = stack.settings(topics, db, bl_rate=1000.0)
    stack.harness(settings, topics)
    stack.bl.reset_faults()  # 0 latency
    proc = stack.service(settings, "latency")
    reader = OutcomeReader(stack, topics)
    producer = fast_producer(stack.kafka.bootstrap_servers)
    latencies: list[float] = []
    failures = []
    try:
        for i, (msgs, (key, close)) in enumerate(zip(runs, closes, strict=True)):
            produce_all(producer, topics.sales, msgs)
            sid, want = workload.store_id(0, f"lat{i}-"), len(msgs)
            wait_until(lambda sid=sid, want=want: count_rows(
                db, "SELECT count(*) FROM sales_events WHERE store_id = %s", (sid,)) >= want, 120, f"{sid} ingested",
                0.05)
            started = time.perf_counter()
            producer.produce(topics.sales, key=key, value=close)
            producer.flush(10)
            got = reader.next(timeout=60)
            if got is None:
                raise TimeoutError(f"no outcome for {sid}:\n{proc.log_tail()}")
            at, outcome = got
            if outcome["status"] != "SUCCEEDED" or outcome["store_id"] != sid:
                failures.append((sid, outcome["status"], outcome["failure"]))
            latencies.append(at - started)
    finally:
        reader.close()
        proc.stop()
    if failures:
        raise RuntimeError(f"day closes did not succeed: {failures}")
    q = statistics.quantiles(latencies, n=100, method="inclusive")
    detail = {"runs": len(latencies), "receipts_per_day": sizes.latency_receipts,
              "min_s": round(min(latencies), 4), "max_s": round(max(latencies), 4)}
    return [Figure("day-close latency p50", q[49], "s", 0.5, False, detail),
            Figure("day-close latency p99", q[98], "s", 0.5, False, detail)]


# --- midnight burst ----------------------------------------------------------------------------------------


def midnight_burst(stack: Stack, sizes: Sizes) -> list[Figure]:
    n, limit = sizes.burst_stores, sizes.burst_client_limit
    per_store = 3
    messages = workload.receipts(ORG, n, per_store, DAY, prefix="b", interleave=False)
    closes = [workload.day_close(ORG, workload.store_id(s, "b"), DAY, messages[s * per_store:(s + 1) * per_store])
              for s in range(n)]
    topics = Topics.fresh(stack.kafka.create_topic, 16)
    db = stack.database()
    # Enough workers that BL's 100 ms latency never leaves the client's rate budget unused.
    settings = stack.settings(topics, db, workers=16, bl_rate=limit)
    stack.harness(settings, topics)
    stack.bl.reset_faults()
    proc = stack.service(settings, "burst")
    reader = OutcomeReader(stack, topics)
    producer = fast_producer(stack.kafka.bootstrap_servers)
    try:
        produce_all(producer, topics.sales, messages)
        wait_until(lambda: count_rows(db, "SELECT count(*) FROM sales_events") >= len(messages), 300, "burst ingest")
        server_limit = limit * 1.25
        stack.bl.set_faults(latency_s=0.1, rate_limit_per_s=server_limit, retry_after_s=1)
        stack.bl.requests.clear()
        started = time.perf_counter()
        produce_all(producer, topics.sales, closes)
        published_s = time.perf_counter() - started
        outcomes: list[dict[str, Any]] = []
        last = started
        while len([o for o in outcomes if o["status"] == "SUCCEEDED"]) < n:
            got = reader.next(timeout=max(120.0, 4 * n / limit))
            if got is None:
                raise TimeoutError(f"burst: {len(outcomes)} outcomes of {n}:\n{proc.log_tail()}")
            last, outcome = got
            outcomes.append(outcome)
    finally:
        reader.close()
        stack.bl.reset_faults()
        proc.stop()
    took = last - started
    reqs = stack.bl.requests.all()
    throttled = sum(1 for r in reqs if r.status == 429)
    failed = [o for o in outcomes if o["status"] == "FAILED"]
    span = max(r.at for r in reqs) - min(r.at for r in reqs) if reqs else took
    req_rate = len(reqs) / span if span else 0.0
    detail = {"stores": n, "published_closes_in_s": round(published_s, 3), "seconds": round(took, 2),
              "exports_per_s": round(n / took, 2), "bl_requests": len(reqs),
              "requests_per_export": round(len(reqs) / n, 2), "bl_request_rate": round(req_rate, 2),
              "client_limit_per_s": limit, "server_limit_per_s": server_limit, "bl_latency_s": 0.1,
              "peak_1s": stack.bl.requests.peak_rate(), "http_429": throttled,
              "failed_outcomes": len(failed),
              "failed_because_429": sum(1 for o in failed if o["failure"]["reason_code"] == "BL_UNAVAILABLE")}
    return [
        Figure("burst: BL request rate / client limit", req_rate / limit, "x", 0.9, True, detail),
        Figure("burst: failures caused by 429", detail["failed_because_429"], "", 0, False,
               {"http_429_seen": throttled}),
    ]

"""Day-close → outcome latency, for a regular day (5,000 receipts) and a large one (50,000), split into
what the test rig costs and what dayclose costs.

For each store-day: publish its receipts (in chunks the mock's 5 MiB partitions can hold) and wait until
the service has committed their offsets; then produce the day-closed event and time its way through.
Every point is a wall-clock time on this machine (Python's ``time.time()``, PostgreSQL's ``now()`` and
Kafka's CreateTime read the same clock):

    produce()  ─producer─▶  broker ack  ─fetch wait─▶  ingest transaction starts (day_closes.received_at)
      ─job pickup─▶  export started (exports.created_at)  ─export─▶  booked (exports.booked_at)
      ─relay─▶  outcome produced (its Kafka CreateTime)  ─delivery─▶  outcome read by the benchmark

"Ours" is ingest → outcome produced: everything dayclose does. The producer's linger and the consumer's
fetch wait belong to the rig: librdkafka's mock broker answers a parked fetch only when
``fetch.wait.max.ms`` (100 ms in the service) runs out, where a real broker answers as data arrives.
"""

from __future__ import annotations

import statistics
import time
from typing import Any

import psycopg
from confluent_kafka import KafkaError, Message, Producer

from bench import workload
from bench.measures import DAY, OutcomeReader, Sizes
from bench.progress import Progress
from bench.report import Figure
from bench.stack import ORG, OffsetProbe, Stack, fast_producer, produce_all
from bench.watch import until_committed
from devstack.harness import Topics
from devstack.processes import ServiceProcess

PARTITIONS = 8
#: Receipts published before waiting for the service to catch up: ~2.3 MB, under a mock partition's 5 MiB.
CHUNK = 10_000
#: (component, what it is, whose time): in timeline order.
COMPONENTS = (
    ("producer", "produce() + flush() → broker ack (flush sends at once, without linger)", "rig"),
    ("fetch_wait", "broker ack → ingest transaction starts: the mock broker's fetch wait (≤ 100 ms)", "rig"),
    ("job_pickup", "ingest → export started: ingest commit, NOTIFY, a worker claims the job", "ours"),
    ("export", "export started → booked: claim the day's sales, build the voucher, lease, BL look-up + post", "ours"),
    ("relay", "booked → outcome produced: commit, NOTIFY, the relay reads the outbox and produces", "ours"),
    ("delivery", "outcome produced → read: relay linger (2 ms), broker, the reader's fetch (≤ 10 ms)", "rig"),
)


def percentile(values: list[float], q: int) -> float:
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def day_close_latency(stack: Stack, sizes: Sizes) -> list[Figure]:
    return _day_close_runs(stack, sizes.latency_receipts, sizes.latency_runs, "lat", 0.25) + _day_close_runs(
        stack, sizes.large_day_receipts, sizes.large_day_runs, "big", 0.3
    )


def _day_close_runs(stack: Stack, receipts: int, runs: int, prefix: str, target_p99: float) -> list[Figure]:
    topics = Topics.fresh(stack.kafka.create_topic, PARTITIONS)
    db = stack.database()
    settings = stack.settings(topics, db, bl_rate=1000.0)  # the client's limit must not shape this figure
    stack.harness(settings, topics)
    stack.bl.reset_faults()  # BL answers at once
    proc = stack.service(settings, f"latency-{prefix}")
    reader = OutcomeReader(stack, topics)
    probe = OffsetProbe(stack.kafka.bootstrap_servers, settings.kafka.group_id, topics.sales, PARTITIONS)
    bulk = fast_producer(stack.kafka.bootstrap_servers)
    closer = Producer({"bootstrap.servers": stack.kafka.bootstrap_servers, "linger.ms": 5, "acks": "all"})
    samples: list[dict[str, float]] = []
    published = 0
    try:
        with Progress(f"{receipts:,}-receipt days", runs, "days") as bar:
            for i in range(runs):
                sid = workload.store_id(0, f"{prefix}{i}-")
                msgs = workload.receipts(ORG, 1, receipts, DAY, prefix=f"{prefix}{i}-", templates=1)
                key, close = workload.day_close(ORG, sid, DAY, msgs)
                for at in range(0, len(msgs), CHUNK):
                    produce_all(bulk, topics.sales, msgs[at : at + CHUNK])
                    published += len(msgs[at : at + CHUNK])
                    until_committed(probe, published, proc, f"{sid} ingest", timeout=300, show=False)
                samples.append(_one_close(db, closer, reader, proc, topics.sales, sid, key, close))
                published += 1
                bar.update(i + 1)
    finally:
        probe.close()
        reader.close()
        proc.stop()
        stack.drop(db)
    return _figures(samples, receipts, target_p99)


def _one_close(
    db: str,
    producer: Producer,
    reader: OutcomeReader,
    proc: ServiceProcess,
    topic: str,
    sid: str,
    key: bytes,
    value: bytes,
) -> dict[str, float]:
    acked: dict[str, Any] = {}

    def on_delivery(err: KafkaError | None, _msg: Message) -> None:
        acked.update(at=time.time(), err=err)

    produced = time.time()
    producer.produce(topic, key=key, value=value, on_delivery=on_delivery)
    if producer.flush(10) or acked.get("err") is not None:
        raise RuntimeError(f"day close of {sid} not delivered: {acked.get('err')}")
    got = reader.next(timeout=180)
    if got is None:
        raise TimeoutError(f"no outcome for {sid}:\n{proc.log_tail()}")
    read, outcome_created, outcome = got
    if outcome["status"] != "SUCCEEDED" or outcome["store_id"] != sid:
        raise RuntimeError(f"day close of {sid} did not succeed: {outcome['status']} {outcome['failure']}")
    with psycopg.connect(db) as conn:
        row = conn.execute(
            """SELECT extract(epoch FROM c.received_at), extract(epoch FROM e.created_at),
                      extract(epoch FROM e.booked_at)
               FROM day_closes c JOIN exports e USING (organization_id, store_id, business_date)
               WHERE c.store_id = %s AND e.trigger = 'DAY_CLOSE'""",
            (sid,),
        ).fetchone()
    if row is None:
        raise RuntimeError("the query returned no row")
    ingested, started, booked = (float(x) for x in row)
    return {
        "producer": acked["at"] - produced,
        "fetch_wait": ingested - acked["at"],
        "job_pickup": started - ingested,
        "export": booked - started,
        "relay": outcome_created - booked,
        "delivery": read - outcome_created,
        "ours": outcome_created - ingested,
        "end_to_end": read - produced,
    }


def _figures(samples: list[dict[str, float]], receipts: int, target_p99: float) -> list[Figure]:
    def pcts(name: str) -> dict[str, float]:
        values = [s[name] for s in samples]
        return {
            "p50": round(percentile(values, 50), 4),
            "p99": round(percentile(values, 99), 4),
            "max": round(max(values), 4),
        }

    detail: dict[str, Any] = {
        "runs": len(samples),
        "receipts_per_day": receipts,
        "components": {name: {**pcts(name), "what": what, "whose": whose} for name, what, whose in COMPONENTS},
        "ours": pcts("ours"),
        "end_to_end": pcts("end_to_end"),
    }
    ours, e2e = detail["ours"], detail["end_to_end"]
    day = f"day close, {receipts:,} receipts"
    return [
        Figure(f"{day}: ours p99 (ingested → outcome produced)", ours["p99"], "s", target_p99, False, detail),
        Figure(f"{day}: ours p50", ours["p50"], "s", None, False, {}),
        Figure(f"{day}: end to end p99 (produced → outcome read, mock broker)", e2e["p99"], "s", None, False, {}),
    ]

"""Scale-out (issue #27): one pod's ingest with one and with two consumer processes (DAYCLOSE_CONSUMER_PROCESSES), and
their ratio.

Measured apart from the main ingest figure, and differently, because of the mock cluster: a member joining a group
makes librdkafka's mock coordinator wait the session timeout less one second for the others to rejoin, and refuse
offset commits meanwhile (a real broker goes on as soon as every member has rejoined, within a heartbeat). Timed like
the main figure (from the first row stored to the group's committed offsets covering every event), but each pod starts
on an empty sales topic, and the events are published once its processes hold the partitions between them (read from
their log lines), so the clock holds ingest, not the mock's rebalance. One process and two run three times each, in
turn (``Sizes.scale_out_pairs``): one pair's ratio moved 1.13–1.40 × within an hour on the same code, as the ingest
ratio's pairs do.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import replace

from bench import workload
from bench.report import Figure
from bench.stack import Stack, fast_producer, produce_all
from bench.watch import timed_run
from devstack.harness import Topics
from devstack.processes import ServiceProcess, partitions_held, split_between

#: A short session keeps the mock coordinator's wait for the pod's own members short (it waits this less 1 s).
SESSION_TIMEOUT_MS = 4_000
SETTLE_TIMEOUT_S = 120.0


def scale_out(stack: Stack, messages: list[workload.Message], partitions: int, pairs: int = 3) -> list[Figure]:
    """One process, then two, ``pairs`` times in turn (a drift of the machine's speed falls on both alike): the rates
    are medians and the ratio the median of each pair's."""
    runs = [tuple(_settled_rate(stack, messages, partitions, n) for n in (1, 2)) for _ in range(pairs)]
    one, two = (statistics.median(run[i] for run in runs) for i in (0, 1))
    ratios = [b / a for a, b in runs]
    detail = {"events": len(messages), "partitions": partitions, "pairs": pairs}
    return [
        Figure("ingest, group settled first: dayclose run, one process", one, "ev/s", None, True, detail),
        Figure(
            "ingest, group settled first: dayclose run, two processes (DAYCLOSE_CONSUMER_PROCESSES=2)",
            two,
            "ev/s",
            None,
            True,
            detail,
        ),
        Figure(
            "ingest ratio: two dayclose run processes ÷ one",
            statistics.median(ratios),
            "×",
            1.3,
            True,
            {
                "one": round(one),
                "two": round(two),
                "one_each": [round(a) for a, _ in runs],
                "two_each": [round(b) for _, b in runs],
                "ratio_each": [round(r, 3) for r in ratios],
            },
        ),
    ]


def _settled_rate(stack: Stack, messages: list[workload.Message], partitions: int, processes: int) -> float:
    """Events/s of one pod of ``processes`` consumer processes, the events published once its group settled."""
    topics = Topics.fresh(stack.kafka.create_topic, partitions)
    db = stack.database()
    settings = replace(stack.settings(topics, db), consumer_processes=processes, log_level="INFO")
    kafka = replace(settings.kafka, session_timeout_ms=SESSION_TIMEOUT_MS, heartbeat_interval_ms=500)
    settings = replace(settings, kafka=kafka)
    name = f"scale-out-{processes}"

    def start() -> ServiceProcess:
        proc = stack.service(settings, name)
        _settled(proc, topics.sales, processes, partitions)
        produce_all(fast_producer(stack.kafka.bootstrap_servers), topics.sales, messages, label=f"publish {name}")
        return proc

    try:
        run = timed_run(
            stack,
            name=name,
            database_url=db,
            table="sales",
            group_id=kafka.group_id,
            topic=topics.sales,
            partitions=partitions,
            n=len(messages),
            start=start,
            with_wal=False,
        )
    finally:
        stack.drop(db)
    return float(run["ingest_rate"])


def _settled(proc: ServiceProcess, topic: str, processes: int, partitions: int) -> None:
    """Until the pod's processes hold every partition of ``topic`` between them, each some."""
    deadline = time.monotonic() + SETTLE_TIMEOUT_S
    while not split_between([partitions_held(proc.log_path, topic)], processes, partitions):
        if not proc.alive or time.monotonic() > deadline:
            raise RuntimeError(f"{processes} consumer process(es) did not settle on {topic}\n{proc.log_tail()}")
        time.sleep(0.1)  # polling a log file, not hiding a race

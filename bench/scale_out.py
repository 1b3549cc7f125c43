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

Each run also records what it cost, from the publish to the last offset committed: CPU per event of the pod's
processes and of PostgreSQL (``bench.pod``), and the share of the machine's cores busy while it ingests (the median
of samples every 0.25 s: the window's first moments, the publish, and its last, the wait for the last offsets'
commit, leave the pod idle). With CPU per event the same for one process and two, two ÷ one is bounded by what the
machine had left: at most (the busy share with two) ÷ (the busy share with one).
"""

from __future__ import annotations

import os
import statistics
import threading
import time
from collections.abc import Callable
from dataclasses import replace

from bench import workload
from bench.pod import Pod, machine_busy_seconds, rig_cpu_seconds
from bench.report import Figure
from bench.stack import Stack, fast_producer, produce_all
from bench.watch import timed_run
from devstack.harness import Topics
from devstack.processes import ServiceProcess, partitions_held, split_between

#: A short session keeps the mock coordinator's wait for the pod's own members short (it waits this less 1 s).
SESSION_TIMEOUT_MS = 4_000
SETTLE_TIMEOUT_S = 120.0
#: How often the machine's busy share is sampled during a run (the figure is the samples' median).
BUSY_SAMPLE_S = 0.25


def scale_out(stack: Stack, messages: list[workload.Message], partitions: int, pairs: int = 3) -> list[Figure]:
    """One process, then two, ``pairs`` times in turn (a drift of the machine's speed falls on both alike): the rates
    are medians and the ratio the median of each pair's."""
    measured = [tuple(_settled_rate(stack, messages, partitions, n) for n in (1, 2)) for _ in range(pairs)]
    runs = [(a[0], b[0]) for a, b in measured]
    one, two = (statistics.median(run[i] for run in runs) for i in (0, 1))
    ratios = [b / a for a, b in runs]
    detail = {"events": len(messages), "partitions": partitions, "pairs": pairs}
    costs = [(a[1], b[1]) for a, b in measured]
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
                "one_cost_each": [a for a, _ in costs],
                "two_cost_each": [b for _, b in costs],
            },
        ),
        *_cost_figures(costs),
    ]


def _cost_figures(costs: list[tuple[dict[str, float], dict[str, float]]]) -> list[Figure]:
    """Per pod size, over the pairs (:func:`_cost_window`): the machine's busy share and CPU per event, as medians."""
    figures = []
    for i, label in ((0, "one process"), (1, "two processes")):
        each = [pair[i] for pair in costs]
        figures += [
            Figure(
                f"scale-out, {label}: share of the machine's cores busy while ingesting (median of 0.25 s samples)",
                statistics.median(c["machine_busy"] for c in each),
                "",
                None,
                True,
                {
                    "each": [c["machine_busy"] for c in each],
                    "whole_window_each": [c["machine_busy_window"] for c in each],
                },
            ),
            Figure(
                f"scale-out, {label}: CPU per event, the pod + PostgreSQL (median)",
                statistics.median(c["pod_us"] + c["postgres_us"] for c in each),
                "µs",
                None,
                False,
                {"pod_us_each": [c["pod_us"] for c in each], "postgres_us_each": [c["postgres_us"] for c in each]},
            ),
        ]
    return figures


def _settled_rate(
    stack: Stack, messages: list[workload.Message], partitions: int, processes: int
) -> tuple[float, dict[str, float]]:
    """Events/s of one pod of ``processes`` consumer processes, the events published once its group settled, and
    what it cost (:func:`_cost_window`)."""
    topics = Topics.fresh(stack.kafka.create_topic, partitions)
    db = stack.database()
    settings = replace(stack.settings(topics, db), consumer_processes=processes, log_level="INFO")
    kafka = replace(settings.kafka, session_timeout_ms=SESSION_TIMEOUT_MS, heartbeat_interval_ms=500)
    settings = replace(settings, kafka=kafka)
    name = f"scale-out-{processes}"

    cost: dict[str, float] = {}
    ends: list[Callable[[], dict[str, float]]] = []

    def start() -> ServiceProcess:
        proc = stack.service(settings, name)
        _settled(proc, topics.sales, processes, partitions)
        if proc.process is None:
            raise RuntimeError(f"{name}: not running")
        ends.append(_cost_window(stack, Pod.of(proc.process.pid, processes), len(messages)))
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
            before_stop=lambda _: cost.update(ends[0]()),
        )
    finally:
        stack.drop(db)
    return float(run["ingest_rate"]), cost


def _cost_window(stack: Stack, pod: Pod, events: int) -> Callable[[], dict[str, float]]:
    """From now until the returned function is called: CPU µs per event of ``pod``'s processes and of PostgreSQL, and
    the share of the machine's cores busy (with anything: the broker and the benchmark too), over the whole window and
    as the median of :data:`BUSY_SAMPLE_S` samples (the steady state: the window starts with the publish and ends with
    the wait for the last offsets' commit, when the pod has little to do)."""
    before, busy, started = rig_cpu_seconds(pod, stack.postgres.data_dir), machine_busy_seconds(), time.monotonic()
    samples: list[float] = []
    done = threading.Event()
    cores = os.cpu_count() or 1

    def sample() -> None:
        last_busy, last = busy, started
        while not done.wait(BUSY_SAMPLE_S):
            now_busy, now = machine_busy_seconds(), time.monotonic()
            samples.append((now_busy - last_busy) / ((now - last) * cores))
            last_busy, last = now_busy, now

    sampler = threading.Thread(target=sample, name="busy-sampler", daemon=True)
    sampler.start()

    def end() -> dict[str, float]:
        done.set()
        sampler.join()
        pod.check()
        after, wall = rig_cpu_seconds(pod, stack.postgres.data_dir), time.monotonic() - started
        return {
            "pod_us": round((after["pod"] - before["pod"]) / events * 1e6, 1),
            "postgres_us": round((after["postgres"] - before["postgres"]) / events * 1e6, 1),
            "machine_busy_window": round((machine_busy_seconds() - busy) / (wall * cores), 3),
            "machine_busy": round(statistics.median(samples), 3) if samples else 0.0,
        }

    return end


def _settled(proc: ServiceProcess, topic: str, processes: int, partitions: int) -> None:
    """Until the pod's processes hold every partition of ``topic`` between them, each some."""
    deadline = time.monotonic() + SETTLE_TIMEOUT_S
    while not split_between([partitions_held(proc.log_path, topic)], processes, partitions):
        if not proc.alive or time.monotonic() > deadline:
            raise RuntimeError(f"{processes} consumer process(es) did not settle on {topic}\n{proc.log_tail()}")
        time.sleep(0.1)  # polling a log file, not hiding a race

"""Where ingest's CPU goes: CPU µs per event of the consumer process (its main thread, its busiest other thread,
the rest), of PostgreSQL (every server process) and of the benchmark process (the mock broker), for
``dayclose run`` and the lean COPY peer over the same 200,000 published receipts.

    python -m bench.cpu_split [--receipts 200000]

Read from ``/proc`` (user + system time) around each run; the machine's busy share from ``/proc/stat``. In
``dayclose run`` the main thread is the Kafka loop (fetch, decode, typed receipts), the busiest other thread the
writer (row JSON, buckets, the database round trips); a Python process runs one thread at a time (the GIL), so
the process's CPU per event bounds its rate on any number of cores.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from bench import workload
from bench.ingest import publish
from bench.measures import DAY
from bench.pod import TICK, cpu_seconds
from bench.stack import ORG, OffsetProbe, Stack, local_stack
from bench.watch import until_committed
from devstack.processes import ServiceProcess


def _threads(pid: int) -> dict[int, float]:
    tasks = Path(f"/proc/{pid}/task")
    return {int(t.name): cpu_seconds(t / "stat") for t in tasks.iterdir()} if tasks.exists() else {}


def _postgres_s() -> float:
    total = 0.0
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                if (proc / "comm").read_text().strip() in ("postgres", "postmaster"):
                    total += cpu_seconds(proc / "stat")
            except OSError:
                continue
    return total


def _machine() -> tuple[float, float]:
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    return sum(values) / TICK, (values[3] + values[4]) / TICK


def measure(stack: Stack, name: str, start: ServiceProcess, group: str, topic: str, partitions: int, n: int) -> str:
    proc = start
    pid = proc.process.pid if proc.process else 0
    before_pg, before_bench, (before_all, before_idle) = _postgres_s(), cpu_seconds(Path("/proc/self/stat")), _machine()
    started = time.time()
    with OffsetProbe(stack.kafka.bootstrap_servers, group, topic, partitions) as probe:
        until_committed(probe, n, proc, name, timeout=600)
    wall = time.time() - started
    threads = _threads(pid)
    pg, bench_s, (after_all, after_idle) = _postgres_s(), cpu_seconds(Path("/proc/self/stat")), _machine()
    proc.stop()
    main = threads.pop(pid, 0.0)
    busiest = max(threads.values(), default=0.0)
    rest = sum(threads.values()) - busiest

    def us(seconds: float) -> str:
        return f"{seconds / n * 1e6:5.0f}"

    busy = 100 * (1 - (after_idle - before_idle) / max(after_all - before_all, 1e-9))
    return (
        f"{name:9s} {n / wall:8,.0f} ev/s (incl. start-up)  CPU µs/event: process {us(main + busiest + rest)} "
        f"(main {us(main)}, busiest other thread {us(busiest)}, rest {us(rest)}), "
        f"PostgreSQL {us(pg - before_pg)}, benchmark + mock broker {us(bench_s - before_bench)}; "
        f"machine busy {busy:.0f} %"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--receipts", type=int, default=200_000)
    args = parser.parse_args(argv)
    stores = 500
    with local_stack() as stack:
        messages = workload.receipts(ORG, stores, max(1, args.receipts // stores), DAY)
        topics, partitions = publish(stack, messages)
        n = len(messages)
        db = stack.database()
        settings = stack.settings(topics, db)
        try:
            ours = measure(
                stack, "dayclose", stack.service(settings, "cpu"), settings.kafka.group_id, topics.sales, partitions, n
            )
        finally:
            stack.drop(db)
        db = stack.empty_database()
        group = f"peer-cpu-{topics.sales}"
        try:
            theirs = measure(
                stack, "peer", stack.peer(db, topics.sales, group, "cpu-peer"), group, topics.sales, partitions, n
            )
        finally:
            stack.drop(db)
    print(ours)
    print(theirs)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

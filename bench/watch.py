"""Waiting for a process under test without disturbing it: progress comes from the broker (committed
offsets, outcome events), memory from ``/proc``; PostgreSQL is not asked anything while the clock runs
(:func:`timed_run` reads the storage and WAL it cost once the clock has stopped)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import psycopg

from bench.measures import table_sizes
from bench.progress import Progress
from bench.stack import OffsetProbe, Stack
from devstack.processes import ServiceProcess

#: How often the probe asks the coordinator: the end of a run is known to within this.
PROBE_INTERVAL_S = 0.05


@dataclass
class Watched:
    #: Wall-clock time (``time.time()``) at which the committed offsets were first seen to reach the target.
    done_at: float
    peak_rss_bytes: int
    #: Committed-offset milestone → the process's peak RSS when the probe first saw it passed.
    rss_at: dict[int, int] = field(default_factory=dict)


def until_committed(
    probe: OffsetProbe,
    target: int,
    proc: ServiceProcess,
    label: str,
    timeout: float,
    milestones: tuple[int, ...] = (),
    show: bool = True,
) -> Watched:
    """Poll ``probe`` every 50 ms until Σ committed offsets ≥ ``target``. Raises if ``proc`` dies or the
    timeout passes (with the tail of its log)."""
    deadline = time.monotonic() + timeout
    peak, rss_at = 0, {}
    with Progress(label, target, "ev", enabled=show) as bar:
        while True:
            if not proc.alive:
                raise RuntimeError(f"{label}: process exited early:\n{proc.log_tail()}")
            peak = max(peak, proc.peak_rss_bytes() or 0)
            done = probe.committed()
            now = time.time()
            bar.update(done)
            for m in milestones:
                if done >= m and m not in rss_at:
                    rss_at[m] = peak
            if done >= target:
                return Watched(now, max(peak, proc.peak_rss_bytes() or 0), rss_at)
            if time.monotonic() > deadline:
                raise TimeoutError(f"{label}: {done} of {target} committed in {timeout:.0f}s:\n{proc.log_tail()}")
            time.sleep(PROBE_INTERVAL_S)


def timed_run(
    stack: Stack,
    *,
    name: str,
    database_url: str,
    table: str,
    group_id: str,
    topic: str,
    partitions: int,
    n: int,
    start: Callable[[], ServiceProcess],
    milestones: tuple[int, ...] = (),
    with_wal: bool = True,
    before_stop: Callable[[ServiceProcess], None] | None = None,
) -> dict[str, Any]:
    """Start a consumer process, time it to 'every event stored and its offset committed', then read the
    storage and WAL it cost. Raises unless exactly ``n`` rows were stored (every event once). ``before_stop``: called
    once every offset is committed, before the process is stopped."""
    stack.checkpoint()
    wal_start = stack.wal_lsn()
    spawned = time.time()
    proc = start()
    with OffsetProbe(stack.kafka.bootstrap_servers, group_id, topic, partitions) as probe:
        watched = until_committed(probe, n, proc, name, timeout=max(600, n / 500), milestones=milestones)
    if before_stop is not None:
        before_stop(proc)
    proc.stop()
    wal = stack.wal_between(wal_start, stack.wal_lsn()) if with_wal else {}
    with psycopg.connect(database_url) as conn:
        row = conn.execute(
            f"SELECT extract(epoch FROM min(received_at)), extract(epoch FROM max(received_at)), count(*), "  # noqa: S608
            f"{table_sizes(table)} FROM {table}"
        ).fetchone()
    if row is None:
        raise RuntimeError("the query returned no row")
    first, last, rows, total_bytes, heap_bytes, index_bytes = float(row[0]), float(row[1]), *map(int, row[2:])
    if rows != n:
        raise RuntimeError(f"{name}: {rows} rows stored for {n} distinct events")
    took = watched.done_at - first
    return {
        "events": n,
        "ingest_rate": n / took,
        "ingest_s": took,
        "rows_span_s": last - first,
        "startup_s": first - spawned,
        "peak_rss_mb": watched.peak_rss_bytes / 10**6,
        "rss_at": {str(k): v for k, v in watched.rss_at.items()},
        "bytes_per_row": total_bytes / n,
        "heap_bytes_per_row": heap_bytes / n,
        "index_bytes_per_row": index_bytes / n,
    } | {f"wal_{k}_per_event": v / n for k, v in wal.items()}

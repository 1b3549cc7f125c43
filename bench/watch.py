"""Waiting for a process under test without disturbing it: progress comes from the broker (committed
offsets, outcome events), memory from ``/proc``; PostgreSQL is not asked anything while the clock runs."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from bench.progress import Progress
from bench.stack import OffsetProbe
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

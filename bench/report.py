"""Figures with their targets: one table on the terminal, one JSON file for the README and CI."""

from __future__ import annotations

import json
import math
import os
import platform
import subprocess
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"


@dataclass
class Figure:
    """One measured figure. ``higher_is_better`` decides how ``value`` compares with ``target``."""

    name: str
    value: float
    unit: str
    #: None marks a reference figure (e.g. the raw baseline) that other figures are compared with.
    target: float | None
    higher_is_better: bool
    detail: dict[str, Any] = field(default_factory=dict)

    @property
    def ratio(self) -> float | None:
        """value / target: ≥ 1 passes when higher is better, ≤ 1 when lower is better (None: no ratio)."""
        return self.value / self.target if self.target else None

    @property
    def passed(self) -> bool | None:
        if self.target is None:
            return None
        return self.value >= self.target if self.higher_is_better else self.value <= self.target

    def as_json(self) -> dict[str, Any]:
        ratio = self.ratio
        return {**asdict(self), "ratio": None if ratio is None else round(ratio, 4), "passed": self.passed}


def machine() -> dict[str, Any]:
    load = os.getloadavg()
    return {
        "host": platform.node(),
        "cpus": os.cpu_count(),
        "cpu_model": _cpu_model(),
        "memory_gb": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "python": platform.python_version(),
        "os": platform.platform(),
        "load_avg_at_end": [round(x, 2) for x in load],
        "git_commit": _git_commit(),
    }


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _git_commit() -> str:
    try:
        return subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
            cwd=Path(__file__).resolve().parent,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def table(figures: list[Figure]) -> str:
    """One row per figure. "÷ target" is value ÷ target (≥ 1 passes when higher is better, ≤ 1 when lower
    is better); ratios between measured figures are figures of their own, named for what they divide."""
    width = max([60, *(len(f.name) for f in figures)])
    head = f"{'figure':<{width}} {'value':>14} {'target':>15} {'÷ target':>8}  result"
    rows = [head, "-" * len(head)]
    for f in figures:
        cmp = "≥" if f.higher_is_better else "≤"
        target = "" if f.target is None else f"{cmp} {_num(f.target)} {f.unit}"
        ratio = "" if f.ratio is None else f"{f.ratio:.2f}"
        result = {None: "", True: "PASS", False: "FAIL"}[f.passed]
        rows.append(f"{f.name:<{width}} {_num(f.value):>8} {f.unit:<5} {target:>15} {ratio:>8}  {result}")
    return "\n".join(rows)


def breakdowns(figures: list[Figure]) -> str:
    """The parts behind the headline figures: latency components, and what ingest costs per event."""
    out: list[str] = []
    for f in figures:
        components = f.detail.get("components")
        if components:
            out += [
                "",
                f"{f.name.split(':')[0]}, {f.detail['runs']} runs (p99 of few runs is near their max):",
                f"  {'component':<12} {'p50 s':>8} {'p99 s':>8}  whose  what",
            ]
            for name, c in components.items():
                out.append(f"  {name:<12} {c['p50']:>8.4f} {c['p99']:>8.4f}  {c['whose']:<5}  {c['what']}")
            for name in ("ours", "end_to_end"):
                out.append(f"  {name:<12} {f.detail[name]['p50']:>8.4f} {f.detail[name]['p99']:>8.4f}")
    ingest = {
        f.name.split(",")[0].removeprefix("ingest: "): f.detail
        for f in figures
        if f.name.startswith("ingest: ") and "wal_bytes_per_event" in f.detail
    }
    if ingest:
        keys = (
            "bytes_per_row",
            "index_bytes_per_row",
            "wal_bytes_per_event",
            "wal_records_per_event",
            "wal_fpi_bytes_per_event",
            "peak_rss_mb",
            "startup_s",
        )
        out += ["", "ingest, per event / per process:", "  " + f"{'':<24}" + "".join(f"{k:>26}" for k in ingest)]
        for k in keys:
            out.append("  " + f"{k:<24}" + "".join(f"{_num(d.get(k, float('nan'))):>26}" for d in ingest.values()))
    return "\n".join(out)


def _num(x: float) -> str:
    if math.isnan(x):  # not measured
        return "-"
    return f"{x:,.0f}" if abs(x) >= 100 else f"{x:.3g}"


def summary(figures: list[Figure]) -> str:
    failed = [f.name for f in figures if f.passed is False]
    return "all targets met" if not failed else f"{len(failed)} target(s) missed: " + "; ".join(failed)


def write(figures: list[Figure], mode: str, path: Path | None = None, extra: dict[str, Any] | None = None) -> Path:
    path = path or RESULTS / "latest.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    doc = {
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "mode": mode,
        "machine": machine(),
        "figures": [f.as_json() for f in figures],
        **(extra or {}),
    }
    path.write_text(json.dumps(doc, indent=2, default=str) + "\n")
    return path

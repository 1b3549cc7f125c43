"""How long each fault went unnoticed, and how long the service took to work again, read from the service's log
(JSON lines, UTC timestamps) against the nemesis's record of when each fault began and healed (#24).

*Detected after*: from the fault's start to the first log line of ``dayclose run`` that reports the dependency
failing (a PostgreSQL error, librdkafka's complaint, a BL retry). A fault the service never ran into (nothing in
flight, nothing asked), or ran into only after a SIGKILL restarted it, is counted, not timed. *Working again
after*: from the heal to the first batch ingested or voucher booked (for a kill: from the kill).
"""

from __future__ import annotations

import json
from bisect import bisect_right
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from statistics import quantiles
from typing import Any

from tests.chaos.nemesis import Fault

PG_EVENTS = {"batch.db_unavailable", "worker.error", "relay.error", "listener.reconnecting", "job.crashed"}
KAFKA_EVENTS = {"kafka.client_error", "relay.delivery_failed", "kafka.message_error", "kafka.store_offsets_failed"}
BL_EVENTS = {"bl.retry", "bl.post_retry", "export.transient_failure"}
WORKING = {"batch.ingested", "export.booked"}


@dataclass(frozen=True)
class Line:
    at: float
    event: str
    logger: str


def read_log(path: Path) -> list[Line]:
    lines = []
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return []
    for raw in text.splitlines():
        if not raw.startswith("{"):
            continue
        try:
            entry: dict[str, Any] = json.loads(raw)
            at = datetime.fromisoformat(str(entry["timestamp"]).replace("Z", "+00:00")).timestamp()
        except (ValueError, KeyError):
            continue
        lines.append(Line(at, str(entry.get("event", "")), str(entry.get("logger", ""))))
    lines.sort(key=lambda line: line.at)
    return lines


def _signals(kind: str, line: Line) -> bool:
    target = kind.rsplit(":", maxsplit=1)[-1] if ":" in kind else kind
    if kind.startswith(("pg_", "disk_full")) or target == "pg":
        return line.event in PG_EVENTS or (line.logger == "psycopg.pool" and line.event.startswith("error connecting"))
    if kind == "broker_down" or target == "kafka":
        return line.logger == "librdkafka" or line.event in KAFKA_EVENTS
    if kind.startswith("bl") or target == "bl":
        return line.event in BL_EVENTS
    return False


def _first(lines: list[Line], times: list[float], after: float, until: float, match: Any) -> float | None:
    for line in lines[bisect_right(times, after) :]:
        if line.at > until:
            return None
        if match(line):
            return line.at
    return None


@dataclass
class Timing:
    kind: str
    detected_after: float | None
    working_after: float | None


def timings(faults: list[Fault], lines: list[Line]) -> list[Timing]:
    """A fault's detection is timed only when ``dayclose run`` lived through it until then: a SIGKILL meanwhile
    restarts the process into the fault, and what it logs then times the restart, not the detection."""
    kills = sorted(f.started for f in faults if f.kind == "kill_run")
    times = [line.at for line in lines]
    out = []
    for fault in faults:
        until = (fault.healed or fault.started) + 60
        detected = None
        if fault.kind != "kill_run":
            seen = _first(lines, times, fault.started, until, lambda line, k=fault.kind: _signals(k, line))
            killed = bisect_right(kills, seen or until) > bisect_right(kills, fault.started)
            detected = None if seen is None or killed else seen - fault.started
        since = fault.started if fault.kind == "kill_run" else (fault.healed or fault.started)
        working = _first(lines, times, since, since + 600, lambda line: line.event in WORKING)
        out.append(Timing(fault.kind, detected, None if working is None else working - since))
    return out


def p50_p99(values: list[float]) -> tuple[float, float] | None:
    if not values:
        return None
    if len(values) == 1:
        return values[0], values[0]
    cuts = quantiles(values, n=100, method="inclusive")
    return cuts[49], cuts[98]


def table(faults: list[Fault], lines: list[Line], outcome: str) -> list[dict[str, Any]]:
    """One row per fault class: count, how many were noticed, detected-after and working-again p50/p99 (s)."""
    rows = []
    measured = timings(faults, lines)
    for kind in sorted({t.kind for t in measured}):
        mine = [t for t in measured if t.kind == kind]
        detected = [t.detected_after for t in mine if t.detected_after is not None]
        working = [t.working_after for t in mine if t.working_after is not None]
        rows.append(
            {
                "fault": kind,
                "count": len(mine),
                "missed_target": sum(1 for f in faults if f.kind == kind and not f.hit),
                "noticed": len(detected),
                "detected_p50_p99_s": p50_p99(detected),
                "working_again_p50_p99_s": p50_p99(working),
                "outcome": outcome,
            }
        )
    return rows


def markdown(rows: list[dict[str, Any]]) -> str:
    """The table of docs/reliability.md from :func:`table`'s rows."""

    def seconds(pair: Any) -> str:
        return "–" if not pair else f"{pair[0]:.1f} / {pair[1]:.1f}"

    out = [
        "| Fault | Count | Timed (no kill meanwhile) | Detected after, p50 / p99 (s) "
        "| Working again after, p50 / p99 (s) | Outcome |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        missed = f" ({r['missed_target']} missed their target)" if r["missed_target"] else ""
        out.append(
            f"| `{r['fault']}` | {r['count']}{missed} | {r['noticed']} | {seconds(r['detected_p50_p99_s'])} "
            f"| {seconds(r['working_again_p50_p99_s'])} | {r['outcome']} |"
        )
    return "\n".join(out) + "\n"

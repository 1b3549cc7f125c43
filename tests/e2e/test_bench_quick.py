"""CI proves `make bench` runs: the quick mode measures every figure of #8 and #16. Performance values are not
asserted (a loaded CI runner is no benchmark machine); what the benchmark checks about correctness is."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.e2e
REPO = Path(__file__).resolve().parents[2]
FIGURES = (
    "cost: Avro decode",
    "cost: database write, dayclose",
    "cost: database write, lean COPY peer",
    "ingest: dayclose run",
    "ingest: lean COPY peer",
    "ingest: raw baseline",
    "ingest ratio: dayclose ÷ lean COPY peer",
    "ingest ratio: dayclose ÷ raw baseline",
    "ingest, group settled first: dayclose run, one process",
    "ingest, group settled first: dayclose run, two processes",
    "ingest ratio: two dayclose run processes ÷ one",
    "scale-out, one process: share of the machine's cores busy",
    "scale-out, two processes: CPU per event",
    "burst, ",
    "midnight, ",
    "memory: peak RSS",
    "memory: growth",
)


def _named(figures: list[dict[str, Any]], prefix: str, contains: str = "") -> list[dict[str, Any]]:
    return [f for f in figures if f["name"].startswith(prefix) and contains in f["name"]]


@pytest.mark.timeout(420)
def test_bench_quick_mode_prints_and_writes_every_figure(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    run = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--out", str(out)],
        check=False,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=400,
    )
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-3000:]
    doc = json.loads(out.read_text())
    figures = doc["figures"]
    names = [f["name"] for f in figures]
    for prefix in FIGURES:
        assert _named(figures, prefix), f"{prefix} missing from {names}"
        assert prefix in run.stdout
    assert doc["mode"] == "quick" and doc["machine"]["cpus"]
    for f in figures:
        assert f["value"] >= 0 and (f["target"] is None or f["ratio"] is not None or f["target"] == 0)

    # Ingest: every ratio is its own figure, named for what it divides, with the targets.
    ratio = _named(figures, "ingest ratio: dayclose ÷ lean COPY peer")[0]
    assert ratio["target"] == 0.9
    # Product and peer in turn, three times each: the ratio is the median of the pairs' ratios.
    assert len(ratio["detail"]["ratio_each"]) == len(ratio["detail"]["dayclose_each"]) == 3
    assert ratio["value"] == pytest.approx(sorted(ratio["detail"]["ratio_each"])[1], abs=1e-3)
    assert _named(figures, "ingest ratio: dayclose ÷ raw baseline")[0]["target"] == 0.5
    assert _named(figures, "ingest ratio: two dayclose run processes ÷ one")[0]["target"] == 1.3
    # Scale-out: what each run cost beside its rate (the ratio's breakdown): a share of the cores, CPU per event.
    for label in ("one process", "two processes"):
        busy = _named(figures, f"scale-out, {label}: share of the machine's cores busy")[0]
        assert 0 < busy["value"] <= 1 and len(busy["detail"]["each"]) == 1
        cpu = _named(figures, f"scale-out, {label}: CPU per event")[0]["detail"]
        assert min(cpu["pod_us_each"]) > 0 and min(cpu["postgres_us_each"]) > 0
    for who in ("dayclose run", "lean COPY peer"):
        detail = _named(figures, f"ingest: {who}")[0]["detail"]
        assert detail["wal_bytes_per_event"] > 0 and detail["bytes_per_row"] > 0

    # Latency: a regular and a large day, each split into the rig's time and ours.
    days = _named(figures, "day close, ", "ours p99")
    assert len(days) == 2 and days[0]["detail"]["receipts_per_day"] < days[1]["detail"]["receipts_per_day"]
    for day in days:
        assert set(day["detail"]["components"]) == {
            "producer",
            "fetch_wait",
            "job_pickup",
            "export",
            "relay",
            "delivery",
        }

    # Midnight: many merchants, every store-day booked exactly once in BL's books, nothing failed.
    for prefix in ("burst, ", "midnight, "):
        assert _named(figures, prefix, "BL request rate ÷ client limit")
        assert all(f["value"] == 0 for f in _named(figures, prefix, "failed exports"))
        assert all(f["value"] == 0 for f in _named(figures, prefix, "not booked exactly once"))
    assert _named(figures, "midnight, ", "BL request rate")[0]["detail"]["merchants"] > 1
    assert _named(figures, "midnight, ", "peak RSS of dayclose run")

    # The capacity model is built from this run's measurements.
    assert set(doc["capacity"]["inputs"]) >= {"bytes_per_row", "wal_bytes_per_event", "requests_per_export"}
    assert "capacity model" in run.stdout

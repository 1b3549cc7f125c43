"""CI proves `make bench` runs: the quick mode measures every figure of #8 (values are not asserted)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e
REPO = Path(__file__).resolve().parents[2]
FIGURES = ("ingest:", "day-close latency p50", "day-close latency p99", "burst:", "memory:")


@pytest.mark.timeout(240)
def test_bench_quick_mode_prints_and_writes_every_figure(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    run = subprocess.run([sys.executable, "-m", "bench", "--quick", "--out", str(out)], check=False, cwd=REPO,
                         capture_output=True, text=True, timeout=230)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-3000:]
    doc = json.loads(out.read_text())
    names = [f["name"] for f in doc["figures"]]
    for prefix in FIGURES:
        assert any(n.startswith(prefix) for n in names), f"{prefix} missing from {names}"
        assert prefix.split(":")[0] in run.stdout
    assert doc["mode"] == "quick" and doc["machine"]["cpus"]
    for f in doc["figures"]:
        assert f["value"] >= 0 and (f["target"] is None or f["ratio"] is not None or f["target"] == 0)

"""Prometheus's own checker, `promtool` (Debian's `prometheus` package; .ci/run installs it): the exposition format
of a scrape (`check metrics`: syntax, and the naming conventions it lints) and the alerting rules (`check rules`,
`test rules`)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest


def promtool() -> str:
    found = shutil.which("promtool")
    if found is None:
        pytest.fail("promtool not found: apt-get install prometheus (.ci/run installs it)")
    return found


def check_metrics(scrape: bytes) -> None:
    """Fails the test with promtool's findings, if any (it exits non-zero on any finding, lint included)."""
    done = subprocess.run([promtool(), "check", "metrics"], input=scrape, capture_output=True, timeout=60, check=False)
    assert done.returncode == 0, (done.stdout + done.stderr).decode()


def run(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [promtool(), *map(str, args)], capture_output=True, text=True, timeout=120, check=False, cwd=cwd
    )

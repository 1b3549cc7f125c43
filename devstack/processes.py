"""The consumer service as its own OS process, for benchmarks and the fault suite.

``ServiceProcess`` starts ``python -m dayclose run`` (or another entry point) with the environment
a deployment would give it, and can stop it politely (SIGTERM), kill it (SIGKILL) and report its
peak resident memory (``VmHWM`` from ``/proc``, which the kernel keeps as a high-water mark).
``service_env`` turns a :class:`dayclose.settings.Settings` (e.g. from ``harness.make_settings``)
into those environment variables, so tests build settings once and hand them to a child.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO

from dayclose.settings import Settings

RUN_SERVICE = (sys.executable, "-m", "dayclose", "run")
_PARTITION = re.compile(r"^(?P<topic>.+)\[(?P<partition>\d+)\]$")
_REBALANCE_EVENTS = ("kafka.partitions_assigned", "kafka.partitions_revoked", "kafka.partitions_lost")


def partitions_held(log_path: Path, topic: str) -> dict[object, set[int]]:
    """The partitions of ``topic`` each consumer process holds at the end of a `dayclose run` JSON log (INFO):
    assigned less revoked or lost, per the lines' ``consumer_process`` (None for a lone process)."""
    holding: dict[object, set[int]] = {}
    try:
        text = log_path.read_text(errors="replace")
    except OSError:
        return holding
    for line in text.splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if not isinstance(entry, dict) or entry.get("event") not in _REBALANCE_EVENTS:
            continue
        mine = holding.setdefault(entry.get("consumer_process"), set())
        for name in entry.get("partitions", []):
            match = _PARTITION.match(name)
            if match is not None and match["topic"] == topic:
                (mine.add if entry["event"] == "kafka.partitions_assigned" else mine.discard)(int(match["partition"]))
    return holding


def split_between(holdings: Sequence[Mapping[object, set[int]]], processes: int, partitions: int) -> bool:
    """Every one of ``partitions`` held by exactly one of ``processes`` consumer processes, each holding some."""
    sets = [s for held in holdings for s in held.values()]
    every = sorted(p for s in sets for p in s)
    return len(sets) == processes and all(sets) and every == list(range(partitions))


def service_env(settings: Settings, **extra: str) -> dict[str, str]:
    """Environment variables that make ``dayclose run`` load exactly ``settings`` (plus ``extra``):
    :func:`devstack.harness.settings_env` plus the BL client's tuning and the log level."""
    from devstack.harness import settings_env

    bl = settings.bl
    env = settings_env(settings)
    env.update(
        {
            "BL_TIMEOUT_SECONDS": str(bl.timeout_s),
            "BL_MAX_REQUESTS_PER_SECOND": str(bl.max_requests_per_second),
            "BL_MAX_REQUESTS_PER_SECOND_PER_COMPANY": str(bl.max_requests_per_second_per_company),
            "BL_MAX_RETRIES": str(bl.max_retries),
            "BL_AMBIGUOUS_QUIET_SECONDS": str(bl.ambiguous_quiet_s),
            "DAYCLOSE_LOG_LEVEL": settings.log_level.lower(),
        }
    )
    env.update(extra)
    return env


class ServiceProcess:
    """One child process running the service. Logs go to ``log_path`` (appended across restarts)."""

    def __init__(self, env: Mapping[str, str], log_path: Path, argv: Sequence[str] = RUN_SERVICE) -> None:
        self.env = dict(env)
        self.log_path = log_path
        self.argv = list(argv)
        self.process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None
        self.starts = 0
        self.kills = 0
        #: When the latest start happened (``time.monotonic()``) and where its log begins (byte offset).
        self.started_at = 0.0
        self.log_offset = 0

    def start(self) -> ServiceProcess:
        if self.alive:
            raise RuntimeError("service process already running")
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = self.log_path.open("ab")
        self.log_offset = self._log.tell()
        self.started_at = time.monotonic()
        # The child sees only a clean environment plus ours: an inherited DATABASE_URL or
        # KAFKA_BOOTSTRAP_SERVERS of the developer's shell must never leak in.
        base = {k: v for k, v in os.environ.items() if not k.startswith(("DAYCLOSE_", "BL_", "KAFKA_"))}
        base.pop("DATABASE_URL", None)
        self.process = subprocess.Popen(
            self.argv,
            env={**base, **self.env},
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        self.starts += 1
        return self

    @property
    def pid(self) -> int:
        if self.process is None:
            raise RuntimeError("the service process was never started")
        return self.process.pid

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def peak_rss_bytes(self) -> int | None:
        """The kernel's high-water mark of this process's resident memory, while it is alive."""
        if not self.alive:
            return None
        try:
            for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
        except OSError:
            return None
        return None

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs, no offsets are committed, no transaction finishes."""
        if self.process is not None and self.alive:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)
            self.kills += 1
        self._close_log()

    def stop(self, timeout: float = 30.0) -> int | None:
        """SIGTERM and wait; SIGKILL if it does not exit in time. Returns the exit code."""
        if self.process is None:
            return None
        if self.alive:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        self._close_log()
        return self.process.returncode

    def wait_exited(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while self.alive and time.monotonic() < deadline:
            time.sleep(0.05)
        return not self.alive

    def log_since_start(self) -> str:
        """What the latest start of the process has logged so far."""
        try:
            with self.log_path.open("rb") as f:
                f.seek(self.log_offset)
                return f.read().decode(errors="replace")
        except OSError:
            return ""

    def log_tail(self, lines: int = 40) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def _close_log(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None

    def __enter__(self) -> ServiceProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

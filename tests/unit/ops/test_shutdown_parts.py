"""The bounded-shutdown parts: steps that overrun are abandoned, the watchdog ends a stuck process, and the
service reports which steps were cut short. (The processes against real dependencies: tests/e2e/test_shutdown.py.)"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from structlog.testing import capture_logs

from dayclose.process import Service
from dayclose.settings import KafkaSettings, Settings
from dayclose.shutdown import EXIT_CUT_SHORT, Deadline, bounded
from exporters.bl.config import BLConfig


def test_a_step_that_returns_in_time_is_done_and_one_that_hangs_is_abandoned() -> None:
    release = threading.Event()
    assert bounded(lambda: None, 1.0, "quick") is True
    with capture_logs() as logs:
        assert bounded(release.wait, 0.05, "stuck") is False
        assert bounded(lambda: 1 / 0, 1.0, "failing") is True  # it ended; the error is logged, not raised
    release.set()
    assert [e["event"] for e in logs] == ["shutdown.step_cut_short", "shutdown.step_failed"]


def test_a_deadline_counts_down_and_keeps_reserves() -> None:
    deadline = Deadline(10.0)
    assert 9.0 < deadline.remaining() <= 10.0
    assert 4.0 < deadline.remaining(reserve=5.0) <= 5.0
    assert deadline.remaining(reserve=60.0) == 0.0


def test_the_watchdog_ends_a_process_whose_main_thread_is_stuck() -> None:
    code = (
        "import threading; from dayclose.shutdown import Watchdog; Watchdog(1.0, 'test').arm(); "
        "threading.Event().wait()"
    )  # stuck for good
    started = time.monotonic()
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30, check=False)
    assert result.returncode == EXIT_CUT_SHORT
    assert "shutdown.deadline_exceeded" in result.stdout + result.stderr
    assert time.monotonic() - started < 25


@dataclass
class _Part:
    finishes: bool
    calls: list[float] = field(default_factory=list)
    threads: int = 1

    def stop(self, timeout: float) -> bool:
        self.calls.append(timeout)
        return self.finishes

    def start(self) -> None: ...
    def wake(self) -> None: ...


@dataclass
class _Loop:
    consumers: list[Any] = field(default_factory=list)
    last_beat: float = 0.0

    def run(self, stop: threading.Event) -> None:
        stop.wait()

    def join(self, timeout: float) -> bool:
        return True


@dataclass
class _Pool:
    closed: bool = False

    def close(self, timeout: float = 5.0) -> None:
        self.closed = True


def service(workers: _Part, relay: _Part, pool: _Pool, seconds: float = 8.0) -> Service:
    settings = Settings(
        database_url="postgresql://unused/x",
        kafka=KafkaSettings("unused:9092"),
        bl=BLConfig("unused", "unused"),
        shutdown_timeout_s=seconds,
    )
    return Service(settings, pool, _Loop(), workers, relay, threading.Event())  # type: ignore[arg-type]


def test_the_service_gives_each_step_what_is_left_and_names_those_cut_short() -> None:
    workers, relay, pool = _Part(finishes=False), _Part(finishes=True), _Pool()
    svc = service(workers, relay, pool)
    svc.stop()
    assert svc.stop_event.is_set() and workers.calls == [0]  # no new job from the signal on
    with capture_logs() as logs:
        assert svc._shut_down() is False
    assert 0 < workers.calls[1] <= 8.0 * 0.7 and 0 < relay.calls[0] <= 8.0 * 0.85
    assert pool.closed
    (stopped,) = [e for e in logs if e["event"] == "service.stopped"]
    assert stopped["clean"] is False and stopped["cut_short"] == ["export-workers"]


def test_a_clean_shutdown_is_reported_clean() -> None:
    svc = service(_Part(finishes=True), _Part(finishes=True), _Pool())
    svc.stop()
    with capture_logs() as logs:
        assert svc._shut_down() is True
    assert [e["clean"] for e in logs if e["event"] == "service.stopped"] == [True]

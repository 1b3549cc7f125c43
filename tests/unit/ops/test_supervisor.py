"""A pod's consumer processes (DAYCLOSE_CONSUMER_PROCESSES) without starting any: each child's share of the pod's
budgets, the pod's one health answer and one scrape made of the children's. (The processes themselves:
tests/e2e/test_scale_out.py.)"""

from __future__ import annotations

import io
import signal
import socket
import subprocess
import sys
import threading
import time
from contextlib import redirect_stdout
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import CollectorRegistry, Counter, generate_latest
from structlog.testing import capture_logs

from dayclose.health import Checks
from dayclose.settings import ConfigError, KafkaSettings, Settings
from dayclose.supervisor import Child, ChildrenMetrics, Slot, child_settings, run_children
from exporters.bl.config import BLConfig

SETTINGS = Settings(
    database_url="postgresql://unused/x",
    kafka=KafkaSettings("unused:9092"),
    bl=replace(BLConfig("unused", "unused"), max_requests_per_second=8.0, max_requests_per_second_per_company=6.0),
    http_port=8080,
    export_workers=4,
    consumer_processes=3,
)


def test_a_child_takes_its_share_of_the_pod_s_bl_budgets_and_workers_and_a_port_of_its_own() -> None:
    """BL_MAX_REQUESTS_PER_SECOND(_PER_COMPANY) and DAYCLOSE_EXPORT_WORKERS stay what the pod spends in all."""
    children = [child_settings(SETTINGS, Slot(i, 3)) for i in range(3)]
    assert sum(c.bl.max_requests_per_second for c in children) == pytest.approx(8.0)
    assert sum(c.bl.max_requests_per_second_per_company for c in children) == pytest.approx(6.0)
    assert [c.export_workers for c in children] == [2, 2, 2]  # at least one each, rounded up
    assert [c.http_port for c in children] == [8081, 8082, 8083]
    assert {c.consumer_processes for c in children} == {1}  # a child never supervises


@pytest.mark.parametrize("text", ["3/3", "-1/2", "x/2", "1"])
def test_a_malformed_process_slot_is_refused(text: str) -> None:
    with pytest.raises(ValueError):
        Slot.parse(text)


class AnsweringChild(Child):
    def __init__(self, index: int, answers: dict[str, tuple[int, bytes]], exited: int | None = None) -> None:
        process: Any = type("P", (), {"poll": lambda _s: exited, "returncode": exited})()
        super().__init__(Slot(index, 2), 0, process)
        self.answers = answers

    def ask(self, path: str) -> tuple[int, bytes]:
        return self.answers.get(path, (0, b""))


def exposition(value: float) -> bytes:
    registry = CollectorRegistry()
    Counter("dayclose_events_consumed", "Events.", ["kind"], registry=registry).labels("receipt").inc(value)
    return generate_latest(registry)


def test_the_pod_s_scrape_is_every_child_s_metrics_with_its_process_label() -> None:
    children = [
        AnsweringChild(0, {"/metrics": (200, exposition(3))}),
        AnsweringChild(1, {"/metrics": (200, exposition(4))}),
    ]
    registry = CollectorRegistry()
    registry.register(ChildrenMetrics(children))
    for process, value in (("0", 3), ("1", 4)):
        labels = {"kind": "receipt", "consumer_process": process}
        assert registry.get_sample_value("dayclose_events_consumed_total", labels) == value
    assert generate_latest(registry).count(b"# TYPE dayclose_events_consumed_total counter") == 1


def test_the_pod_is_alive_and_ready_only_when_every_child_is() -> None:
    fine = AnsweringChild(0, {"/healthz": (200, b"{}"), "/readyz": (200, b"{}")})
    stuck = AnsweringChild(1, {"/healthz": (503, b"{}"), "/readyz": (200, b"{}")})
    gone = AnsweringChild(1, {}, exited=1)
    alive, report = Checks(alive={c.name: c.check("/healthz") for c in (fine, stuck)}).liveness()
    assert not alive and report["process-1"] == {"ok": False, "problem": "/healthz answered 503"}
    assert report["process-0"] == {"ok": True}
    ready, report = Checks(ready={c.name: c.check("/readyz") for c in (fine, gone)}).readiness()
    assert not ready and report["process-1"]["problem"] == "exited with 1"


def test_a_process_slot_reaches_the_child_through_the_command_line() -> None:
    from dayclose.cli import build_parser

    assert build_parser().parse_args(["run", "--process", "1/3"]).process == "1/3"
    assert build_parser().parse_args(["run"]).process is None
    with pytest.raises(SystemExit), redirect_stdout(io.StringIO()) as shown:
        build_parser().parse_args(["run", "--help"])
    assert "--process" not in shown.getvalue()  # the supervisor's business, not the operator's


#: A child standing in for `dayclose run --process i/n`: SIGTERM ends it with the status given by its index (0, 1, …),
#: unless told to ignore it, or to fail at start (as a start-up failure exits 69 or 78). Once its handler is in place
#: it creates a file named by its index in the directory it is given.
CHILD = """
import pathlib, signal, sys, time
index = int(sys.argv[-1].split("/")[0])
mode, ready = sys.argv[1], pathlib.Path(sys.argv[2])
if mode == "fail" and index == 1:
    sys.exit(78)
if mode == "deaf":
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
else:
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(index))
(ready / str(index)).touch()
time.sleep(120)
"""


def stop_once_ready(ready: Path, processes: int) -> threading.Event:
    """The pod's SIGTERM, once every child has its handler in place."""
    stopping = threading.Event()

    def watch() -> None:
        while len(list(ready.iterdir())) < processes:
            time.sleep(0.02)  # polling a directory
        stopping.set()

    threading.Thread(target=watch, daemon=True).start()
    return stopping


def pod(processes: int, deadline_s: float = 10.0) -> Settings:
    return replace(SETTINGS, http_port=0, consumer_processes=processes, shutdown_timeout_s=deadline_s)


def test_a_child_that_ends_on_its_own_ends_the_pod_with_its_status(tmp_path: Path) -> None:
    """A start-up failure (78: settings) or a crash of one process stops the others and restarts the pod."""

    with capture_logs() as logs:
        status = run_children(pod(2), [sys.executable, "-c", CHILD, "fail", str(tmp_path)], threading.Event())
    assert status == 78
    (ended,) = [e for e in logs if e["event"] == "supervisor.process_ended"]
    assert (ended["process"], ended["exit_code"]) == (1, 78)
    (stopped,) = [e for e in logs if e["event"] == "supervisor.stopped"]
    assert stopped["exit_codes"] == [0, 78]  # the other one was stopped, by SIGTERM


def test_stopping_passes_the_signal_to_every_child_and_exits_with_the_worst_status(tmp_path: Path) -> None:
    stopping = stop_once_ready(tmp_path, 2)
    assert run_children(pod(2), [sys.executable, "-c", CHILD, "polite", str(tmp_path)], stopping) == 1  # child 1's


def test_a_child_that_ignores_the_signal_is_killed_at_the_deadline(tmp_path: Path) -> None:
    stopping = stop_once_ready(tmp_path, 2)
    with capture_logs() as logs:
        assert run_children(pod(2, deadline_s=1.0), [sys.executable, "-c", CHILD, "deaf", str(tmp_path)], stopping) == 1
    assert sorted(e["process"] for e in logs if e["event"] == "supervisor.process_killed") == [0, 1]


def test_the_children_die_with_their_supervisor(tmp_path: Path) -> None:
    """PR_SET_PDEATHSIG: a supervisor killed (SIGKILL, OOM) leaves no consumer process behind."""

    supervisor = subprocess.Popen(  # noqa: S603 - our own test command
        [
            sys.executable,
            "-c",
            "import sys, time\n"
            "from dayclose.supervisor import start_children\n"
            "from tests.unit.ops.test_supervisor import CHILD, pod\n"
            f"children = start_children(pod(2), [sys.executable, '-c', CHILD, 'polite', {str(tmp_path)!r}])\n"
            "print(*[c.process.pid for c in children], flush=True)\n"
            "time.sleep(120)\n",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert supervisor.stdout is not None
    pids = [int(p) for p in supervisor.stdout.readline().split()]
    supervisor.send_signal(signal.SIGKILL)
    supervisor.wait(30)
    deadline = time.monotonic() + 30
    alive = pids
    while alive and time.monotonic() < deadline:
        alive = [pid for pid in pids if _running(pid)]
        time.sleep(0.05)  # polling the process table
    assert alive == []


def _running(pid: int) -> bool:

    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(")")[-1].split()[0] != "Z"  # a zombie has ended
    except OSError:
        return False


def test_a_supervisor_whose_port_is_taken_stops_the_children_it_started_and_names_the_setting(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("0.0.0.0", 0))  # noqa: S104 - the supervisor serves every interface
        taken.listen()
        settings = replace(pod(2), http_port=taken.getsockname()[1])
        with capture_logs() as logs, pytest.raises(ConfigError, match="DAYCLOSE_HTTP_PORT"):
            run_children(settings, [sys.executable, "-c", CHILD, "polite", str(tmp_path)], threading.Event())
    (stopped,) = [e for e in logs if e["event"] == "supervisor.stopped"]
    assert len(stopped["exit_codes"]) == 2  # both children were stopped and waited for: none left running

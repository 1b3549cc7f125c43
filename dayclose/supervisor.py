"""``dayclose run`` with ``DAYCLOSE_CONSUMER_PROCESSES`` above 1: several consumer processes in one pod, supervised by
the process the pod started, so that a pod uses its cores (one Python process ingests on one core at a time: the
GIL; issue #27).

Each child is a whole ``dayclose run`` (Kafka loops, export workers, outbox relay) and a member of the sales and the
commands consumer groups of its own, so each gets its share of both topics' partitions (:mod:`dayclose.loops`). What
the pod's settings say stays true of the pod: child *i* of *n* takes 1/*n* of the BL request budgets
(``BL_MAX_REQUESTS_PER_SECOND`` and ``…_PER_COMPANY``) and of ``DAYCLOSE_EXPORT_WORKERS`` (at least one), and serves
its health and metrics on 127.0.0.1, port ``DAYCLOSE_HTTP_PORT`` + 1 + *i*. The supervisor serves
``DAYCLOSE_HTTP_PORT``: ``/healthz`` and ``/readyz`` pass when every child's do, ``/metrics`` is every child's with a
``consumer_process`` label (its log lines carry the same field).

SIGTERM/SIGINT go to every child, which stops within ``DAYCLOSE_SHUTDOWN_TIMEOUT_SECONDS`` on its own (its own
deadline and watchdog); the supervisor waits for them, kills what is left at the deadline, and exits with the worst
status (0 clean, 1 cut short). A child that ends on its own (a crash; a start-up failure, 69 or 78) ends the pod: the
others are stopped and the supervisor exits with that status, so that Kubernetes restarts the pod and counts it. A
child dies with its supervisor (``PR_SET_PDEATHSIG``): nothing lingers when the supervisor is killed.
"""

from __future__ import annotations

import ctypes
import dataclasses
import math
import signal
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import structlog
from prometheus_client import CollectorRegistry
from prometheus_client.metrics_core import Metric
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.registry import Collector

from dayclose.health import Checks, HealthServer
from dayclose.settings import ConfigError, Settings
from dayclose.shutdown import Deadline

log = structlog.get_logger("dayclose.supervisor")
#: How long the supervisor waits for a child's health or metrics answer.
ASK_TIMEOUT_S = 2.0
_PR_SET_PDEATHSIG = 1


@dataclass(frozen=True)
class Slot:
    """Which of the pod's consumer processes this is: ``index`` of ``count``."""

    index: int
    count: int

    @classmethod
    def parse(cls, text: str) -> Slot:
        index, count = (int(part) for part in text.split("/", 1))
        if not 0 <= index < count:
            raise ValueError(f"not a process slot: {text!r}")
        return cls(index, count)


def child_settings(settings: Settings, slot: Slot) -> Settings:
    """The settings of child ``slot``: its port, and its share of the pod's BL budgets and export workers."""
    bl = settings.bl
    return dataclasses.replace(
        settings,
        http_port=child_port(settings, slot.index),
        export_workers=max(1, math.ceil(settings.export_workers / slot.count)),
        bl=dataclasses.replace(
            bl,
            max_requests_per_second=bl.max_requests_per_second / slot.count,
            max_requests_per_second_per_company=bl.max_requests_per_second_per_company / slot.count,
        ),
        consumer_processes=1,
    )


def child_port(settings: Settings, index: int) -> int:
    return settings.http_port + 1 + index


@dataclass
class Child:
    slot: Slot
    port: int
    process: subprocess.Popen[bytes]

    @property
    def name(self) -> str:
        return f"process-{self.slot.index}"

    def ask(self, path: str) -> tuple[int, bytes]:
        """GET ``path`` from the child's health server: (status, body); (0, b"") when it does not answer."""
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=ASK_TIMEOUT_S) as answer:  # noqa: S310 - our own child
                return int(answer.status), answer.read()
        except urllib.error.HTTPError as exc:
            return int(exc.code), exc.read()
        except OSError:
            return 0, b""

    def check(self, path: str) -> Callable[[], str | None]:
        def problem() -> str | None:
            if self.process.poll() is not None:
                return f"exited with {self.process.returncode}"
            status, _ = self.ask(path)
            return None if status == 200 else (f"{path} answered {status}" if status else f"{path} does not answer")

        return problem


def _die_with_parent() -> None:  # pragma: no cover - runs in the forked child
    """Linux: the child gets SIGKILL when the supervisor's thread that started it dies."""
    try:
        ctypes.CDLL(None).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        pass


def start_children(settings: Settings, argv: Sequence[str]) -> list[Child]:
    children = []
    for index in range(settings.consumer_processes):
        slot = Slot(index, settings.consumer_processes)
        process = subprocess.Popen(  # noqa: S603 - our own command line
            [*argv, "--process", f"{index}/{slot.count}"],
            stdin=subprocess.DEVNULL,
            preexec_fn=_die_with_parent,  # noqa: PLW1509 - started before the supervisor starts any thread
        )
        children.append(Child(slot, child_port(settings, index), process))
    return children


def supervise(settings: Settings, argv: Sequence[str] = (sys.executable, "-m", "dayclose", "run")) -> int:
    """Run the pod's consumer processes until SIGTERM/SIGINT or until one of them ends; returns the exit status."""
    stopping = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stopping.set())
    return run_children(settings, argv, stopping)


def run_children(settings: Settings, argv: Sequence[str], stopping: threading.Event) -> int:
    """Start the children, serve the pod's health and metrics, and stop them all when ``stopping`` is set or one of
    them ends on its own."""
    children = start_children(settings, argv)
    checks = Checks(
        alive={c.name: c.check("/healthz") for c in children}, ready={c.name: c.check("/readyz") for c in children}
    )
    registry = CollectorRegistry()
    registry.register(ChildrenMetrics(children))
    try:
        health = HealthServer(checks, settings.http_port, registry=registry).start()
    except ConfigError:  # its port is taken: stop the children it started, then say so (exit 78)
        stop_children(children, Deadline(settings.shutdown_timeout_s))
        raise
    log.info("supervisor.started", processes=len(children), pids=[c.process.pid for c in children])
    ended = _first_to_end(children, stopping)
    if ended is not None:
        log.error("supervisor.process_ended", process=ended.slot.index, exit_code=ended.process.returncode)
    statuses = stop_children(children, Deadline(settings.shutdown_timeout_s))
    health.stop()
    if ended is not None:
        return _status(ended.process.returncode) or 1
    return max(statuses, default=0)


def _first_to_end(children: Sequence[Child], stopping: threading.Event) -> Child | None:
    while not stopping.wait(0.5):
        for child in children:
            if child.process.poll() is not None:
                return child
    return None


def stop_children(children: Sequence[Child], deadline: Deadline) -> list[int]:
    """SIGTERM to every child still running; wait for each up to the deadline, then SIGKILL. Their statuses."""
    for child in children:
        if child.process.poll() is None:
            child.process.send_signal(signal.SIGTERM)
    for child in children:
        try:
            child.process.wait(timeout=deadline.remaining())
        except subprocess.TimeoutExpired:
            log.error("supervisor.process_killed", process=child.slot.index, hint="its own watchdog did not end it")
            child.process.kill()
            child.process.wait()
    statuses = [_status(child.process.returncode) for child in children]
    log.info("supervisor.stopped", exit_codes=statuses)
    return statuses


def _status(returncode: int) -> int:
    """A child's exit status; one ended by a signal counts as cut short (1)."""
    return returncode if returncode >= 0 else 1


class ChildrenMetrics(Collector):
    """Every child's ``/metrics``, each sample with a ``consumer_process`` label (the pod's one scrape)."""

    def __init__(self, children: Sequence[Child]) -> None:
        self.children = children

    def collect(self) -> Iterator[Metric]:
        merged: dict[str, Metric] = {}
        for child in self.children:
            status, body = child.ask("/metrics")
            if status != 200:
                continue
            for family in text_string_to_metric_families(body.decode()):
                into = merged.setdefault(family.name, Metric(family.name, family.documentation, family.type))
                for sample in family.samples:
                    labels = {**sample.labels, "consumer_process": str(child.slot.index)}
                    into.add_sample(sample.name, labels, sample.value, sample.timestamp)
        yield from merged.values()

"""A pod's consumer processes (DAYCLOSE_CONSUMER_PROCESSES) without starting any: each child's share of the pod's
budgets, the pod's one health answer and one scrape made of the children's. (The processes themselves:
tests/e2e/test_scale_out.py.)"""

from __future__ import annotations

import io
from contextlib import redirect_stdout
from dataclasses import replace
from typing import Any

import pytest
from prometheus_client import CollectorRegistry, Counter, generate_latest

from dayclose.config import KafkaSettings, Settings
from dayclose.health import Checks
from dayclose.supervisor import Child, ChildrenMetrics, Slot, child_settings
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

"""/healthz, /readyz and /metrics over real HTTP on a free port, with beats we control."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest

from dayclose import telemetry
from dayclose.health import Beat, Checks, HealthServer, consumer_checks, database_check
from dayclose.settings import ConfigError


@dataclass
class Clock:
    now: float = 1000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Part:
    last_beat: float = 1000.0


def get(server: HealthServer, path: str) -> tuple[int, str, bytes]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{server.port}{path}", timeout=5) as resp:  # noqa: S310
            return resp.status, resp.headers["Content-Type"], resp.read()
    except urllib.error.HTTPError as err:
        return err.code, err.headers["Content-Type"], err.read()


@pytest.fixture
def serve() -> Iterator[Any]:
    servers: list[HealthServer] = []

    def start(checks: Checks) -> HealthServer:
        server = HealthServer(checks, port=0, host="127.0.0.1", registry=telemetry.consumer_registry()).start()
        servers.append(server)
        return server

    yield start
    for s in servers:
        s.stop()


def test_healthz_is_200_while_every_part_beats_and_503_naming_the_stale_one(serve: Any) -> None:
    clock, loop, workers = Clock(), Part(), Part()
    beats = [Beat("loop", lambda: loop.last_beat, 60), Beat("workers", lambda: workers.last_beat, 600)]
    server = serve(Checks(beats=beats, clock=clock))
    status, ctype, body = get(server, "/healthz")
    assert (status, ctype) == (200, "application/json")
    assert json.loads(body)["status"] == "ok"

    clock.now += 61  # the loop has not turned for 61 s; workers may take 600 s
    status, _, body = get(server, "/healthz")
    report = json.loads(body)
    assert status == 503 and report["status"] == "fail"
    assert report["checks"]["loop"] == {"beat_age_s": 61.0, "ok": False}
    assert report["checks"]["workers"]["ok"] is True

    loop.last_beat = clock.now  # it turned again
    assert get(server, "/healthz")[0] == 200


def test_readyz_is_503_while_the_database_does_not_answer(serve: Any) -> None:
    up = threading.Event()

    @contextmanager
    def connect() -> Iterator[Any]:
        if not up.is_set():
            raise OSError("connection refused")

        class Conn:
            def execute(self, _sql: str) -> None:
                return None

        yield Conn()

    server = serve(Checks(ready={"database": database_check(connect)}))
    status, _, body = get(server, "/readyz")
    assert status == 503
    assert json.loads(body)["checks"]["database"] == {"ok": False, "problem": "OSError"}
    up.set()
    assert get(server, "/readyz")[0] == 200


def test_metrics_are_served_in_the_prometheus_text_format(serve: Any) -> None:
    telemetry.export_finished("booked")
    server = serve(Checks())
    status, ctype, body = get(server, "/metrics")
    assert status == 200 and ctype.startswith("text/plain")
    assert b'dayclose_exports_total{outcome="booked",reason_code=""}' in body
    assert get(server, "/nope")[0] == 404


@dataclass
class FakeService:
    """The attributes of dayclose.bootstrap.Service the checks read."""

    loop: Part = field(default_factory=Part)
    workers: Part = field(default_factory=Part)
    relay: Part = field(default_factory=Part)
    pool: Any = None


def test_consumer_checks_need_a_beat_after_start_and_a_database(serve: Any) -> None:
    class Pool:
        def connection(self, timeout: float) -> Any:
            @contextmanager
            def conn() -> Iterator[Any]:
                class C:
                    def execute(self, _sql: str) -> None:
                        return None

                yield C()

            return conn()

    import time

    service = FakeService(pool=Pool())
    service.loop.last_beat = service.workers.last_beat = service.relay.last_beat = time.monotonic()
    server = serve(consumer_checks(service, loop_stale_after_s=5))
    status, _, body = get(server, "/readyz")
    assert status == 503 and json.loads(body)["checks"]["consumer"]["problem"] == "consumer loop not started"

    service.loop.last_beat = time.monotonic() + 0.001  # run() turned once
    assert get(server, "/readyz")[0] == 200
    assert get(server, "/healthz")[0] == 200

    service.relay.last_beat -= 10_000  # the relay thread is wedged
    status, _, body = get(server, "/healthz")
    assert status == 503 and json.loads(body)["checks"]["relay"]["ok"] is False


def test_api_helpers_give_readiness_and_a_scrape_body_for_any_framework() -> None:
    from dayclose.health import api_checks

    @contextmanager
    def down() -> Iterator[Any]:
        raise OSError("no database")
        yield

    checks = api_checks(down)
    assert checks.liveness() == (True, {})
    ok, report = checks.readiness()
    assert ok is False and report["database"]["problem"] == "OSError"

    telemetry.export_finished("booked")
    body, content_type = telemetry.exposition("text/plain", telemetry.consumer_registry())
    assert content_type.startswith("text/plain") and b"dayclose_exports_total" in body


def test_a_port_in_use_is_a_setting_to_fix_named_in_one_line_not_a_traceback() -> None:
    """A pod's consumer process whose port (DAYCLOSE_HTTP_PORT + 1 + i) is taken exits 78 with the setting named
    (found when a benchmark's child met a port taken by another process)."""
    taken = HealthServer(Checks(alive={}, ready={}), 0, "127.0.0.1").start()
    try:
        with pytest.raises(ConfigError) as refused:
            HealthServer(Checks(alive={}, ready={}), taken.port, "127.0.0.1")
    finally:
        taken.stop()
    (problem,) = refused.value.problems
    assert problem.startswith("DAYCLOSE_HTTP_PORT: ") and f"127.0.0.1:{taken.port}" in problem

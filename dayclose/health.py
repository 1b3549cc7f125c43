"""Liveness, readiness and ``/metrics`` over HTTP, for the consumer process (and helpers for the API).

Liveness (``/healthz``) asks "is anything stuck?": the Kafka loop, the export workers and the
outbox relay each stamp ``last_beat`` (``time.monotonic()``) on every turn of their loop; a beat
older than its threshold means that thread is wedged and a restart is the cure. Thresholds sit
above the longest legitimate turn (a worker's BL call with all its retries; the relay's 30 s
flush; the loop's ``max.poll.interval.ms`` of 300 s), so a slow BL never restarts the pod.

Readiness (``/readyz``) asks "can this process do its job now?": PostgreSQL answers ``SELECT 1``
and the Kafka loop has started. Having no partition assigned is *not* unready — a replica beyond
the partition count is idle but healthy, and must not block a rolling update.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from prometheus_client import CollectorRegistry

from dayclose.logs import get_logger
from dayclose.process import Service
from dayclose.settings import ConfigError
from dayclose.telemetry import exposition

log = get_logger("dayclose.health")

#: Defaults, in seconds, for how old a component's beat may be before liveness fails.
LOOP_STALE_AFTER_S = 300.0
WORKERS_STALE_AFTER_S = 900.0
RELAY_STALE_AFTER_S = 300.0


@dataclass(frozen=True)
class Beat:
    """A component that stamps ``last_beat`` on every loop turn, and how stale it may get."""

    name: str
    last_beat: Callable[[], float]
    stale_after_s: float


@dataclass
class Checks:
    """What ``/healthz`` and ``/readyz`` evaluate. Readiness checks return None when fine, else a reason."""

    beats: list[Beat] = field(default_factory=list)
    ready: dict[str, Callable[[], str | None]] = field(default_factory=dict)
    #: Liveness checks besides the beats (the supervisor's: each consumer process is alive); None when fine.
    alive: dict[str, Callable[[], str | None]] = field(default_factory=dict)
    clock: Callable[[], float] = time.monotonic

    def liveness(self) -> tuple[bool, dict[str, Any]]:
        now = self.clock()
        report: dict[str, Any] = {}
        ok = True
        for beat in self.beats:
            age = max(0.0, now - beat.last_beat())
            stale = age > beat.stale_after_s
            ok = ok and not stale
            report[beat.name] = {"beat_age_s": round(age, 1), "ok": not stale}
        checked_ok, checked = _run_checks(self.alive)
        return ok and checked_ok, report | checked

    def readiness(self) -> tuple[bool, dict[str, Any]]:
        return _run_checks(self.ready)


def _run_checks(checks: Mapping[str, Callable[[], str | None]]) -> tuple[bool, dict[str, Any]]:
    report: dict[str, Any] = {}
    ok = True
    for name, check in checks.items():
        try:
            problem = check()
        except Exception as exc:  # noqa: BLE001 - any failure of a check means not ready
            problem = f"{type(exc).__name__}"
        ok = ok and problem is None
        report[name] = {"ok": problem is None, **({"problem": problem} if problem else {})}
    return ok, report


def database_check(connect: Callable[[], AbstractContextManager[Any]]) -> Callable[[], str | None]:
    """A readiness check: ``SELECT 1`` through ``connect`` (e.g. ``lambda: pool.connection(timeout=2)``)."""

    def check() -> str | None:
        with connect() as conn:
            conn.execute("SELECT 1")
        return None

    return check


def api_checks(connect: Callable[[], AbstractContextManager[Any]]) -> Checks:
    """For the API process: alive while it answers at all; ready while PostgreSQL answers."""
    return Checks(ready={"database": database_check(connect)})


def consumer_checks(
    service: Service,
    *,
    loop_stale_after_s: float = LOOP_STALE_AFTER_S,
    workers_stale_after_s: float = WORKERS_STALE_AFTER_S,
    relay_stale_after_s: float = RELAY_STALE_AFTER_S,
) -> Checks:
    """Checks for a :class:`dayclose.process.Service`: its three beating parts and its database.

    Call it after ``build_service`` and before ``service.run()``: the loop counts as started once it
    beats after this call, i.e. once ``run()`` has subscribed and turned at least once.
    """
    created = time.monotonic()

    def loop_started() -> str | None:
        return None if service.loop.last_beat > created else "consumer loop not started"

    return Checks(
        beats=[
            Beat("loop", lambda: service.loop.last_beat, loop_stale_after_s),
            Beat("workers", lambda: service.workers.last_beat, workers_stale_after_s),
            Beat("relay", lambda: service.relay.last_beat, relay_stale_after_s),
        ],
        ready={
            "database": database_check(lambda: service.pool.connection(timeout=2.0)),
            "consumer": loop_started,
        },
    )


def _handler(checks: Checks, registry: CollectorRegistry) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            path = self.path.split("?", 1)[0]
            if path == "/metrics":
                body, content_type = exposition(self.headers.get("Accept", ""), registry)
                self._send(200, content_type, body)
            elif path in ("/healthz", "/livez"):
                self._json(*checks.liveness())
            elif path == "/readyz":
                self._json(*checks.readiness())
            else:
                self._send(404, "text/plain; charset=utf-8", b"not found\n")

        def _json(self, ok: bool, report: Mapping[str, Any]) -> None:
            body = json.dumps({"status": "ok" if ok else "fail", "checks": report}).encode()
            self._send(200 if ok else 503, "application/json", body)

        def _send(self, status: int, content_type: str, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - probes every few seconds
            pass

    return Handler


class HealthServer:
    """``/metrics``, ``/healthz`` and ``/readyz`` on a daemon thread. Port 0 picks a free port (tests)."""

    def __init__(
        self,
        checks: Checks,
        port: int,
        host: str = "0.0.0.0",  # noqa: S104 - probed by the kubelet
        registry: CollectorRegistry | None = None,
    ) -> None:
        registry = registry if registry is not None else CollectorRegistry()
        try:
            self._server = ThreadingHTTPServer((host, port), _handler(checks, registry))
        except OSError as exc:  # one line naming the setting, not a traceback (the pod's children: port + 1 + i)
            raise ConfigError(
                f"DAYCLOSE_HTTP_PORT: cannot serve health and metrics on {host}:{port}: {exc.strerror or exc}"
                " (with DAYCLOSE_CONSUMER_PROCESSES=n the ports after it are used too, one per process)"
            ) from None
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="health-http", daemon=True)

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def start(self) -> HealthServer:
        self._thread.start()
        log.info("health.listening", port=self.port)
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5.0)

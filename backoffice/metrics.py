"""Prometheus metrics of the BackOffice API: requests by route template, BL's callbacks, refused bodies.

Created unregistered; ``dayclose api`` registers :data:`COLLECTORS` in its own registry
(:func:`dayclose.telemetry.api_registry`), so the consumer process never exposes them. :class:`RequestMetrics`
counts every request and its latency by method, route *template* and status: a request refused before routing
(401, 403, 413) is counted on the route it was aimed at, and a path no route matches as ``unmatched``, so label
values stay a bounded set (raw paths would carry organization ids and BL's keys).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable

from prometheus_client import Counter, Histogram
from prometheus_client.registry import Collector
from starlette.routing import compile_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

BL_CALLBACKS = Counter(
    "dayclose_bl_callbacks_total",
    "BL activation callbacks by direction (ON, OFF) and result (deactivated, reactivated, unchanged, not_found, "
    "state_differs, unconfirmed: BL could not confirm, nothing changed).",
    ["direction", "result"],
    registry=None,
)
API_BODIES_TOO_LARGE = Counter(
    "dayclose_api_bodies_too_large_total",
    "API requests refused with 413 because their body exceeded the limit.",
    registry=None,
)
API_REQUESTS = Counter(
    "dayclose_api_requests_total",
    "API requests answered, by method, route template and HTTP status.",
    ["method", "route", "status"],
    registry=None,
)
API_REQUEST_SECONDS = Histogram(
    "dayclose_api_request_duration_seconds",
    "Time from a request's arrival until its response was sent, by method and route template.",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25),
    registry=None,
)

COLLECTORS: tuple[Collector, ...] = (BL_CALLBACKS, API_BODIES_TOO_LARGE, API_REQUESTS, API_REQUEST_SECONDS)

#: Probes and scrapes are not counted: they would drown the requests that matter.
NOT_COUNTED = frozenset({"/healthz", "/readyz", "/livez", "/metrics"})
UNMATCHED = "unmatched"
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def bl_callback(direction: str, result: str) -> None:
    BL_CALLBACKS.labels(direction, result).inc()


def api_body_too_large() -> None:
    API_BODIES_TOO_LARGE.inc()


class RouteTemplates:
    """Path templates (``/v1/organizations/{organization_id}/…``) and the paths each matches, compiled the way
    Starlette compiles routes; read from ``templates`` (e.g. the app's OpenAPI paths) on first use."""

    def __init__(self, templates: Callable[[], Iterable[str]]) -> None:
        self._templates = templates
        self._compiled: list[tuple[re.Pattern[str], str]] | None = None

    def template(self, scope: Scope) -> str:
        """The template of the route that served (or would have served) the request; ``unmatched`` when none.
        A routed request names its route; one refused before routing (401, 403, 413) is matched here."""
        path = getattr(scope.get("route"), "path", None)
        if isinstance(path, str):
            return path
        if self._compiled is None:
            self._compiled = [(compile_path(t)[0], t) for t in sorted(set(self._templates()))]
        requested = scope.get("path", "")
        return next((t for pattern, t in self._compiled if pattern.match(requested)), UNMATCHED)


class RequestMetrics:
    """Pure ASGI middleware, outermost: counts each HTTP request once its response has started, whatever
    answered it (a route, the body limit, authorization, an error handler). ``templates`` lists the app's path
    templates, for requests answered before routing."""

    def __init__(self, app: ASGIApp, templates: Callable[[], Iterable[str]]) -> None:
        self.app = app
        self.routes = RouteTemplates(templates)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # what the server sends when the app raises before answering

        async def recording_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, recording_send)
        finally:
            route = self.routes.template(scope)
            if route not in NOT_COUNTED:
                method = scope.get("method", "")
                method = method if method in _METHODS else "other"
                API_REQUESTS.labels(method, route, str(status)).inc()
                API_REQUEST_SECONDS.labels(method, route).observe(time.perf_counter() - started)

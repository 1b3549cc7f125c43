"""Prometheus metrics of the BL client: response latency by operation and status, and retries by cause.

Created unregistered; both processes call BL (exports in ``dayclose run``, key checks in ``dayclose api``), so
both register :data:`COLLECTORS` (:mod:`dayclose.telemetry`). Labels are bounded sets, never ids.
"""

from __future__ import annotations

from prometheus_client import Counter, Histogram
from prometheus_client.registry import Collector

BL_REQUEST_SECONDS = Histogram(
    "dayclose_bl_request_duration_seconds",
    "BL HTTP responses by operation and status code: time until the response headers arrived.",
    ["operation", "status"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30),
    registry=None,
)
BL_RETRIES = Counter(
    "dayclose_bl_retries_total",
    "BL requests retried after a transient failure, by operation and cause (timeout, connection, http_429, "
    "http_5xx, other).",
    ["operation", "cause"],
    registry=None,
)

COLLECTORS: tuple[Collector, ...] = (BL_REQUEST_SECONDS, BL_RETRIES)


def bl_response(operation: str, status: int, seconds: float) -> None:
    BL_REQUEST_SECONDS.labels(operation, str(status)).observe(seconds)


def bl_retry(operation: str, failure: BaseException | None) -> None:
    BL_RETRIES.labels(operation, _retry_cause(failure)).inc()


def _retry_cause(failure: BaseException | None) -> str:
    status = getattr(failure, "status", None)
    if status == 429:
        return "http_429"
    if isinstance(status, int) and status >= 500:
        return "http_5xx"
    text = str(getattr(failure, "description", failure) or "").lower()
    if "timeout" in text:
        return "timeout"
    if "connection" in text:
        return "connection"
    return "other"

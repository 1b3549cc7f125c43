"""Prometheus registries, one per process, and what only the consumer process reads at scrape time.

Each adapter defines its own metrics, unregistered (:mod:`consumer.metrics`, :mod:`exporters.bl.metrics`,
:mod:`backoffice.metrics`); each process registers what it runs, so ``dayclose api`` never exposes the consumer's
counters as zeros and ``dayclose run`` never exposes the API's:

* ``dayclose run`` (:func:`consumer_registry`): ingest, relay, consumer lag, BL client, export outcomes, and the
  database's backlog and outbox, read when Prometheus scrapes;
* ``dayclose api`` (:func:`api_registry`): requests by route, BL's callbacks, refused bodies, BL client.

Both carry ``dayclose_build_info`` and the client library's process and Python collectors.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from importlib import metadata

import structlog
from prometheus_client import CollectorRegistry, Counter, Gauge
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import choose_encoder
from prometheus_client.gc_collector import GCCollector
from prometheus_client.platform_collector import PlatformCollector
from prometheus_client.process_collector import ProcessCollector
from prometheus_client.registry import Collector

from consumer import metrics as consumer_metrics
from exporters.bl import metrics as bl_metrics
from service.reasons import reason
from storage.backlog import Backlog

log = structlog.get_logger("dayclose.metrics")

EXPORTS = Counter(
    "dayclose_exports_total",
    "Export attempts by outcome (booked, found_existing, nothing_to_book, failed, transient) and reason code "
    "('' when booked).",
    ["outcome", "reason_code"],
    registry=None,
)
#: The image's source revision, baked in at build time (Dockerfile ``--build-arg REVISION=…``); not a setting.
REVISION_ENV = "DAYCLOSE_BUILD_REVISION"
#: Cumulative age thresholds of ``dayclose_day_closes_overdue``: (label, seconds).
OVERDUE_AGES = (("15m", 900), ("1h", 3600), ("6h", 21600), ("24h", 86400))


def version() -> str:
    """The installed package's version (``dayclose --version``, ``dayclose_build_info``)."""
    try:
        return metadata.version("dayclose")
    except metadata.PackageNotFoundError:
        return "unknown"


def export_finished(outcome: str, reason_code: str | None = None) -> None:
    """The export workers' :data:`service.deps.ExportObserver`."""
    EXPORTS.labels(outcome, reason_code or "").inc()


def _registry(process: str) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=True)
    ProcessCollector(registry=registry)
    PlatformCollector(registry=registry)
    GCCollector(registry=registry)
    build = Gauge(
        "dayclose_build_info",
        "Always 1: the running build's version and source revision, and which process this is (run, api).",
        ["version", "revision", "process"],
        registry=registry,
    )
    build.labels(version(), os.environ.get(REVISION_ENV) or "unknown", process).set(1)
    return registry


def consumer_registry(
    lag: Collector | None = None,
    outbox_depth: Callable[[], tuple[int, float]] | None = None,
    backlog: Callable[[], Backlog] | None = None,
) -> CollectorRegistry:
    """``dayclose run``'s registry; the scrape-time parts are given by the process (:mod:`dayclose.run`)."""
    registry = _registry("run")
    for collector in (*consumer_metrics.COLLECTORS, *bl_metrics.COLLECTORS, EXPORTS):
        registry.register(collector)
    if lag is not None:
        registry.register(lag)
    if outbox_depth is not None:
        registry.register(OutboxCollector(outbox_depth))
    if backlog is not None:
        registry.register(BacklogCollector(backlog))
    return registry


def api_registry() -> CollectorRegistry:
    """``dayclose api``'s registry."""
    from backoffice import metrics as api_metrics  # here: the consumer process never loads the API (starlette)

    registry = _registry("api")
    for collector in (*api_metrics.COLLECTORS, *bl_metrics.COLLECTORS):
        registry.register(collector)
    return registry


def exposition(accept: str, registry: CollectorRegistry) -> tuple[bytes, str]:
    """(body, content type) of a scrape, in the format the scraper asks for."""
    encoder, content_type = choose_encoder(accept)
    return encoder(registry), content_type


# --- read at scrape time --------------------------------------------------------------------------


class OutboxCollector(Collector):
    """Outbox depth and the age of its oldest unsent row, queried when Prometheus scrapes.

    ``depth`` returns (unsent rows, age of the oldest in seconds), e.g. through a unit of work
    (:meth:`storage.outbox.PostgresOutbox.depth`). A failing query is reported as
    ``dayclose_outbox_query_up 0`` instead of failing the whole scrape.
    """

    def __init__(self, depth: Callable[[], tuple[int, float]]) -> None:
        self._depth = depth

    def describe(self) -> Iterable[GaugeMetricFamily]:
        return []  # no query at registration time

    def collect(self) -> Iterator[GaugeMetricFamily]:
        up = GaugeMetricFamily("dayclose_outbox_query_up", "1 when the outbox depth query succeeded at this scrape.")
        try:
            rows, age = self._depth()
        except Exception as exc:  # noqa: BLE001 - a scrape must not fail because the database is down
            log.warning("metrics.outbox_query_failed", error=type(exc).__name__)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield GaugeMetricFamily("dayclose_outbox_depth", "Outbox rows not yet published to Kafka.", value=rows)
        yield GaugeMetricFamily(
            "dayclose_outbox_oldest_age_seconds", "Age of the oldest unpublished outbox row (0 when empty).", value=age
        )


class BacklogCollector(Collector):
    """The export backlog (:func:`storage.backlog.read_backlog`), queried when Prometheus scrapes.

    ``dayclose_day_closes_overdue`` counts closed store-days not booked whose day close arrived more than
    ``older_than`` ago (cumulative), split by who must act: ``merchant`` when the store-day's latest export was
    refused for a reason the merchant fixes (the banner tells them; :mod:`service.reasons`), ``dayclose`` otherwise
    (queued, exporting, backing off while BL is down, refused for a fault of ours, waiting for late sales). Every
    pod reads the same database: aggregate with ``max``, not ``sum``.
    """

    def __init__(self, read: Callable[[], Backlog]) -> None:
        self._read = read

    def describe(self) -> Iterable[GaugeMetricFamily]:
        return []

    def collect(self) -> Iterator[GaugeMetricFamily]:
        up = GaugeMetricFamily("dayclose_backlog_query_up", "1 when the backlog queries succeeded at this scrape.")
        try:
            backlog = self._read()
        except Exception as exc:  # noqa: BLE001 - a scrape must not fail because the database is down
            log.warning("metrics.backlog_query_failed", error=type(exc).__name__)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield from _backlog_families(backlog)


def _backlog_families(backlog: Backlog) -> Iterator[GaugeMetricFamily]:
    overdue = GaugeMetricFamily(
        "dayclose_day_closes_overdue",
        "Closed store-days not booked whose day close arrived more than older_than ago, by who must act "
        "(merchant: a refusal the merchant fixes; dayclose: everything else).",
        labels=["older_than", "waiting_on"],
    )
    for label, seconds in OVERDUE_AGES:
        for waiting_on in ("merchant", "dayclose"):
            count = sum(1 for code, age in backlog.overdue if age > seconds and _waiting_on(code) == waiting_on)
            overdue.add_metric([label, waiting_on], count)
    yield overdue
    jobs = GaugeMetricFamily(
        "dayclose_export_jobs",
        "Export jobs queued: due (a worker may take them now) or waiting (backing off, or a manual export's grace).",
        labels=["state"],
    )
    jobs.add_metric(["due"], backlog.jobs_due)
    jobs.add_metric(["waiting"], backlog.jobs_waiting)
    yield jobs
    yield GaugeMetricFamily(
        "dayclose_export_jobs_oldest_age_seconds",
        "Seconds since the oldest export job still queued was queued (0 when none).",
        value=backlog.oldest_job_age_s,
    )
    not_booked = GaugeMetricFamily(
        "dayclose_exports_not_booked",
        "Exports not booked, by status: posting (being exported, or retried after a transient failure) and "
        "failed (refused, kept until fixed).",
        labels=["status"],
    )
    for status in ("posting", "failed"):
        not_booked.add_metric([status], backlog.not_booked.get(status, 0))
    yield not_booked


def _waiting_on(code: str | None) -> str:
    return "merchant" if code is not None and reason(code).merchant_action_required else "dayclose"

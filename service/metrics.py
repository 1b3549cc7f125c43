"""Prometheus metrics: the few numbers an operator needs at night, and one small call per pipeline step.

The pipeline calls the functions below (``batch_ingested``, ``export_finished``, ``bl_response``, …);
nothing else in the code base touches ``prometheus_client``. Label values are bounded sets (event
kinds, reason codes, BL operations, HTTP status codes), never ids, so series stay few.

Two things are read at scrape time rather than counted: the outbox depth/age (a query against
PostgreSQL, :class:`OutboxCollector`) and the consumer lag per partition (the latest librdkafka
statistics, fed by :func:`kafka_stats` as the consumer's ``stats_cb``).
"""

from __future__ import annotations

import json
import threading
from collections import Counter as Tally
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import structlog
from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram, make_asgi_app
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import choose_encoder
from prometheus_client.registry import Collector

from service.messages import Command, SalesEnvelope

log = structlog.get_logger("dayclose.metrics")

# --- ingest -------------------------------------------------------------------------------------

EVENTS_CONSUMED = Counter(
    "dayclose_events_consumed_total",
    "Kafka messages ingested, by event type (receipt, cash_movement, gift_card_expired, day_closed, "
    "manual_export_requested, retry_failed_exports, poison).",
    ["type"],
)
EVENTS_DUPLICATE = Counter(
    "dayclose_events_duplicate_total", "Sales events already stored (redelivery or a POS re-send): ignored."
)
INGEST_BATCH_SIZE = Histogram(
    "dayclose_ingest_batch_size",
    "Messages per ingested batch (one database transaction).",
    buckets=(1, 5, 10, 25, 50, 100, 250, 500, 1000),
)
DEAD_LETTERS = Counter(
    "dayclose_dead_letters_total", "Messages sent to the dead-letter topic, by error code.", ["error_code"]
)
LEGACY_FINGERPRINTS = Counter(
    "dayclose_legacy_fingerprint_messages_total",
    "Single-object encoded messages read whose schema fingerprint had the byte order of older dayclose "
    "versions (reversed); read anyway. Non-zero only while such messages remain in a topic.",
    ["schema"],
)

# --- exports ------------------------------------------------------------------------------------

EXPORTS = Counter(
    "dayclose_exports_total",
    "Export attempts by outcome (booked, found_existing, nothing_to_book, failed, transient) and reason code "
    "('' when booked).",
    ["outcome", "reason_code"],
)
BL_REQUEST_SECONDS = Histogram(
    "dayclose_bl_request_duration_seconds",
    "BL HTTP responses by operation and status code: time until the response headers arrived.",
    ["operation", "status"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30),
)
BL_RETRIES = Counter(
    "dayclose_bl_retries_total",
    "BL requests retried after a transient failure, by operation and cause (timeout, connection, http_429, "
    "http_5xx, other).",
    ["operation", "cause"],
)

# --- outbox relay -------------------------------------------------------------------------------

RELAY_PUBLISHED = Counter("dayclose_relay_published_total", "Outbox rows delivered to Kafka and marked sent.")
RELAY_FAILURES = Counter(
    "dayclose_relay_failures_total", "Outbox rows whose delivery failed or timed out (they are resent)."
)


# --- the BackOffice API ----------------------------------------------------------------------------

BL_CALLBACKS = Counter(
    "dayclose_bl_callbacks_total",
    "BL activation callbacks by direction (ON, OFF) and result (deactivated, reactivated, unchanged, not_found, "
    "state_differs, unconfirmed: BL could not confirm, nothing changed).",
    ["direction", "result"],
)
API_BODIES_TOO_LARGE = Counter(
    "dayclose_api_bodies_too_large_total", "API requests refused with 413 because their body exceeded the limit."
)


# --- functions the pipeline calls ----------------------------------------------------------------


def batch_ingested(
    sales: Iterable[SalesEnvelope],
    commands: Iterable[Command],
    poison_codes: Iterable[str],
    duplicates: int,
    conflicts: int,
) -> None:
    """After a batch is committed: what it held, the error codes of its poison, and the counts."""
    size = 0
    for kind, n in Tally(envelope.kind for envelope in sales).items():  # one increment per kind, not per event
        EVENTS_CONSUMED.labels(kind).inc(n)
        size += n
    for command in commands:
        EVENTS_CONSUMED.labels(_snake(type(command).__name__)).inc()
        size += 1
    for code in poison_codes:
        EVENTS_CONSUMED.labels("poison").inc()
        DEAD_LETTERS.labels(code).inc()
        size += 1
    INGEST_BATCH_SIZE.observe(size)
    if duplicates:
        EVENTS_DUPLICATE.inc(duplicates)
    if conflicts:  # dead-lettered too, though they decoded: an id seen again with other content
        DEAD_LETTERS.labels("RECEIPT_CONFLICT").inc(conflicts)


def legacy_fingerprint_read(schema: str) -> None:
    LEGACY_FINGERPRINTS.labels(schema).inc()


def export_finished(outcome: str, reason_code: str | None = None) -> None:
    """One export attempt ended. ``outcome``: booked, found_existing, nothing_to_book, failed, transient."""
    EXPORTS.labels(outcome, reason_code or "").inc()


def bl_response(operation: str, status: int, seconds: float) -> None:
    BL_REQUEST_SECONDS.labels(operation, str(status)).observe(seconds)


def bl_retry(operation: str, failure: BaseException | None) -> None:
    BL_RETRIES.labels(operation, _retry_cause(failure)).inc()


def relay_published(delivered: int, failed: int) -> None:
    if delivered:
        RELAY_PUBLISHED.inc(delivered)
    if failed:
        RELAY_FAILURES.inc(failed)


def bl_callback(direction: str, result: str) -> None:
    BL_CALLBACKS.labels(direction, result).inc()


def api_body_too_large() -> None:
    API_BODIES_TOO_LARGE.inc()


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


def _snake(name: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name).lstrip("_")


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


class ConsumerLagCollector(Collector):
    """Consumer lag per assigned partition, from the latest librdkafka statistics (``stats_cb``).

    Lag is the partition's high watermark minus the group's committed offset. Partitions no longer
    assigned disappear with the next statistics report, so a rebalance leaves no stale series.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._lag: dict[tuple[str, str], int] = {}
        self._seen = False

    def update(self, stats_json: str) -> None:
        try:
            stats = json.loads(stats_json)
        except ValueError:
            return
        lag: dict[tuple[str, str], int] = {}
        for topic, tdata in (stats.get("topics") or {}).items():
            for partition, pdata in (tdata.get("partitions") or {}).items():
                if partition == "-1" or pdata.get("fetch_state") in (None, "none", "stopped"):
                    continue  # the internal unassigned partition, or one we do not fetch
                value = pdata.get("consumer_lag", -1)
                if isinstance(value, int) and value >= 0:
                    lag[(topic, partition)] = value
        with self._lock:
            self._lag = lag
            self._seen = True

    def describe(self) -> Iterable[GaugeMetricFamily]:
        return []

    def collect(self) -> Iterator[GaugeMetricFamily]:
        with self._lock:
            lag, seen = dict(self._lag), self._seen
        if not seen:
            return
        family = GaugeMetricFamily(
            "dayclose_consumer_lag",
            "Messages behind the partition's high watermark (committed offset).",
            labels=["topic", "partition"],
        )
        for (topic, partition), value in sorted(lag.items()):
            family.add_metric([topic, partition], value)
        yield family
        yield GaugeMetricFamily(
            "dayclose_consumer_assigned_partitions", "Partitions this consumer is fetching.", value=len(lag)
        )


CONSUMER_LAG = ConsumerLagCollector()
REGISTRY.register(CONSUMER_LAG)


def kafka_stats(stats_json: str) -> None:
    """confluent-kafka ``stats_cb``: set with ``statistics.interval.ms`` in the consumer config."""
    CONSUMER_LAG.update(stats_json)


def register_outbox_collector(
    depth: Callable[[], tuple[int, float]], registry: CollectorRegistry = REGISTRY
) -> OutboxCollector:
    """Register the scrape-time outbox query once per process; returns it so it can be unregistered."""
    collector = OutboxCollector(depth)
    registry.register(collector)
    return collector


def metrics_asgi_app(registry: CollectorRegistry = REGISTRY) -> Any:
    """An ASGI app serving ``/metrics`` for the API process: ``app.mount("/metrics", metrics_asgi_app())``."""
    return make_asgi_app(registry=registry)


def exposition(accept: str = "", registry: CollectorRegistry = REGISTRY) -> tuple[bytes, str]:
    """(body, content type) of a scrape, for a plain ``GET /metrics`` route in any web framework."""
    encoder, content_type = choose_encoder(accept)
    return encoder(registry), content_type

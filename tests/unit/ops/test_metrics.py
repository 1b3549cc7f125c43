"""The metric hooks move the right series; scrape-time collectors report what they read."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
from prometheus_client import REGISTRY, CollectorRegistry, generate_latest

from exporters.bl.errors import RetryableFailure
from service import metrics
from service.messages import ManualExportRequested, SalesEnvelope
from storage.outbox import PostgresOutbox


def value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


class Delta:
    """Sample values before and after a block: ``d = Delta(name, **labels); …; d.moved``."""

    def __init__(self, name: str, **labels: str) -> None:
        self.name, self.labels = name, labels
        self.before = value(name, **labels)

    @property
    def moved(self) -> float:
        return value(self.name, **self.labels) - self.before


@dataclass
class _Poison:
    code: str


@dataclass
class _Decoded:
    sales: list[Any] = field(default_factory=list)
    commands: list[Any] = field(default_factory=list)
    poison: list[Any] = field(default_factory=list)


@dataclass
class _Result:
    duplicates: int = 0
    conflicts: int = 0


def envelope(kind_of: object) -> SalesEnvelope:
    env = SalesEnvelope.__new__(SalesEnvelope)
    object.__setattr__(env, "item", kind_of)
    return env


def test_an_ingested_batch_counts_events_per_type_batch_size_duplicates_and_dead_letters() -> None:
    from mapping.sales import Receipt

    receipt = Receipt.__new__(Receipt)
    command = ManualExportRequested.__new__(ManualExportRequested)
    decoded = _Decoded(sales=[envelope(receipt)] * 3, commands=[command], poison=[_Poison("SCHEMA_MISMATCH")])
    receipts = Delta("dayclose_events_consumed_total", type="receipt")
    commands = Delta("dayclose_events_consumed_total", type="manual_export_requested")
    poison = Delta("dayclose_events_consumed_total", type="poison")
    dead = Delta("dayclose_dead_letters_total", error_code="SCHEMA_MISMATCH")
    dups = Delta("dayclose_events_duplicate_total")
    batches = Delta("dayclose_ingest_batch_size_count")
    sizes = Delta("dayclose_ingest_batch_size_sum")
    small = Delta("dayclose_ingest_batch_size_bucket", le="5.0")

    result = _Result(duplicates=2)
    metrics.batch_ingested(
        decoded.sales, decoded.commands, [p.code for p in decoded.poison], result.duplicates, result.conflicts
    )

    assert (receipts.moved, commands.moved, poison.moved, dead.moved, dups.moved) == (3, 1, 1, 1, 2)
    assert (batches.moved, sizes.moved, small.moved) == (1, 5, 1)


def test_conflicting_resends_count_as_dead_letters_of_their_own() -> None:
    conflicts = Delta("dayclose_dead_letters_total", error_code="RECEIPT_CONFLICT")
    decoded, result = _Decoded(), _Result(conflicts=2)
    metrics.batch_ingested(decoded.sales, decoded.commands, decoded.poison, result.duplicates, result.conflicts)
    assert conflicts.moved == 2


def test_bl_callbacks_and_refused_bodies_are_counted() -> None:
    unconfirmed = Delta("dayclose_bl_callbacks_total", direction="OFF", result="unconfirmed")
    too_large = Delta("dayclose_api_bodies_too_large_total")
    metrics.bl_callback("OFF", "unconfirmed")
    metrics.api_body_too_large()
    assert (unconfirmed.moved, too_large.moved) == (1, 1)


@pytest.mark.parametrize(
    ("outcome", "reason"),
    [
        ("booked", None),
        ("found_existing", None),
        ("failed", "UNMAPPED_ITEMS"),
        ("transient", "BL_UNAVAILABLE"),
    ],
)
def test_export_finished_counts_by_outcome_and_reason(outcome: str, reason: str | None) -> None:
    counted = Delta("dayclose_exports_total", outcome=outcome, reason_code=reason or "")
    metrics.export_finished(outcome, reason)
    assert counted.moved == 1


def test_bl_responses_land_in_the_latency_histogram_by_operation_and_status() -> None:
    count = Delta("dayclose_bl_request_duration_seconds_count", operation="post_journal", status="201")
    fast = Delta("dayclose_bl_request_duration_seconds_bucket", operation="post_journal", status="201", le="0.5")
    metrics.bl_response("post_journal", 201, 0.3)
    metrics.bl_response("post_journal", 201, 3.0)
    assert (count.moved, fast.moved) == (2, 1)


@pytest.mark.parametrize(
    ("failure", "cause"),
    [
        (RetryableFailure("get_details: HTTP 429", status=429), "http_429"),
        (RetryableFailure("post_journal: HTTP 503", status=503), "http_5xx"),
        (RetryableFailure("POST /journal: read timeout", maybe_committed=True), "timeout"),
        (RetryableFailure("GET /details: connection error (ConnectionError)"), "connection"),
        (None, "other"),
    ],
)
def test_bl_retries_are_counted_by_a_bounded_cause(failure: BaseException | None, cause: str) -> None:
    counted = Delta("dayclose_bl_retries_total", operation="op", cause=cause)
    metrics.bl_retry("op", failure)
    assert counted.moved == 1


def test_relay_counts_published_and_failed_rows() -> None:
    sent, failed = Delta("dayclose_relay_published_total"), Delta("dayclose_relay_failures_total")
    metrics.relay_published(7, 2)
    metrics.relay_published(0, 0)
    assert (sent.moved, failed.moved) == (7, 2)


# --- scrape-time collectors -----------------------------------------------------------------------


class _FakeConn:
    def __init__(self, depth: tuple[int, float] | Exception) -> None:
        self._depth = depth
        self.statements: list[str] = []

    @contextmanager
    def transaction(self) -> Iterator[None]:
        yield

    def execute(self, sql: str, *_args: Any) -> _FakeConn:
        self.statements.append(sql)
        if isinstance(self._depth, Exception):
            raise self._depth
        return self

    def fetchone(self) -> tuple[int, float]:
        assert not isinstance(self._depth, Exception)
        return self._depth


def _depth(connect: Any) -> tuple[int, float]:
    """The depth query as the service runs it (storage's outbox repository, inside a transaction)."""
    with connect() as conn, conn.transaction():
        return PostgresOutbox(conn, encoder=None).depth()  # type: ignore[arg-type]


def scrape(collector: Any) -> dict[str, float]:
    registry = CollectorRegistry()
    registry.register(collector)
    return {s.name: s.value for fam in registry.collect() for s in fam.samples if not s.labels}


def test_the_outbox_collector_queries_at_scrape_time_with_a_statement_timeout() -> None:
    conn = _FakeConn((12, 42.5))

    @contextmanager
    def connect() -> Iterator[_FakeConn]:
        yield conn

    collector = metrics.OutboxCollector(lambda: _depth(connect))
    assert conn.statements == []  # nothing at registration
    assert scrape(collector) == {
        "dayclose_outbox_query_up": 1,
        "dayclose_outbox_depth": 12,
        "dayclose_outbox_oldest_age_seconds": 42.5,
    }
    assert conn.statements[0].startswith("SET LOCAL statement_timeout")


def test_a_failing_outbox_query_reports_down_instead_of_failing_the_scrape() -> None:
    import psycopg

    @contextmanager
    def connect() -> Iterator[_FakeConn]:
        yield _FakeConn(psycopg.OperationalError("connection refused"))

    assert scrape(metrics.OutboxCollector(lambda: _depth(connect))) == {"dayclose_outbox_query_up": 0}


def stats(partitions: dict[str, dict[str, Any]], topic: str = "pos.sales.v1") -> str:
    return json.dumps({"name": "rdkafka#consumer-1", "topics": {topic: {"partitions": partitions}}})


def test_consumer_lag_per_partition_comes_from_the_latest_librdkafka_statistics() -> None:
    lag = metrics.ConsumerLagCollector()
    registry = CollectorRegistry()
    registry.register(lag)
    assert generate_latest(registry) == b""  # nothing before the first report

    lag.update(
        stats(
            {
                "0": {"fetch_state": "active", "consumer_lag": 5},
                "1": {"fetch_state": "active", "consumer_lag": 0},
                "2": {"fetch_state": "none", "consumer_lag": -1},  # not ours
                "-1": {"fetch_state": "none", "consumer_lag": -1},  # librdkafka's internal UA partition
            }
        )
    )
    assert registry.get_sample_value("dayclose_consumer_lag", {"topic": "pos.sales.v1", "partition": "0"}) == 5
    assert registry.get_sample_value("dayclose_consumer_lag", {"topic": "pos.sales.v1", "partition": "1"}) == 0
    assert registry.get_sample_value("dayclose_consumer_lag", {"topic": "pos.sales.v1", "partition": "2"}) is None
    assert registry.get_sample_value("dayclose_consumer_assigned_partitions") == 2

    lag.update(stats({"1": {"fetch_state": "active", "consumer_lag": 3}}))  # partition 0 revoked
    assert registry.get_sample_value("dayclose_consumer_lag", {"topic": "pos.sales.v1", "partition": "0"}) is None
    assert registry.get_sample_value("dayclose_consumer_lag", {"topic": "pos.sales.v1", "partition": "1"}) == 3

    lag.update("not json")  # ignored, last report stays
    assert registry.get_sample_value("dayclose_consumer_assigned_partitions") == 1


def test_the_kafka_stats_callback_feeds_the_registered_lag_collector() -> None:
    metrics.kafka_stats(stats({"7": {"fetch_state": "active", "consumer_lag": 99}}, topic="t-stats"))
    assert value("dayclose_consumer_lag", topic="t-stats", partition="7") == 99


def test_the_asgi_metrics_app_serves_the_registry() -> None:
    import asyncio

    metrics.export_finished("booked")
    app = metrics.metrics_asgi_app()
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "GET", "path": "/", "query_string": b"", "headers": []}
    asyncio.run(app(scope, receive, send))
    assert sent[0]["status"] == 200
    assert b'dayclose_exports_total{outcome="booked",reason_code=""}' in b"".join(m.get("body", b"") for m in sent)

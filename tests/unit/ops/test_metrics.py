"""The metric hooks move the right series; scrape-time collectors report what they read."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import pytest
from prometheus_client import CollectorRegistry, generate_latest

from backoffice import metrics as api_metrics
from consumer import metrics
from dayclose import telemetry
from exporters.bl import metrics as bl_metrics
from exporters.bl.errors import RetryableFailure
from service.messages import ManualExportRequested, SalesEnvelope
from storage.backlog import Backlog
from storage.outbox import PostgresOutbox

#: Every metric of both processes, for reading sample values (each process registers its own subset).
REGISTRY = CollectorRegistry()
for _collector in {*metrics.COLLECTORS, *bl_metrics.COLLECTORS, *api_metrics.COLLECTORS, telemetry.EXPORTS}:
    REGISTRY.register(_collector)


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


def envelope(kind_of: Any) -> SalesEnvelope:
    return SalesEnvelope("e1", "org", "s1", date(2026, 4, 1), datetime(2026, 4, 1, tzinfo=UTC), kind_of)


def test_an_ingested_batch_counts_events_per_type_batch_size_duplicates_and_dead_letters() -> None:
    from mapping.sales import Receipt

    receipt = Receipt("r1", "s1", date(2026, 1, 1), "sale", (), ())
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
    api_metrics.bl_callback("OFF", "unconfirmed")
    api_metrics.api_body_too_large()
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
    telemetry.export_finished(outcome, reason)
    assert counted.moved == 1


def test_bl_responses_land_in_the_latency_histogram_by_operation_and_status() -> None:
    count = Delta("dayclose_bl_request_duration_seconds_count", operation="post_journal", status="201")
    fast = Delta("dayclose_bl_request_duration_seconds_bucket", operation="post_journal", status="201", le="0.5")
    bl_metrics.bl_response("post_journal", 201, 0.3)
    bl_metrics.bl_response("post_journal", 201, 3.0)
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
    bl_metrics.bl_retry("op", failure)
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

    collector = telemetry.OutboxCollector(lambda: _depth(connect))
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

    assert scrape(telemetry.OutboxCollector(lambda: _depth(connect))) == {"dayclose_outbox_query_up": 0}


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


def test_the_sales_and_the_commands_consumers_statistics_are_both_counted() -> None:
    """A process has a consumer per group (sales, commands), each reporting its own statistics: one's report must not
    wipe out the other's partitions."""
    lag = metrics.ConsumerLagCollector()
    registry = CollectorRegistry()
    registry.register(lag)
    sales = {
        "name": "rdkafka#consumer-1",
        "topics": {"sales": {"partitions": {"0": {"fetch_state": "active", "consumer_lag": 7}}}},
    }
    commands = {
        "name": "rdkafka#consumer-2",
        "topics": {"commands": {"partitions": {"0": {"fetch_state": "active", "consumer_lag": 1}}}},
    }
    lag.update(json.dumps(sales))
    lag.update(json.dumps(commands))
    assert registry.get_sample_value("dayclose_consumer_lag", {"topic": "sales", "partition": "0"}) == 7
    assert registry.get_sample_value("dayclose_consumer_lag", {"topic": "commands", "partition": "0"}) == 1
    assert registry.get_sample_value("dayclose_consumer_assigned_partitions") == 2


#: librdkafka 2.16's statistics for a consumer assigned all 6 partitions of a topic, read from the mock cluster:
#: partitions 0 and 1 consumed and committed, 2 consumed (one message) but not committed yet, 3-5 empty and
#: never committed. librdkafka reports ``consumer_lag`` -1 wherever the group has no committed offset.
LIBRDKAFKA_STATS = {
    "-1": {"fetch_state": "none", "consumer_lag": -1, "hi_offset": -1001, "lo_offset": -1001,
           "ls_offset": -1001, "committed_offset": -1001},
    "0": {"fetch_state": "active", "consumer_lag": 0, "hi_offset": 5, "lo_offset": 0, "ls_offset": 5,
          "committed_offset": 5},
    "1": {"fetch_state": "active", "consumer_lag": 0, "hi_offset": 5, "lo_offset": 0, "ls_offset": 5,
          "committed_offset": 5},
    "2": {"fetch_state": "active", "consumer_lag": -1, "hi_offset": 1, "lo_offset": 0, "ls_offset": 1,
          "committed_offset": -1001},
    "3": {"fetch_state": "active", "consumer_lag": -1, "hi_offset": 0, "lo_offset": 0, "ls_offset": 0,
          "committed_offset": -1001},
    "4": {"fetch_state": "active", "consumer_lag": -1, "hi_offset": 0, "lo_offset": 0, "ls_offset": 0,
          "committed_offset": -1001},
    "5": {"fetch_state": "offset-query", "consumer_lag": -1, "hi_offset": -1001, "lo_offset": -1001,
          "ls_offset": -1001, "committed_offset": -1001},
}  # fmt: skip


def test_partitions_the_group_never_committed_are_assigned_and_report_their_lag() -> None:
    """The bug: partitions without a committed offset were skipped, so 2 of 6 read as assigned and the lag
    series were absent on a new or quiet environment (where DaycloseConsumerAbsent then fired)."""
    lag = metrics.ConsumerLagCollector()
    registry = CollectorRegistry()
    registry.register(lag)
    lag.update(stats(LIBRDKAFKA_STATS, topic="pos.sales.v1"))

    assert registry.get_sample_value("dayclose_consumer_assigned_partitions") == 6
    reported = {
        s.labels["partition"]: s.value
        for fam in registry.collect()
        if fam.name == "dayclose_consumer_lag"
        for s in fam.samples
    }
    # 2: one message nobody committed is behind; 3, 4: empty; 5: its offsets are not known yet (no made-up lag)
    assert reported == {"0": 0, "1": 0, "2": 1, "3": 0, "4": 0}


def test_a_partition_never_committed_counts_from_its_first_retained_offset() -> None:
    assert metrics.partition_lag({"consumer_lag": -1, "hi_offset": 900, "ls_offset": 900, "lo_offset": 400,
                                  "committed_offset": -1001}) == 500  # fmt: skip
    assert metrics.partition_lag({"consumer_lag": 7}) == 7


# --- one registry per process ---------------------------------------------------------------------------


def names(registry: CollectorRegistry) -> set[str]:
    return {fam.name for fam in registry.collect()}


def test_each_process_exposes_only_its_own_metrics_and_its_build() -> None:
    lag = metrics.ConsumerLagCollector()
    lag.update(stats({"0": {"fetch_state": "active", "consumer_lag": 0}}))
    consumer = names(telemetry.consumer_registry(lag, lambda: (0, 0.0), Backlog))
    api = names(telemetry.api_registry())

    assert {"dayclose_events_consumed", "dayclose_consumer_lag", "dayclose_exports", "dayclose_day_closes_overdue",
            "dayclose_outbox_depth", "dayclose_bl_request_duration_seconds"} <= consumer  # fmt: skip
    assert {"dayclose_api_requests", "dayclose_api_request_duration_seconds", "dayclose_bl_callbacks",
            "dayclose_bl_request_duration_seconds"} <= api  # fmt: skip
    assert not {n for n in consumer if n.startswith(("dayclose_api_", "dayclose_bl_callbacks"))}
    assert not {n for n in api if n.startswith(("dayclose_events_", "dayclose_consumer_", "dayclose_exports",
                                                "dayclose_outbox", "dayclose_relay"))}  # fmt: skip
    for registry, process in ((telemetry.consumer_registry(), "run"), (telemetry.api_registry(), "api")):
        labels = {"version": telemetry.version(), "revision": "unknown", "process": process}
        assert registry.get_sample_value("dayclose_build_info", labels) == 1
        assert "process_cpu_seconds" in names(registry) or "python_info" in names(registry)


# --- the export backlog, read at scrape time ---------------------------------------------------------------


def test_the_backlog_counts_overdue_store_days_by_age_and_by_who_must_act() -> None:
    backlog = Backlog(
        overdue=[(None, 1200.0), ("UNMAPPED_ITEMS", 7200.0), ("BL_UNAVAILABLE", 90_000.0), (None, 60.0)],
        jobs_due=3,
        jobs_waiting=2,
        oldest_job_age_s=4000.0,
        not_booked={"failed": 1, "posting": 4},
    )
    registry = CollectorRegistry()
    registry.register(telemetry.BacklogCollector(lambda: backlog))

    def overdue(older_than: str, waiting_on: str) -> float | None:
        return registry.get_sample_value(
            "dayclose_day_closes_overdue", {"older_than": older_than, "waiting_on": waiting_on}
        )

    assert [overdue(age, "dayclose") for age in ("15m", "1h", "6h", "24h")] == [2, 1, 1, 1]
    assert [overdue(age, "merchant") for age in ("15m", "1h", "6h", "24h")] == [1, 1, 0, 0]
    assert registry.get_sample_value("dayclose_export_jobs", {"state": "due"}) == 3
    assert registry.get_sample_value("dayclose_export_jobs", {"state": "waiting"}) == 2
    assert registry.get_sample_value("dayclose_export_jobs_oldest_age_seconds") == 4000
    assert registry.get_sample_value("dayclose_exports_not_booked", {"status": "posting"}) == 4
    assert registry.get_sample_value("dayclose_backlog_query_up") == 1


def test_a_failing_backlog_query_reports_down_instead_of_failing_the_scrape() -> None:
    def down() -> Backlog:
        raise OSError("database gone")

    assert scrape(telemetry.BacklogCollector(down)) == {"dayclose_backlog_query_up": 0}


# --- API requests by route template ----------------------------------------------------------------------


def test_api_requests_are_counted_by_route_template_including_those_refused_before_routing() -> None:
    from fastapi.testclient import TestClient

    from backoffice.openapi_doc import app_without_io

    route = "/v1/organizations/{organization_id}/bjorn-lunden/exports"
    refused = Delta("dayclose_api_requests_total", method="GET", route=route, status="401")
    timed = Delta("dayclose_api_request_duration_seconds_count", method="GET", route=route)
    unmatched = Delta("dayclose_api_requests_total", method="GET", route="unmatched", status="404")
    odd = Delta("dayclose_api_requests_total", method="other", route="unmatched", status="404")
    before = snapshot_api_routes()

    with TestClient(app_without_io()) as client:
        assert client.get("/v1/organizations/org-secret-1/bjorn-lunden/exports").status_code == 401
        assert client.get("/no/such/path").status_code == 404
        assert client.request("BREW", "/no/such/path").status_code in (404, 405)
        client.get("/metrics")

    assert (refused.moved, timed.moved, unmatched.moved) == (1, 1, 1)
    assert odd.moved == 1 or value("dayclose_api_requests_total", method="other", route="unmatched", status="405")
    new_routes = snapshot_api_routes() - before
    assert not any("org-secret-1" in r for r in new_routes)  # ids never become label values
    assert "/metrics" not in snapshot_api_routes()


def snapshot_api_routes() -> set[str]:
    return {s.labels["route"] for fam in REGISTRY.collect() if fam.name == "dayclose_api_requests" for s in fam.samples}

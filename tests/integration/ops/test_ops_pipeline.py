"""Metrics and health of the real service: PostgreSQL, the Kafka mock cluster, the BL stand-in over HTTP."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from datetime import date

import pytest

from dayclose import telemetry
from dayclose.health import HealthServer, consumer_checks
from devstack import sampledata
from devstack.bl_standin import BLStandIn
from devstack.harness import Harness
from tests.integration.pipeline.conftest import ORG, make_pipeline, pipeline  # noqa: F401 - fixtures
from tests.promtool import check_metrics

pytestmark = pytest.mark.integration
DAY = date(2026, 11, 25)
#: The consumer process's metrics (module-level counters; the scrape-time parts are checked below).
REGISTRY = telemetry.consumer_registry()


def value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def snapshot() -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for fam in REGISTRY.collect()
        if fam.name.startswith("dayclose_")
        for s in fam.samples
    }


def moved(before: dict, name: str, **labels: str) -> float:  # type: ignore[type-arg]
    return value(name, **labels) - before.get((name, tuple(sorted(labels.items()))), 0.0)


def test_a_booked_day_moves_ingest_export_bl_and_relay_metrics(pipeline: Harness, bl_standin: BLStandIn) -> None:  # noqa: F811
    day = sampledata.store_day(ORG, "s1", DAY, 25)
    events = list(day.events())
    kinds = [e["payload"][0].rsplit(".", 1)[-1] for e in events]
    bl_standin.set_faults(throttle_next=1, retry_after_s=0)  # one 429 on the way: a counted retry
    before = snapshot()

    pipeline.publish_sales([*events, day.day_closed()])
    pipeline.wait_for(lambda h: len(h.outcomes_for(ORG, "SUCCEEDED")) == 1, what="a success outcome")

    assert moved(before, "dayclose_exports_total", outcome="booked", reason_code="") == 1
    assert moved(before, "dayclose_events_consumed_total", type="receipt") == kinds.count("Receipt") > 0
    assert moved(before, "dayclose_events_consumed_total", type="day_closed") == 1
    assert moved(before, "dayclose_ingest_batch_size_sum") == len(events) + 1
    assert (
        moved(before, "dayclose_bl_request_duration_seconds_count", operation="post journal entry", status="201")
        + moved(before, "dayclose_bl_request_duration_seconds_count", operation="post journal entry", status="200")
        == 1
    )
    assert moved(before, "dayclose_bl_retries_total", **_one_retry_labels(before)) == 1
    assert moved(before, "dayclose_relay_published_total") >= 1
    assert moved(before, "dayclose_dead_letters_total", error_code="UNDECODABLE") == 0

    # What Prometheus would scrape from this consumer now: valid and lint-clean by promtool, nothing overdue.
    service = pipeline.service
    assert service is not None
    registry = telemetry.consumer_registry(service.lag, service.outbox_depth, service.backlog)
    server = HealthServer(consumer_checks(service), port=0, host="127.0.0.1", registry=registry).start()
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{server.port}/metrics", timeout=10) as scrape:  # noqa: S310
            body = scrape.read()
    finally:
        server.stop()
    check_metrics(body)
    assert b'dayclose_exports_total{outcome="booked",reason_code=""}' in body
    assert b'dayclose_day_closes_overdue{older_than="15m",waiting_on="dayclose"} 0.0' in body
    assert b"dayclose_api_requests" not in body


def _one_retry_labels(before: dict) -> dict[str, str]:  # type: ignore[type-arg]
    """The (operation, cause) of the single retry the throttled request caused."""
    now = snapshot()
    grown = [
        dict(labels)
        for (name, labels), v in now.items()
        if name == "dayclose_bl_retries_total" and v > before.get((name, labels), 0.0)
    ]
    assert len(grown) == 1, grown
    assert grown[0]["cause"] == "http_429"
    return grown[0]


def test_poison_messages_count_as_dead_letters(pipeline: Harness) -> None:  # noqa: F811
    before = snapshot()
    pipeline.publish_sales([], raw=[(f"{ORG}/s1".encode(), b"not avro at all")])
    # The batch is counted on the loop's thread once its write committed; the relay may deliver the dead letter
    # first, so wait for both.
    pipeline.wait_for(
        lambda h: len(h.dead_letters) == 1 and moved(before, "dayclose_events_consumed_total", type="poison") > 0,
        what="a dead letter, counted",
    )
    assert moved(before, "dayclose_events_consumed_total", type="poison") == 1
    assert sum(v - before.get(k, 0.0) for k, v in snapshot().items() if k[0] == "dayclose_dead_letters_total") == 1


def get(port: int, path: str) -> tuple[int, dict]:  # type: ignore[type-arg]
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as resp:  # noqa: S310
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def test_health_of_a_running_service_and_its_outbox_read_at_scrape(pipeline: Harness) -> None:  # noqa: F811
    service = pipeline.service
    assert service is not None
    registry = telemetry.consumer_registry(service.lag, service.outbox_depth, service.backlog)
    server = HealthServer(consumer_checks(service), port=0, host="127.0.0.1", registry=registry).start()
    try:
        deadline = time.monotonic() + 10
        while get(server.port, "/readyz")[0] != 200 and time.monotonic() < deadline:
            time.sleep(0.1)
        status, report = get(server.port, "/readyz")
        assert status == 200, report
        assert get(server.port, "/healthz")[0] == 200

        with urllib.request.urlopen(f"http://127.0.0.1:{server.port}/metrics", timeout=10) as scrape:  # noqa: S310
            check_metrics(scrape.read())  # a real scrape of a running consumer, as Prometheus reads it

        service.loop.loops[0].last_beat -= 3600  # as if the sales loop had been stuck for an hour
        status, report = get(server.port, "/healthz")
        assert status == 503 and report["checks"]["loop"]["ok"] is False
    finally:
        server.stop()

    assert registry.get_sample_value("dayclose_outbox_query_up") == 1
    assert registry.get_sample_value("dayclose_backlog_query_up") == 1
    assert registry.get_sample_value("dayclose_export_jobs", {"state": "due"}) is not None
    assert registry.get_sample_value("dayclose_outbox_depth") is not None
    assert (registry.get_sample_value("dayclose_outbox_oldest_age_seconds") or 0.0) >= 0.0

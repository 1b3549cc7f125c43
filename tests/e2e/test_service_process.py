"""`dayclose run` as its own process, as operators run it: SIGTERM mid-export, restart, nothing doubled."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import psycopg
import pytest

from devstack import sampledata
from devstack.bl_standin import BLStandIn, Company
from devstack.harness import Harness, Topics, make_settings
from devstack.kafka import KafkaCluster
from devstack.processes import service_env
from tests.integration.pipeline.oracle import booked_totals, expected_totals
from tests.waiting import wait_until

pytestmark = pytest.mark.e2e
ORG = "org-process"
DAY = date(2026, 11, 25)


@pytest.fixture
def harness(
    database_url: str, kafka_cluster: KafkaCluster, bl_standin: BLStandIn, bl_company: Company
) -> Iterator[Harness]:
    topics = Topics.fresh(kafka_cluster.create_topic)
    settings = make_settings(
        database_url,
        kafka_cluster.bootstrap_servers,
        topics,
        bl_base_url=bl_standin.base_url,
        bl_token_url=bl_standin.token_url,
        bl_client_id=bl_standin.client_id,
        bl_client_secret=bl_standin.client_secret,
    )
    h = Harness(settings, topics)
    h.activate(ORG, bl_company.user_key, sampledata.SAMPLE_PLAN, date(2026, 1, 1))
    yield h
    h.close()


def start_service(h: Harness, log_path: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, **service_env(h.settings)}
    with log_path.open("ab") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "dayclose", "run"], env=env, stdout=log, stderr=subprocess.STDOUT
        )


def export_statuses(h: Harness) -> list[str]:
    with psycopg.connect(h.settings.database_url) as conn:
        return [r[0] for r in conn.execute("SELECT status FROM exports ORDER BY created_at")]


def test_sigterm_mid_export_finishes_cleanly_and_a_restart_books_nothing_twice(
    harness: Harness, bl_standin: BLStandIn, bl_company: Company, tmp_path: Path
) -> None:
    log_path = tmp_path / "service.log"
    bl_standin.set_faults(latency_s=1.5, paths=("/journal",), methods=("POST",))
    first = start_service(harness, log_path)
    try:
        day = sampledata.store_day(ORG, "s1", DAY, 30)
        harness.publish_sales([*day.events(), day.day_closed()])
        wait_until(lambda: export_statuses(harness) == ["posting"], 30, "the export to be in flight")
        first.send_signal(signal.SIGTERM)
        assert first.wait(timeout=60) == 0, log_path.read_text()[-3000:]
    finally:
        if first.poll() is None:
            first.kill()
    assert "service.stopped" in log_path.read_text()
    assert len(bl_standin.vouchers(bl_company.user_key)) == 1  # the export in hand was finished, not dropped
    assert export_statuses(harness) == ["booked"]

    bl_standin.reset_faults()
    second = start_service(harness, log_path)
    try:
        # The first run's outcome may already be on the topic: wait for the restarted service itself (it logs
        # service.started once its SIGTERM handler is in place), or the signal below could beat the handler.
        wait_until(lambda: log_path.read_text().count("service.started") >= 2, 60, "the restarted service")
        harness.wait_for(lambda h: len(h.outcomes_for(ORG, "SUCCEEDED")) >= 1, timeout=60, what="the day booked")
        harness.poll_outcomes(timeout=1.0)
    finally:
        second.send_signal(signal.SIGTERM)
        assert second.wait(timeout=60) == 0
    vouchers = bl_standin.vouchers(bl_company.user_key)
    assert len(vouchers) == 1
    assert booked_totals(vouchers) == expected_totals([*day.events(), day.day_closed()])
    assert export_statuses(harness) == ["booked"]
    assert len(harness.outcomes_for(ORG, "SUCCEEDED")) == 1
    assert bl_company.user_key not in log_path.read_text()  # the merchant's key never reaches the logs


def test_sigkill_mid_export_then_restart_books_the_day_exactly_once(
    harness: Harness, bl_standin: BLStandIn, bl_company: Company, tmp_path: Path
) -> None:
    log_path = tmp_path / "service.log"
    # BL commits the voucher, then the response is lost for a while: the process dies not knowing.
    bl_standin.set_faults(commit_then_drop=1, drop_mode="timeout", drop_hold_s=5.0)
    first = start_service(harness, log_path)
    try:
        day = sampledata.store_day(ORG, "s1", DAY, 30)
        harness.publish_sales([*day.events(), day.day_closed()])
        wait_until(lambda: len(bl_standin.vouchers(bl_company.user_key)) == 1, 30, "BL to commit the voucher")
        first.kill()
        first.wait(timeout=30)
    finally:
        if first.poll() is None:
            first.kill()
    assert export_statuses(harness) == ["posting"]  # we never learnt the result

    bl_standin.reset_faults()
    second = start_service(harness, log_path)
    try:
        harness.wait_for(
            lambda h: len(h.outcomes_for(ORG, "SUCCEEDED")) >= 1, timeout=60, what="the day booked after the restart"
        )
    finally:
        second.send_signal(signal.SIGTERM)
        assert second.wait(timeout=60) == 0
    assert len(bl_standin.vouchers(bl_company.user_key)) == 1
    (outcome,) = harness.outcomes_for(ORG, "SUCCEEDED")
    assert outcome["voucher"]["already_existed"] is True  # found by its reference, not posted again
    assert export_statuses(harness) == ["booked"]


def export_rows(h: Harness) -> list[tuple[str, bool, bool]]:
    """(status, post attempted, attach attempted) of every export, oldest first."""
    with psycopg.connect(h.settings.database_url) as conn:
        return [
            (r[0], r[1], r[2])
            for r in conn.execute(
                "SELECT status, post_attempted_at IS NOT NULL, document_attach_attempted_at IS NOT NULL "
                "FROM exports ORDER BY created_at"
            )
        ]


def bl_calls(bl: BLStandIn, since: int = 0) -> list[str]:
    """BL's requests (token requests left out) as ``METHOD /path`` with ids and dates as ``…``, in order."""
    base = "/bla-api/v1/sp"
    return [
        f"{r.method} {re.sub(r'/[0-9][0-9-]*(?=/|$)', '/…', r.path.removeprefix(base))}"
        for r in bl.requests.all()[since:]
        if r.path.startswith(base)
    ]


def restart_until_attached(h: Harness, log_path: Path) -> None:
    second = start_service(h, log_path)
    try:
        wait_until(lambda: document_states(h) == [("booked", "attached")], 60, "the day booked and its report attached")
    finally:
        second.send_signal(signal.SIGTERM)
        assert second.wait(timeout=60) == 0


def test_sigkill_before_the_post_is_on_record_then_the_restart_posts_once_without_a_look_up(
    harness: Harness, bl_standin: BLStandIn, bl_company: Company, tmp_path: Path
) -> None:
    log_path = tmp_path / "service.log"
    # The pre-flight's first fetch hangs: the export is claimed, its post not yet on record.
    bl_standin.set_faults(latency_s=60.0, paths=("/financialyear",), methods=("GET",))
    first = start_service(harness, log_path)
    try:
        day = sampledata.store_day(ORG, "s1", DAY, 10)
        harness.publish_sales([*day.events(), day.day_closed()])
        wait_until(lambda: bl_standin.requests.count("GET", "/financialyear") >= 1, 30, "the pre-flight in flight")
        wait_until(lambda: export_rows(harness) == [("posting", False, False)], 30, "the export claimed")
        first.kill()
        first.wait(timeout=30)
    finally:
        if first.poll() is None:
            first.kill()
    assert export_rows(harness) == [("posting", False, False)]  # no post on record: none was sent
    bl_standin.reset_faults()
    seen = len(bl_standin.requests.all())

    restart_until_attached(harness, log_path)

    after = bl_calls(bl_standin, seen)
    assert "GET /journal/entry/batch" not in after and after.count("POST /journal") == 1  # proof enough: no look-up
    (voucher,) = bl_standin.vouchers(bl_company.user_key)
    assert [d["id"] for d in bl_standin.documents(bl_company.user_key)] == voucher["documentIds"]
    assert len(voucher["documentIds"]) == 1


def test_sigkill_after_the_post_is_on_record_but_bl_never_took_it_then_the_restart_looks_up_and_books_once(
    harness: Harness, bl_standin: BLStandIn, bl_company: Company, tmp_path: Path
) -> None:
    log_path = tmp_path / "service.log"
    # BL answers the post 503 without booking it: the post's outcome is unknown to us, so the process waits its
    # quiet period before it would look up again, and dies in it.
    bl_standin.set_faults(error_rate=1.0, paths=("/journal",), methods=("POST",))
    first = start_service(harness, log_path)
    try:
        day = sampledata.store_day(ORG, "s1", DAY, 10)
        harness.publish_sales([*day.events(), day.day_closed()])
        wait_until(lambda: bl_standin.requests.count("POST", "/journal") >= 1, 30, "the post refused")
        first.kill()
        first.wait(timeout=30)
    finally:
        if first.poll() is None:
            first.kill()
    assert export_rows(harness) == [("posting", True, False)] and bl_standin.vouchers(bl_company.user_key) == []
    bl_standin.reset_faults()
    seen = len(bl_standin.requests.all())

    restart_until_attached(harness, log_path)

    after = bl_calls(bl_standin, seen)
    assert after.index("GET /journal/entry/batch") < after.index("POST /journal")  # looked up before posting
    assert after.count("POST /journal") == 1
    (voucher,) = bl_standin.vouchers(bl_company.user_key)
    assert len(voucher["documentIds"]) == 1 and len(bl_standin.documents(bl_company.user_key)) == 1


def test_the_service_fails_fast_naming_a_missing_setting(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "KAFKA_", "BL_", "DAYCLOSE_"))}
    result = subprocess.run(
        [sys.executable, "-m", "dayclose", "run"], env=env, capture_output=True, timeout=60, check=False
    )
    assert result.returncode != 0
    assert b"KAFKA_BOOTSTRAP_SERVERS" in result.stderr or b"DATABASE_URL" in result.stderr


def document_states(h: Harness) -> list[tuple[str, str | None]]:
    with psycopg.connect(h.settings.database_url) as conn:
        return [(r[0], r[1]) for r in conn.execute("SELECT status, document_status FROM exports ORDER BY created_at")]


@pytest.mark.parametrize("bl_attached_before_the_kill", [True, False])
def test_sigkill_between_posting_and_attaching_ends_with_exactly_one_document(
    harness: Harness, bl_standin: BLStandIn, bl_company: Company, tmp_path: Path, bl_attached_before_the_kill: bool
) -> None:
    log_path = tmp_path / "service.log"
    if bl_attached_before_the_kill:
        # BL attaches the document, then the answer is lost for a while: the process dies not knowing.
        bl_standin.set_faults(documents_commit_then_drop=1, drop_mode="timeout", drop_hold_s=5.0)
    else:
        # The attach never gets through: the process dies with the voucher booked and its document pending.
        bl_standin.set_faults(error_rate=1.0, paths=("/document/attachto",))
    first = start_service(harness, log_path)
    try:
        day = sampledata.store_day(ORG, "s1", DAY, 20)
        harness.publish_sales([*day.events(), day.day_closed()])
        wait_until(lambda: bl_standin.requests.count("POST", "/document/attachto") >= 1, 30, "the attach in flight")
        if bl_attached_before_the_kill:
            wait_until(lambda: len(bl_standin.documents(bl_company.user_key)) == 1, 30, "BL to attach it")
        first.kill()
        first.wait(timeout=30)
    finally:
        if first.poll() is None:
            first.kill()
    assert document_states(harness) == [("booked", "pending")]  # booked; we never learnt about the document
    assert len(bl_standin.documents(bl_company.user_key)) == (1 if bl_attached_before_the_kill else 0)

    bl_standin.reset_faults()
    second = start_service(harness, log_path)
    try:
        wait_until(lambda: document_states(harness) == [("booked", "attached")], 60, "the document attached")
    finally:
        second.send_signal(signal.SIGTERM)
        assert second.wait(timeout=60) == 0
    (voucher,) = bl_standin.vouchers(bl_company.user_key)
    documents = bl_standin.documents(bl_company.user_key)
    assert len(documents) == 1 and voucher["documentIds"] == [documents[0]["id"]]
    assert export_rows(harness) == [("booked", True, True)]
    # The attach was on record before it was sent: the restart read the voucher back before attaching anything.
    assert bl_standin.requests.count("GET", "/journal/entry/D/") >= 1
    if bl_attached_before_the_kill:  # found by its name after the restart, not uploaded again
        assert [r for r in bl_standin.requests.all() if r.path.endswith("/document") and r.method == "GET"]
        assert bl_standin.requests.count("POST", "/document/attachto") == 1

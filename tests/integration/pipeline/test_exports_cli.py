"""An operator following a stuck export with `dayclose exports` and `dayclose purge --dry-run`, on the real
pipeline (PostgreSQL, the Kafka mock cluster, the BL stand-in): find it, read why, retry after the fix."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from datetime import date

import pytest

from dayclose import exitcodes
from devstack import sampledata
from devstack.bl_standin import Company
from devstack.harness import Harness
from tests.integration.pipeline.conftest import ORG

pytestmark = pytest.mark.integration
DAY = date(2026, 11, 24)


def dayclose(h: Harness, *argv: str, **extra: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "KAFKA_", "BL_", "DAYCLOSE_"))}
    env = {
        **base,
        "DATABASE_URL": h.settings.database_url,
        "KAFKA_BOOTSTRAP_SERVERS": h.settings.kafka.bootstrap_servers,
        "BL_CLIENT_ID": "x",
        "BL_CLIENT_SECRET": "x",
        "DAYCLOSE_KEY_ENCRYPTION_KEY": h.settings.kek.reveal(),
        **extra,
    }
    return subprocess.run(
        [sys.executable, "-m", "dayclose", *argv], env=env, capture_output=True, text=True, timeout=60, check=False
    )


def test_find_a_failed_export_read_why_and_retry_it_after_the_fix(pipeline: Harness, bl_company: Company) -> None:
    bl_company.close_financial_year(DAY)
    day = sampledata.store_day(ORG, "s1", DAY, 12)
    pipeline.publish_sales([*day.events(), day.day_closed()])
    pipeline.wait_for(lambda h: len(h.outcomes_for(ORG, "FAILED")) == 1, what="the export refused")

    listed = dayclose(pipeline, "exports", "list", "--org", ORG, "--status", "failed", "--json")
    assert listed.returncode == 0, listed.stderr
    (failed,) = json.loads(listed.stdout)
    assert (failed["store_id"], failed["business_date"], failed["reason_code"]) == (
        "s1",
        "2026-11-24",
        "FISCAL_YEAR_CLOSED",
    )
    table = dayclose(pipeline, "exports", "list", "--org", ORG).stdout
    assert failed["reference"] in table and "1 of 1 exports" in table

    shown = dayclose(pipeline, "exports", "show", failed["reference"])
    assert shown.returncode == 0, shown.stderr
    from service.reasons import reason

    explained = reason("FISCAL_YEAR_CLOSED")
    assert f"FISCAL_YEAR_CLOSED: {explained.title_en}. {explained.message_en}" in shown.stdout
    assert re.search(r"^status +failed after \d+ attempt", shown.stdout, re.MULTILINE), shown.stdout
    assert dayclose(pipeline, "exports", "show", "DC-nosuchexport").returncode == exitcodes.FAILED
    assert dayclose(pipeline, "exports", "retry", "--org", "org-nobody").returncode == exitcodes.FAILED

    bl_company.open_financial_year(DAY)  # the merchant's fix in BL
    retried = dayclose(pipeline, "exports", "retry", failed["reference"])
    assert retried.returncode == 0, retried.stderr
    assert "queued 1 retry job(s) for org-cafe: store(s) s1" in retried.stdout
    pipeline.wait_for(lambda h: len(h.outcomes_for(ORG, "SUCCEEDED")) == 1, what="the retry booked")
    (booked,) = json.loads(dayclose(pipeline, "exports", "list", "--org", ORG, "--json").stdout)
    assert booked["status"] == "booked" and booked["export_id"] == failed["export_id"]
    again = dayclose(pipeline, "exports", "retry", failed["reference"])
    assert again.returncode == exitcodes.FAILED and "not failed" in again.stderr

    # The auditor's view of the voucher, in words and kronor (the stored record with --json)
    audit = dayclose(
        pipeline, "audit", "voucher", booked["voucher_series"], str(booked["voucher_number"]), "--org", ORG
    )
    assert audit.returncode == 0, audit.stderr
    assert f"voucher {booked['voucher_series']} {booked['voucher_number']}  dated 2026-11-24" in audit.stdout
    assert "debit SEK" in audit.stdout and "% VAT: gross" in audit.stdout
    assert audit.stdout.count("  receipt ") == 12


def test_purge_shows_its_plan_and_drops_nothing_unconfirmed(pipeline: Harness) -> None:
    day = sampledata.store_day(ORG, "s1", date(2026, 1, 15), 5)
    pipeline.publish_sales(list(day.events()))  # sales, never closed: the quarter is blocked
    pipeline.wait_stored(ORG, len(list(day.events())))
    plan = dayclose(pipeline, "purge", "--dry-run", DAYCLOSE_SALES_RETENTION_DAYS="1")
    unconfirmed = dayclose(pipeline, "purge", DAYCLOSE_SALES_RETENTION_DAYS="1")
    assert plan.returncode == 0, plan.stderr
    assert "2026Q1" in plan.stdout and "keep: 1 blocking store-day(s)" in plan.stdout
    assert "2026Q1 blocked by org-cafe s1 2026-01-15: sales not exported" in plan.stdout
    assert unconfirmed.returncode == exitcodes.FAILED and "pass --yes" in unconfirmed.stderr

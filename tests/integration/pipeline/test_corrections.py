"""Correcting a booked day: reversal first, then the day anew through the corrected plan; never an edit."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date

import pytest

from devstack import sampledata
from devstack.bl_standin import BLStandIn, Company
from devstack.harness import Harness
from devstack.oracle import assert_balanced, booked_totals, expected_totals
from tests.integration.pipeline.conftest import ORG

pytestmark = pytest.mark.integration
DAY = date(2026, 11, 25)
WRONG = {**sampledata.SAMPLE_PLAN,
         "product_groups": {**sampledata.SAMPLE_PLAN["product_groups"], "merch": "3004"}}


def reexport(h: Harness, store: str, day: date) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": h.settings.database_url, "KAFKA_BOOTSTRAP_SERVERS": "unused:9092",
           "BL_CLIENT_ID": "x", "BL_CLIENT_SECRET": "x"}
    return subprocess.run([sys.executable, "-m", "dayclose", "reexport", "--org", ORG, "--store", store,
                           "--date", day.isoformat()], env=env, capture_output=True, text=True, timeout=60,
                          check=False)


@pytest.mark.parametrize("with_manual_export_first", [False, True])
def test_a_wrongly_mapped_day_is_reversed_then_booked_anew(
    make_pipeline, bl_standin: BLStandIn, bl_company: Company, with_manual_export_first: bool
) -> None:
    h = make_pipeline(plan=WRONG)
    day = sampledata.store_day(ORG, "s1", DAY, 30)
    events = list(day.events())
    if with_manual_export_first:
        h.publish_sales(events[:10])
        h.wait_stored(ORG, 10)
        h.publish_command(sampledata.manual_export(ORG))
        h.wait_for(lambda x: len(x.outcomes_for(ORG, "SUCCEEDED")) == 1, what="the manual export")
    h.publish_sales([*(events[10:] if with_manual_export_first else events), day.day_closed()])
    originals = 2 if with_manual_export_first else 1
    h.wait_for(lambda x: len(x.outcomes_for(ORG, "SUCCEEDED")) == originals, what="the day booked (wrongly)")

    h.save_plan(ORG, sampledata.SAMPLE_PLAN)
    result = reexport(h, "s1", DAY)
    assert result.returncode == 0, result.stderr
    h.wait_for(lambda x: len(x.outcomes_for(ORG, "SUCCEEDED")) == 2 * originals + 1, what="reversal(s) + new")

    books = bl_standin.vouchers(bl_company.user_key)
    assert len(books) == 2 * originals + 1
    assert_balanced(books)
    reversals = [v for v in books if v["journalEntryText"].startswith("Återföring av DC-")]
    assert len(reversals) == originals
    for original, reversal in zip(books[:originals], reversals, strict=True):
        assert booked_totals([original, reversal]) == {}  # exact mirror, nothing edited
        assert original["journalEntryText"].rsplit("ref ", 1)[-1] in reversal["journalEntryText"]
    assert booked_totals(books) == expected_totals([*events, day.day_closed()])  # the books are now right
    triggers = [o["trigger"] for o in h.outcomes_for(ORG, "SUCCEEDED")][originals:]
    assert triggers == ["CORRECTION"] * originals + ["DAY_CLOSE"]

    again = reexport(h, "s1", date(2026, 11, 20))
    assert again.returncode == 2 and "no booked voucher" in again.stderr


def test_a_reversal_bl_refuses_blocks_the_new_voucher_until_it_is_booked(
    make_pipeline, bl_standin: BLStandIn, bl_company: Company
) -> None:
    h = make_pipeline(plan=WRONG)
    day = sampledata.store_day(ORG, "s1", DAY, 10)
    h.publish_sales([*day.events(), day.day_closed()])
    h.wait_for(lambda x: len(x.outcomes_for(ORG, "SUCCEEDED")) == 1, what="the day booked")
    h.save_plan(ORG, sampledata.SAMPLE_PLAN)
    with bl_company.lock:
        bl_company.close_financial_year(DAY)
    assert reexport(h, "s1", DAY).returncode == 0
    h.wait_for(lambda x: len(x.outcomes_for(ORG, "FAILED")) == 1, what="the reversal refused")
    assert h.outcomes_for(ORG, "FAILED")[0]["trigger"] == "CORRECTION"
    assert len(bl_standin.vouchers(bl_company.user_key)) == 1  # no new voucher on top of an unreversed one

    with bl_company.lock:
        bl_company.open_financial_year(DAY)
    h.publish_command(sampledata.manual_export(ORG, retry=True))
    h.wait_for(lambda x: len(x.outcomes_for(ORG, "SUCCEEDED")) == 3, what="reversal and new voucher")
    books = bl_standin.vouchers(bl_company.user_key)
    assert len(books) == 3
    assert booked_totals(books) == expected_totals([*day.events(), day.day_closed()])

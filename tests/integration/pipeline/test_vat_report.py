"""The VAT-period report against real bookings: boxes equal to an independent computation from the receipts,
booked equal to the Z-reports, BL's balances equal to dayclose's, and every difference named with its cause."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from devstack import sampledata
from devstack.bl_standin import BLStandIn, Company
from devstack.bl_standin.booking import book
from devstack.harness import Harness
from devstack.oracle import vat_boxes
from devstack.vat_check import report, vat_report_problems
from mapping.vatamounts import total
from mapping.vatperiods import month
from mapping.vatreport import Cause, explained_total
from service.vat_report import Comparison
from tests.integration.pipeline.conftest import ORG
from tests.integration.pipeline.test_corrections import WRONG, reexport

pytestmark = pytest.mark.integration
NOV, DEC = month(2026, 11), month(2026, 12)


def demo_days(h: Harness) -> list[dict[str, Any]]:
    """The demo's two days: the first closed 5.00 short, the second with a manual export mid-day."""
    day1 = sampledata.store_day(ORG, "s1", date(2026, 11, 24), 60)
    close1 = day1.day_closed(counted_cash_delta_ore=-500)
    h.publish_sales([*day1.events(), close1])
    h.wait_for(lambda x: len(x.outcomes_for(ORG, "SUCCEEDED")) == 1, what="day 1")
    day2 = sampledata.store_day(ORG, "s1", date(2026, 11, 25), 60, seed=2, z_report_number=2)
    events2 = list(day2.events())
    h.publish_sales(events2[:30])
    h.wait_stored(ORG, len(list(day1.events())) + 30)
    h.publish_command(sampledata.manual_export(ORG))
    h.wait_for(lambda x: len(x.outcomes_for(ORG, "SUCCEEDED")) == 2, what="the manual export")
    close2 = day2.day_closed(counted_cash_delta_ore=350)
    h.publish_sales([*events2[30:], close2])
    h.wait_for(lambda x: len(x.outcomes_for(ORG, "SUCCEEDED")) == 3, what="day 2 closed")
    return [*day1.events(), close1, *events2, close2]


def cli(h: Harness, bl: BLStandIn, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "DATABASE_URL": h.settings.database_url,
        "KAFKA_BOOTSTRAP_SERVERS": "unused:9092",
        "BL_BASE_URL": bl.base_url,
        "BL_TOKEN_URL": bl.token_url,
        "BL_CLIENT_ID": bl.client_id,
        "BL_CLIENT_SECRET": bl.client_secret,
        "DAYCLOSE_KEY_ENCRYPTION_KEY": h.settings.key_encryption_key.reveal(),  # type: ignore[union-attr]
    }
    return subprocess.run(
        [sys.executable, "-m", "dayclose", "vat-report", "--org", ORG, *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_the_demo_days_report_equals_the_receipts_box_by_box_and_bl_equals_dayclose(
    pipeline: Harness, bl_standin: BLStandIn
) -> None:
    records = demo_days(pipeline)
    assert vat_report_problems(pipeline.settings, ORG, NOV, records, exporter=pipeline.exporter) == []
    expected = vat_boxes(records)
    assert expected["05"] > 0 and all(expected[b] > 0 for b in ("10", "11", "12"))

    as_json = cli(pipeline, bl_standin, "--period", "2026-11", "--json")
    assert as_json.returncode == 0, as_json.stderr
    body = json.loads(as_json.stdout)
    assert {k[-2:]: v for k, v in body["boxes"].items()} == expected
    assert [(v["kind"], v["series"]) for v in body["vouchers"]] == [
        ("DAY_CLOSE", "D"),
        ("PARTIAL", "D"),
        ("COMPLEMENT", "D"),
    ]
    assert body["causes"] == [] and body["bl"]["status"] == "COMPARED"
    assert body["vat_reporting"] == {"frequency": "MONTHLY", "turnover_above_40_msek": False, "is_set": False}
    assert body["filing"]["status"] in ("DUE", "PAST_DUE")  # November has ended: its return is due

    table = cli(pipeline, bl_standin, "--quarter", "2026Q4")
    assert table.returncode == 0, table.stderr
    assert "ruta 05" in table.stdout and f"{Decimal(expected['10']) / 100:.2f}" in table.stdout
    assert "Differences: none" in table.stdout


def test_every_difference_is_named_and_bl_vouchers_not_dayclose_s_are_listed(
    make_pipeline: Any, bl_standin: BLStandIn, bl_company: Company
) -> None:
    h = make_pipeline(plan=WRONG)
    booked = sampledata.store_day(ORG, "s1", date(2026, 11, 24), 15)
    held = sampledata.store_day(ORG, "s2", date(2026, 11, 24), 10)
    corrected = sampledata.store_day(ORG, "s1", date(2026, 11, 25), 15)
    h.publish_sales([*booked.events(), booked.day_closed(), *corrected.events(), corrected.day_closed()])
    h.publish_sales([*held.events(), held.day_closed(lie_receipt_count=1)])
    h.wait_for(lambda x: len(x.outcomes_for(ORG, "SUCCEEDED")) == 2, what="two days booked")
    h.wait_for(lambda x: len(x.outcomes_for(ORG, "FAILED")) == 1, what="the held day's mismatch")
    h.save_plan(ORG, sampledata.SAMPLE_PLAN)
    assert reexport(h, "s1", date(2026, 11, 25)).returncode == 0  # dated today, in December
    h.wait_for(lambda x: len(x.outcomes_for(ORG, "SUCCEEDED")) == 4, what="the correction")
    with bl_company.lock:  # the merchant's own invoice, booked in BL by hand
        book(
            bl_company,
            {
                "journalId": "B",
                "journalEntryDate": "2026-11-20",
                "journalEntryText": "Faktura 1001",
                "ledgerEntries": [
                    {"accountId": "1510", "amount": Decimal("625.00")},
                    {"accountId": "2611", "amount": Decimal("-125.00")},
                    {"accountId": "3001", "amount": Decimal("-500.00")},
                ],
            },
        )

    november = report(h.settings, ORG, NOV, h.exporter)
    causes = {(c.cause, c.store_id, c.business_date) for c in november.report.causes}
    # The correction of s1's 25th, dated in December, only moves sales between accounts: per rate it nets to zero
    # in November (a cause of zero is no cause). The held day is the one difference.
    assert causes == {(Cause.RECONCILIATION_MISMATCH, "s2", date(2026, 11, 24))}
    assert explained_total(november.report) == total({r.rate: r.difference} for r in november.report.rates)
    vat = {a.account: a for a in november.bl.accounts}["2611"]
    assert november.bl.status == Comparison.COMPARED
    assert [(v.voucher, v.amount) for v in vat.other_vouchers] == [("B 1", -12_500)]
    assert vat.difference == -12_500 and not vat.missing_in_bl

    december = report(h.settings, ORG, DEC, h.exporter)
    into = [c for c in december.report.causes if c.cause == Cause.CORRECTION_DATED_INTO]
    assert len(into) == 2  # the reversal and the new voucher, dated in December for a November day
    assert total(c.amounts for c in into) == total({r.rate: r.booked} for r in december.report.rates) == {}
    assert not any(a.difference for a in december.bl.accounts)

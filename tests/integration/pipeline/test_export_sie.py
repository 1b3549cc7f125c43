"""`dayclose export-sie` writes what was booked as an SIE 4I file an accountant can import."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest

from devstack import sampledata
from devstack.bl_standin import BLStandIn, Company
from devstack.bl_standin.booking import book
from devstack.harness import Harness
from devstack.oracle import booked_totals
from exporters.sie import BOOKED_PROSA, UNBOOKED_PROSA
from tests.integration.pipeline.conftest import ORG
from tests.unit.exporters.sie4_strict_checker import parse

pytestmark = pytest.mark.integration


def test_a_month_with_cost_centres_exports_as_a_valid_sie_file_declaring_what_it_uses(
    make_pipeline: Callable[..., Harness], bl_standin: BLStandIn, bl_company: Company, tmp_path: Path
) -> None:
    plan = {**sampledata.SAMPLE_PLAN, "store_cost_centres": {"s1": "S1", "s2": "S2"}}
    pipeline = make_pipeline(plan=plan)
    days = [sampledata.store_day(ORG, store, date(2026, 11, d), 20) for d in (24, 25) for store in ("s1", "s2")]
    pipeline.publish_sales([e for d in days for e in (*d.events(), d.day_closed())])
    pipeline.wait_for(lambda h: len(h.outcomes_for(ORG, "SUCCEEDED")) == 4, what="four store-days booked")

    env = {
        **os.environ,
        "DATABASE_URL": pipeline.settings.database_url,
        "KAFKA_BOOTSTRAP_SERVERS": "unused:9092",
        "BL_CLIENT_ID": "x",
        "BL_CLIENT_SECRET": "x",
    }
    said = subprocess.run(
        [sys.executable, "-m", "dayclose", "export-sie", "--org", ORG, "--from", "2026-11-01", "--to", "2026-11-30"],
        env=env,
        check=True,
        timeout=60,
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert "ALREADY IN Björn Lundén" in said.stdout and "--unbooked" in said.stdout
    (out,) = tmp_path.iterdir()
    assert out.suffix == ".si"  # the conventional extension of an SIE 4I import file

    parsed = parse(out.read_bytes())  # strict: raises on any SIE 4 rule broken, undeclared accounts included
    assert parsed.header["#PROSA"] == [BOOKED_PROSA]  # importing it into the same company books it twice
    chart = {
        a["accountId"]: a["accountName"] for v in bl_standin.vouchers(bl_company.user_key) for a in v["ledgerEntries"]
    }
    assert parsed.accounts == chart  # every account used, named as in BL's chart
    assert parsed.dimensions == {"1": "Kostnadsställe"}
    assert parsed.objects == {("1", "S1"): "Butik 1", ("1", "S2"): "Butik 2"}  # the stand-in's cost centre names
    sie_totals: dict[str, int] = {}
    for voucher in parsed.vouchers:
        for trans in voucher.trans:
            sie_totals[trans.account] = sie_totals.get(trans.account, 0) + int(trans.amount * 100)
    assert len(parsed.vouchers) == 4
    assert {k: v for k, v in sie_totals.items() if v} == dict(booked_totals(bl_standin.vouchers(bl_company.user_key)))


def test_vouchers_bl_refused_export_alone_and_once_imported_the_integration_finds_them(
    pipeline: Harness, bl_standin: BLStandIn, bl_company: Company, tmp_path: Path
) -> None:
    """--unbooked: only what the integration did not book; imported into BL (text, series and date unchanged), the
    integration's look-up by reference finds it and books nothing twice."""
    booked = sampledata.store_day(ORG, "s1", date(2026, 11, 24), 10)
    refused = sampledata.store_day(ORG, "s2", date(2026, 11, 24), 10)
    pipeline.publish_sales([*booked.events(), booked.day_closed()])
    pipeline.wait_for(lambda h: len(h.outcomes_for(ORG, "SUCCEEDED")) == 1, what="one day booked")
    with bl_company.lock:  # November locked in BL: the second day is refused (its voucher is kept, not booked)
        bl_company.lock_through(date(2026, 11, 30))
    pipeline.publish_sales([*refused.events(), refused.day_closed()])
    pipeline.wait_for(lambda h: len(h.outcomes_for(ORG, "FAILED")) == 1, what="the second day refused")

    env = {
        **os.environ,
        "DATABASE_URL": pipeline.settings.database_url,
        "KAFKA_BOOTSTRAP_SERVERS": "unused:9092",
        "BL_CLIENT_ID": "x",
        "BL_CLIENT_SECRET": "x",
    }
    said = subprocess.run(
        [sys.executable, "-m", "dayclose", "export-sie", "--org", ORG, "--from", "2026-11-01", "--to", "2026-11-30"]
        + ["--unbooked", "-o", str(tmp_path / "unbooked.si")],
        env=env,
        check=True,
        timeout=60,
        capture_output=True,
        text=True,
    )
    assert "did NOT book" in said.stdout
    parsed = parse((tmp_path / "unbooked.si").read_bytes())
    assert parsed.header["#PROSA"] == [UNBOOKED_PROSA]
    (voucher,) = parsed.vouchers
    assert "Butik s2" in voucher.text and voucher.day == date(2026, 11, 24)
    assert len(bl_standin.vouchers(bl_company.user_key)) == 1  # only the first day is in BL

    with bl_company.lock:  # the accountant unlocks November and imports the file into BL
        bl_company.financial_year_for(date(2026, 11, 24)).first_open_period = ""  # type: ignore[union-attr]
        book(
            bl_company,
            {
                "journalId": voucher.series,
                "journalEntryDate": voucher.day.isoformat(),
                "journalEntryText": voucher.text,
                "ledgerEntries": [{"accountId": t.account, "amount": t.amount} for t in voucher.trans],
            },
        )
    pipeline.publish_command(sampledata.manual_export(ORG, retry=True))
    pipeline.wait_for(lambda h: len(h.outcomes_for(ORG, "SUCCEEDED")) == 2, what="the refused day found in BL")
    assert pipeline.outcomes_for(ORG, "SUCCEEDED")[1]["voucher"]["already_existed"] is True
    assert len(bl_standin.vouchers(bl_company.user_key)) == 2  # found by its reference, not posted again

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
from devstack.harness import Harness
from devstack.oracle import booked_totals
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
    subprocess.run(
        [sys.executable, "-m", "dayclose", "export-sie", "--org", ORG, "--from", "2026-11-01", "--to", "2026-11-30"],
        env=env,
        check=True,
        timeout=60,
        cwd=tmp_path,
    )
    (out,) = tmp_path.iterdir()
    assert out.suffix == ".si"  # the conventional extension of an SIE 4I import file

    parsed = parse(out.read_bytes())  # strict: raises on any SIE 4 rule broken, undeclared accounts included
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

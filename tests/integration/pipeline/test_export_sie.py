"""`dayclose export-sie` writes what was booked as an SIE 4I file an accountant can import."""

from __future__ import annotations

import os
import subprocess
import sys
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


def test_booked_days_export_as_a_valid_sie_file_with_the_same_totals(
    pipeline: Harness, bl_standin: BLStandIn, bl_company: Company, tmp_path: Path
) -> None:
    days = [sampledata.store_day(ORG, "s1", date(2026, 11, d), 20) for d in (24, 25)]
    pipeline.publish_sales([e for d in days for e in (*d.events(), d.day_closed())])
    pipeline.wait_for(lambda h: len(h.outcomes_for(ORG, "SUCCEEDED")) == 2, what="two days booked")

    out = tmp_path / "export.se"
    env = {**os.environ, "DATABASE_URL": pipeline.settings.database_url, "KAFKA_BOOTSTRAP_SERVERS": "unused:9092",
           "BL_CLIENT_ID": "x", "BL_CLIENT_SECRET": "x"}
    subprocess.run([sys.executable, "-m", "dayclose", "export-sie", "--org", ORG, "--from", "2026-11-01",
                    "--to", "2026-11-30", "-o", str(out)], env=env, check=True, timeout=60)

    parsed = parse(out.read_bytes())  # strict: raises on any SIE 4 rule broken, unbalanced vouchers included
    sie_totals: dict[str, int] = {}
    for voucher in parsed.vouchers:
        for trans in voucher.trans:
            sie_totals[trans.account] = sie_totals.get(trans.account, 0) + int(trans.amount * 100)
    assert len(parsed.vouchers) == 2
    assert {k: v for k, v in sie_totals.items() if v} == dict(booked_totals(bl_standin.vouchers(bl_company.user_key)))

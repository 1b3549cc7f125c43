"""The merchant's VAT reporting setting and the VAT-period report over the API (its OpenAPI document is fuzzed in
test_fuzz.py; these are the behaviours)."""

from __future__ import annotations

import time
from typing import Any

from devstack import sampledata
from devstack.bl_standin import BLStandIn
from devstack.harness import Harness
from devstack.oracle import vat_boxes
from tests.integration.api.conftest import Api, days_ago, set_up_active

ORG = "org-vat"


def test_the_vat_reporting_setting(api: Api, bl_standin: BLStandIn) -> None:
    m, _ = set_up_active(api, bl_standin, ORG)
    assert m.get("/vat-reporting").json() == {"frequency": "MONTHLY", "turnover_above_40_msek": False, "is_set": False}
    refused = m.put("/vat-reporting", {"frequency": "QUARTERLY", "turnover_above_40_msek": True})
    assert refused.status_code == 422 and refused.json()["field_errors"][0]["field"] == "turnover_above_40_msek"
    assert m.put("/vat-reporting", {"frequency": "WEEKLY"}).status_code == 422
    saved = m.put("/vat-reporting", {"frequency": "MONTHLY", "turnover_above_40_msek": True})
    assert saved.status_code == 200, saved.text
    assert m.get("/vat-reporting").json() == {"frequency": "MONTHLY", "turnover_above_40_msek": True, "is_set": True}
    assert m.put("/vat-reporting", {"frequency": "QUARTERLY"}).json()["is_set"] is True
    assert api.sql("SELECT vat_frequency, vat_above_40_msek FROM integrations WHERE organization_id = %s", ORG) == [
        ("QUARTERLY", False)
    ]


def test_the_report_takes_exactly_one_period(api: Api, bl_standin: BLStandIn) -> None:
    m, _ = set_up_active(api, bl_standin, ORG)
    for params in ({}, {"period": "2026-11", "quarter": "2026Q4"}, {"period": "2026-13"}, {"quarter": "2026Q5"}):
        assert m.get("/vat-report", params=params).status_code == 422, params
    other = api.merchant("org-other")
    assert other.client.get(f"{m.base}/vat-report?period=2026-11", headers=other.headers()).status_code == 403


def test_the_report_of_a_booked_day(api: Api, bl_standin: BLStandIn, pipeline: Harness) -> None:
    m, _ = set_up_active(api, bl_standin, ORG)
    day = days_ago(1)
    store_day = sampledata.store_day(ORG, "s1", day, 20)
    pipeline.publish_sales([*store_day.events(), store_day.day_closed()])
    deadline = time.monotonic() + 30
    while not m.get("/exports", params={"status": "booked"}).json()["items"]:
        assert time.monotonic() < deadline, "the day was not booked"
        time.sleep(0.1)  # deadline-bounded polling interval
    body: dict[str, Any] = m.get("/vat-report", params={"period": f"{day:%Y-%m}"}).json()
    expected = vat_boxes(store_day.events())
    assert body["boxes"] == {f"box_{k}": v for k, v in expected.items()}
    assert body["period"]["label"] == f"{day:%Y-%m}" and body["z_reports"] == 1
    assert [(r["rate_bp"], r["difference"]) for r in body["rates"]] == [
        (r["rate_bp"], {"gross_ore": 0, "net_ore": 0, "vat_ore": 0}) for r in body["rates"]
    ]
    (voucher,) = body["vouchers"]
    assert (voucher["kind"], voucher["series"], voucher["business_date"]) == ("DAY_CLOSE", "D", day.isoformat())
    assert body["bl"]["status"] == "COMPARED" and all(a["difference_ore"] == 0 for a in body["bl"]["accounts"])
    assert body["filing"] is not None and body["filing"]["status"] == "OPEN"  # this month has not ended
    offline = m.get("/vat-report", params={"period": f"{day:%Y-%m}", "compare_bl": "false"}).json()
    assert offline["bl"] == {"status": "NOT_CONNECTED", "detail": None, "accounts": []}
    assert offline["boxes"] == body["boxes"]

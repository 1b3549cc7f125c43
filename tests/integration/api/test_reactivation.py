"""Settings changed while inactive take effect on reactivation: the failed export is retried and booked."""

from __future__ import annotations

from devstack.bl_standin import BLStandIn
from devstack.harness import Harness
from devstack.sampledata import SAMPLE_PLAN, store_day
from tests.integration.api.conftest import Api, days_ago, set_up_active

ORG = "org-react"


def test_a_failure_fixed_while_inactive_is_booked_on_reactivation(
    api: Api, pipeline: Harness, bl_standin: BLStandIn
) -> None:
    m, key = set_up_active(api, bl_standin, ORG)
    day = store_day(ORG, "s1", days_ago(1), 6, seed=5)
    for receipt in day.receipts:
        for payment in receipt["payload"][1]["payments"]:
            if payment["method"] == "swish":
                payment["method"] = "vipps"
    pipeline.publish_sales([*day.events(), day.day_closed()])
    api.wait_sql("SELECT 1 FROM exports WHERE organization_id = %s AND status = 'failed'", ORG, what="the failure")

    assert m.post("/deactivation").status_code == 200
    plan = {**SAMPLE_PLAN, "payment_methods": {**SAMPLE_PLAN["payment_methods"], "vipps": "1930"}}
    r = m.put("/account-plan", plan)
    assert r.status_code == 200 and r.json()["retries_queued"] == 0, r.text  # inactive: nothing runs yet
    assert [d["reason_code"] for d in m.get("/missing-days").json()["items"]] == ["UNMAPPED_ITEMS"]
    assert m.get("/status").json()["banner"] is None  # the merchant switched it off: no banner

    assert m.post("/activation").status_code == 200
    api.wait_sql("SELECT 1 FROM exports WHERE organization_id = %s AND status = 'booked'", ORG, what="booked")
    assert len(bl_standin.vouchers(key)) == 1
    assert m.get("/missing-days").json()["items"] == []

"""The merchant's journey through BackOffice (brief §1 steps 2–7), against the running service."""

from __future__ import annotations

import time
import uuid
from typing import Any

from devstack.bl_standin import BLStandIn
from devstack.harness import Harness
from devstack.sampledata import SAMPLE_PLAN, StoreDay, store_day
from tests.integration.api.conftest import Api, Merchant, days_ago

ORG = "org-journey"
STORE = "s1"


def publish_day(pipeline: Harness, day: StoreDay, close: bool = True) -> None:
    pipeline.publish_sales([*day.events(), *([day.day_closed()] if close else [])])


def outcome(
    pipeline: Harness, status: str, business_date: Any, trigger: str | None = None, timeout: float = 30.0
) -> dict[str, Any]:
    def found(h: Harness) -> list[dict[str, Any]]:
        return [
            o
            for o in h.outcomes_for(ORG, status)
            if o["business_date"] == business_date and (trigger is None or o["trigger"] == trigger)
        ]

    pipeline.wait_for(lambda h: bool(found(h)), timeout=timeout, what=f"{status} outcome for {business_date}")
    return found(pipeline)[-1]


def verify_key_cases(bl_standin: BLStandIn, m: Merchant) -> str:
    company = bl_standin.register_company(name="Kafé Journey AB", org_number="5561234567", activated=False)
    r = m.put("/key", {"public_key": "not-a-key"})
    assert (r.status_code, r.json()["code"]) == (422, "KEY_MALFORMED")
    r = m.put("/key", {"public_key": str(uuid.uuid4())})
    assert (r.status_code, r.json()["code"]) == (422, "KEY_UNKNOWN")
    assert r.json()["field_errors"][0]["field"] == "public_key"
    r = m.put("/key", {"public_key": company.user_key})
    assert (r.status_code, r.json()["code"]) == (422, "KEY_NOT_ACTIVATED")
    company.activated = True
    bl_standin.set_faults(error_rate=1.0, error_status=503, paths=("/details",))
    r = m.put("/key", {"public_key": company.user_key})
    assert (r.status_code, r.json()["code"]) == (503, "BL_UNAVAILABLE")
    assert "Retry-After" in r.headers
    bl_standin.reset_faults()
    r = m.put("/key", {"public_key": company.user_key})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["company"] == {"name": "Kafé Journey AB", "org_number": "5561234567"}
    assert company.user_key not in r.text and body["key"]["masked"].startswith(company.user_key[:4])
    return company.user_key


def test_merchant_journey(api: Api, pipeline: Harness, bl_standin: BLStandIn) -> None:  # noqa: PLR0915 - one story
    m = api.merchant(ORG)
    key = verify_key_cases(bl_standin, m)
    stored = api.sql("SELECT bl_key_encrypted FROM integrations WHERE organization_id = %s", ORG)[0][0]
    assert key.encode() not in bytes(stored)

    # Sales from before the start date are stored but will not be exported: the start date warns.
    start = days_ago(5)
    early = store_day(ORG, STORE, days_ago(7), 4, seed=1)
    publish_day(pipeline, early)
    api.wait_sql("SELECT 1 FROM day_closes WHERE organization_id = %s", ORG, what="early day ingested")
    r = m.put("/start-date", {"start_date": str(days_ago(-1))})
    assert (r.status_code, r.json()["code"]) == (422, "START_DATE_IN_FUTURE")
    r = m.put("/start-date", {"start_date": str(start)})
    assert r.status_code == 200, r.text
    assert [w["code"] for w in r.json()["warnings"]] == ["SALES_BEFORE_START_DATE"]

    # Activation is refused until the plan is complete.
    r = m.post("/activation")
    assert (r.status_code, r.json()["code"]) == (409, "NOT_READY")
    assert "PLAN_MISSING" in [b["code"] for b in r.json()["details"]["blocking"]]

    # A plan with an account BL does not have, and one it has closed: per-field errors, nothing saved.
    bl_standin.company(key).close_account("2829")
    bad = {**SAMPLE_PLAN, "payment_methods": {**SAMPLE_PLAN["payment_methods"], "card": "1581"}}
    r = m.put("/account-plan", bad)
    assert (r.status_code, r.json()["code"]) == (422, "INVALID_PLAN")
    errors = {(e["field"], e["code"]) for e in r.json()["field_errors"]}
    assert errors == {("payment_methods.card", "ACCOUNT_MISSING_IN_BL"), ("events.TIPS", "ACCOUNT_CLOSED")}
    assert m.get("/account-plan").json()["version"] == 0
    bl_standin.company(key).add_account("2829", "Övriga kortfristiga skulder till anställda")  # reopened

    r = m.put("/account-plan", SAMPLE_PLAN)
    assert r.status_code == 200, r.text
    assert r.json()["plan"]["complete"] is True and r.json()["plan"]["missing"] == []

    r = m.post("/activation")
    assert r.status_code == 200, r.text
    assert r.json()["integration"]["status"] == "active"
    assert (m.post("/activation").status_code, m.post("/activation").json()["code"]) == (409, "ALREADY_ACTIVE")

    # A day with a new payment method fails; the wizard shows what is missing and the banner says why.
    d1 = days_ago(3)
    day1 = store_day(ORG, STORE, d1, 6, seed=2)
    for payment in day1.receipts[0]["payload"][1]["payments"]:
        payment["method"] = "klarna"
    publish_day(pipeline, day1)
    failed = outcome(pipeline, "FAILED", d1)
    assert failed["failure"]["reason_code"] == "UNMAPPED_ITEMS"
    missing = m.get("/account-plan/missing-items").json()["items"]
    assert {
        "kind": "payment_method",
        "code": "klarna",
        "vat_rate": None,
        "source": "sales",
        "last_seen": str(d1),
    } in missing
    status = m.get("/status").json()
    assert status["banner"]["reason_code"] == "UNMAPPED_ITEMS"
    klarna = {"kind": "payment_method", "code": "klarna", "message": "payment method 'klarna'"}
    assert klarna in status["banner"]["details"]
    days = m.get("/missing-days").json()["items"]
    assert [(d["business_date"], d["reason_code"]) for d in days] == [(str(d1), "UNMAPPED_ITEMS")]

    # Mapping it retries the failed export by itself, and it is booked.
    plan = {**SAMPLE_PLAN, "payment_methods": {**SAMPLE_PLAN["payment_methods"], "klarna": "1580"}}
    r = m.put("/account-plan", plan)
    assert r.status_code == 200 and r.json()["retries_queued"] == 1, r.text
    outcome(pipeline, "SUCCEEDED", d1)
    booked = m.get("/exports", params={"status": "booked"}).json()["items"]
    assert [(e["business_date"], e["voucher_series"]) for e in booked] == [(str(d1), "D")]
    assert booked[0]["voucher_number"] >= 1 and booked[0]["total_debit_ore"] > 0
    assert m.get("/status").json()["banner"] is None
    assert m.get("/missing-days").json()["items"] == []

    # Manual export of today's sales so far.
    today = store_day(ORG, STORE, days_ago(0), 3, seed=3, with_extras=False)
    publish_day(pipeline, today, close=False)
    api.wait_sql(
        "SELECT 1 FROM sales WHERE organization_id = %s AND business_date = %s",
        ORG,
        days_ago(0),
        what="today's sales ingested",
    )
    r = m.post("/manual-exports", {})
    assert r.status_code == 202, r.text
    request_id = r.json()["request_id"]
    outcome(pipeline, "SUCCEEDED", days_ago(0), trigger="MANUAL")
    deadline = time.monotonic() + 10
    while m.get(f"/manual-exports/{request_id}").json()["state"] != "done" and time.monotonic() < deadline:
        time.sleep(0.1)
    assert m.get(f"/manual-exports/{request_id}").json()["state"] == "done"

    # Deactivated: a closed day is stored but not exported, and shows as missing with why.
    vouchers_before = len(bl_standin.vouchers(key))
    assert m.post("/deactivation").status_code == 200
    assert (m.post("/deactivation").status_code, m.post("/manual-exports").status_code) == (409, 409)
    d2 = days_ago(2)
    publish_day(pipeline, store_day(ORG, STORE, d2, 5, seed=4))
    api.wait_sql(
        "SELECT 1 FROM day_closes WHERE organization_id = %s AND business_date = %s", ORG, d2, what="day 2 ingested"
    )
    api.wait_sql(
        "SELECT 1 WHERE NOT EXISTS (SELECT 1 FROM export_jobs WHERE organization_id = %s)",
        ORG,
        what="the inactive day's job skipped",
    )
    assert len(bl_standin.vouchers(key)) == vouchers_before
    days = m.get("/missing-days").json()["items"]
    assert [(d["business_date"], d["reason_code"]) for d in days] == [(str(d2), "INTEGRATION_INACTIVE")]

    # Reactivated: the missed day is exported.
    r = m.post("/activation", {})
    assert r.status_code == 200 and r.json()["exports_queued"] == 1, r.text
    outcome(pipeline, "SUCCEEDED", d2)
    assert len(bl_standin.vouchers(key)) == vouchers_before + 1
    assert m.get("/missing-days").json()["items"] == []
    assert not [v for v in bl_standin.vouchers(key) if str(early.business_date) in str(v)]

"""The wizard's rules one by one: order of steps, start date bounds, per-field plan errors, illegal moves."""

from __future__ import annotations

import uuid

from devstack.bl_standin import BLStandIn
from devstack.sampledata import SAMPLE_PLAN
from tests.integration.api.conftest import Api, days_ago, set_up_active

ORG = "org-wizard"


def test_steps_and_their_errors(api: Api, bl_standin: BLStandIn) -> None:
    m = api.merchant(ORG)
    assert m.get().json()["blocking"][0]["code"] == "KEY_MISSING"
    assert (m.put("/account-plan", SAMPLE_PLAN).status_code, m.put("/account-plan", SAMPLE_PLAN).json()["code"]) == (
        409,
        "KEY_MISSING",
    )
    assert m.post("/deactivation").json()["code"] == "NOT_ACTIVE"
    company = bl_standin.register_company(name="Wizard AB", org_number="5560000068")
    assert m.put("/key", {"public_key": company.user_key}).status_code == 200

    r = m.put("/start-date", {"start_date": str(days_ago(api.settings.sales_retention_days + 1))})
    assert (r.status_code, r.json()["field_errors"][0]["code"]) == (422, "START_DATE_TOO_OLD")
    r = m.put("/start-date", {"start_date": "2026-02-30"})
    assert (r.status_code, r.json()["field_errors"][0]["field"]) == (422, "start_date")
    assert m.put("/start-date", {"start_date": str(days_ago(2))}).json()["warnings"] == []

    bad = {
        **SAMPLE_PLAN,
        "series": "DD",
        "vat_rates": {**SAMPLE_PLAN["vat_rates"], "99999": "2611"},
        "events": {**SAMPLE_PLAN["events"], "PARTY": "3990"},
        "store_cost_centres": {"s1": "S9"},
    }
    r = m.put("/account-plan", bad)
    assert r.status_code == 422
    assert {e["field"] for e in r.json()["field_errors"]} == {"series", "vat_rates.99999", "events.PARTY"}
    r = m.put("/account-plan", {**SAMPLE_PLAN, "store_cost_centres": {"s1": "S9", "s2": "S2"}})
    assert [(e["field"], e["code"]) for e in r.json()["field_errors"]] == [
        ("store_cost_centres.s1", "COST_CENTRE_MISSING")
    ]

    # A payment method the POS registers must be mapped before the integration can be activated.
    r = m.post("/registered-items", {"payment_methods": [{"code": "vipps", "name": "Vipps"}]})
    assert r.json()["payment_methods"] == [{"code": "vipps", "name": "Vipps", "vat_rates": None}]
    assert m.put("/account-plan", SAMPLE_PLAN).json()["plan"]["missing"] == [
        {"kind": "payment_method", "code": "vipps", "vat_rate": None, "source": "registered", "last_seen": None}
    ]
    r = m.post("/activation")
    assert r.status_code == 409 and [b["code"] for b in r.json()["details"]["blocking"]] == ["PLAN_INCOMPLETE"]
    plan = {**SAMPLE_PLAN, "payment_methods": {**SAMPLE_PLAN["payment_methods"], "vipps": "1930"}}
    assert m.put("/account-plan", plan).json()["plan"]["complete"] is True
    assert m.get().json()["ready_to_activate"] is True
    assert m.post("/activation", {"start_date": str(days_ago(1))}).json()["code"] == "START_DATE_ON_FIRST_ACTIVATION"
    assert m.post("/activation").status_code == 200

    assert m.put("/start-date", {"start_date": str(days_ago(1))}).json()["code"] == "INTEGRATION_ACTIVE"
    other = bl_standin.register_company(name="Other AB", org_number="5561110000")
    assert m.put("/key", {"public_key": other.user_key}).json()["code"] == "KEY_COMPANY_CHANGED"
    assert m.get(f"/manual-exports/{uuid.uuid4()}").status_code == 404


def test_reactivation_from_a_new_start_date(api: Api, bl_standin: BLStandIn) -> None:
    m, _ = set_up_active(api, bl_standin, ORG)
    assert m.post("/deactivation").status_code == 200
    r = m.post("/activation", {"start_date": str(days_ago(1))})
    assert r.status_code == 200 and r.json()["integration"]["start_date"] == str(days_ago(1))
    assert r.json()["integration"]["deactivated_by"] is None


def test_a_company_whose_organization_number_bl_gives_is_not_valid_cannot_be_activated(
    api: Api, bl_standin: BLStandIn
) -> None:
    """Issue #20 finding 5: BL's company org number was stored and written to SIE's #ORGNR unchecked; BL's callbacks
    name the company by it, so an invalid one would never match. Checked (Luhn) before activation."""
    m = api.merchant("org-orgnr")
    forged = bl_standin.register_company(name="Forged AB", org_number='556000-0050 "\r\n#KONTO 1910 "x"')
    assert m.put("/key", {"public_key": forged.user_key}).status_code == 200
    assert m.put("/start-date", {"start_date": str(days_ago(2))}).status_code == 200
    assert m.put("/account-plan", SAMPLE_PLAN).status_code == 200
    state = m.get().json()
    assert state["ready_to_activate"] is False
    assert [b["code"] for b in state["blocking"]] == ["COMPANY_ORG_NUMBER_INVALID"]
    assert "\r" not in state["blocking"][0]["message"] and "\n" not in state["blocking"][0]["message"]
    r = m.post("/activation")
    assert r.status_code == 409 and [b["code"] for b in r.json()["details"]["blocking"]] == [
        "COMPANY_ORG_NUMBER_INVALID"
    ]
    fixed = bl_standin.register_company(name="Fixed AB", org_number="556000-0050")
    assert m.put("/key", {"public_key": fixed.user_key}).status_code == 200
    assert m.post("/activation").status_code == 200

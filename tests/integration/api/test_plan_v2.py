"""The account plan's format 2 through the running API: sales per (product group, VAT rate), checked against
the VAT codes of the company's chart in BL, the migration's review list, and the "Varugrupper" rows."""

from __future__ import annotations

import psycopg
from psycopg.types.json import Jsonb

from devstack.bl_standin import BLStandIn
from devstack.harness import Harness
from devstack.sampledata import SAMPLE_PLAN, store_day
from tests.integration.api.conftest import Api, days_ago, set_up_active

ORG = "org-plan-v2"


def test_a_sales_account_whose_vat_code_says_another_rate_is_a_field_error(api: Api, bl_standin: BLStandIn) -> None:
    m, _ = set_up_active(api, bl_standin, ORG)
    coffee_on_12 = {
        **SAMPLE_PLAN,
        "product_groups": {**SAMPLE_PLAN["product_groups"], "coffee": {"600": "3002", "1200": "3002"}},
    }
    r = m.put("/account-plan", coffee_on_12)
    assert (r.status_code, r.json()["code"]) == (422, "INVALID_PLAN")
    assert r.json()["field_errors"] == [
        {
            "field": "product_groups.coffee.600",
            "code": "ACCOUNT_VAT_CODE_MISMATCH",
            "message": "account 3002 has VAT code 2 (12 %) in Björn Lundén but takes sales at 6 % VAT",
        }
    ]
    r = m.put("/account-plan", {**coffee_on_12, "product_groups": {"coffee": {"600": "3003", "1200": "3002"}}})
    assert r.status_code == 200, r.text


def test_bad_plans_get_per_field_errors_and_format_1_is_refused(api: Api, bl_standin: BLStandIn) -> None:
    m, _ = set_up_active(api, bl_standin, ORG)
    r = m.put("/account-plan", {**SAMPLE_PLAN, "product_groups": {"coffee": "3002"}})  # format 1
    assert (r.status_code, r.json()["code"]) == (422, "INVALID_REQUEST")
    assert [e["field"] for e in r.json()["field_errors"]] == ["product_groups.coffee"]
    events = {k: v for k, v in SAMPLE_PLAN["events"].items() if k not in ("CASH_SHORTAGE", "CASH_OVERAGE")}
    r = m.put(
        "/account-plan",
        {
            **SAMPLE_PLAN,
            "product_groups": {"spa_card": {"2500": "2421"}, "wine": {"2500": "2611"}},
            "events": {**events, "CASH_DIFFERENCE": "3590"},
            "single_purpose_methods": {"gift_card": 2500},
        },
    )
    assert r.status_code == 422
    assert sorted((e["field"], e["code"]) for e in r.json()["field_errors"]) == [
        ("events.CASH_DIFFERENCE", "INVALID_VALUE"),
        ("product_groups.spa_card.2500", "INVALID_VALUE"),  # a liability at 25 % must be flagged single-purpose
        ("product_groups.wine.2500", "INVALID_VALUE"),  # a VAT account is no sales account
        ("single_purpose_methods.gift_card", "INVALID_VALUE"),  # the multi-purpose card's method
    ]


def test_a_migrated_plan_shows_what_needs_review_until_it_is_saved(
    api: Api, pipeline: Harness, bl_standin: BLStandIn
) -> None:
    m, _ = set_up_active(api, bl_standin, ORG)
    day = store_day(ORG, "s1", days_ago(1), 20, seed=3)
    pipeline.publish_sales([*day.events(), day.day_closed()])
    api.wait_sql("SELECT 1 FROM exports WHERE organization_id = %s AND status = 'booked'", ORG, what="the day booked")
    migrated = {
        **SAMPLE_PLAN,
        "version": 2,
        "product_groups": {"coffee": {"600": "3003", "1200": "3003"}},
        "review": ["product_groups.coffee.600", "product_groups.coffee.1200", "events.CASH_DIFFERENCE"],
    }
    with psycopg.connect(api.settings.database_url) as conn:
        conn.execute("UPDATE account_plans SET plan = %s WHERE organization_id = %s", (Jsonb(migrated), ORG))

    plan = m.get("/account-plan").json()
    assert [r["field"] for r in plan["needs_review"]] == [
        "product_groups.coffee.600",
        "product_groups.coffee.1200",
        "events.CASH_DIFFERENCE",
    ]
    rows = {(r["product_group"], r["vat_rate"]): r for r in plan["product_group_rates"]}
    assert rows[("coffee", 1200)]["account"] == "3003" and rows[("coffee", 1200)]["needs_review"] is True
    assert rows[("coffee", 1200)]["account_source"] == "product_group" and "sales" in rows[("coffee", 1200)]["seen_in"]
    assert rows[("pastry", 600)]["account"] == "3003" and rows[("pastry", 600)]["account_source"] == "default"

    fixed = {**SAMPLE_PLAN, "product_groups": {"coffee": {"600": "3003", "1200": "3002"}}}
    r = m.put("/account-plan", fixed)
    assert r.status_code == 200, r.text
    assert r.json()["plan"]["needs_review"] == []
    assert r.json()["plan"]["format_version"] == 2


def test_registered_product_groups_say_their_rates(api: Api, bl_standin: BLStandIn) -> None:
    m, _ = set_up_active(api, bl_standin, ORG)
    no_default_at_6 = {**SAMPLE_PLAN, "sales_default_by_rate": {"2500": "3001", "1200": "3002", "0": "3004"}}
    assert m.put("/account-plan", no_default_at_6).status_code == 200
    r = m.post("/registered-items", {"product_groups": [{"code": "bread", "vat_rates": [600, 1200]}]})
    assert r.json()["product_groups"] == [{"code": "bread", "name": None, "vat_rates": [600, 1200]}]
    r = m.post("/registered-items", {"product_groups": [{"code": "bread", "vat_rates": [2500]}]})
    assert r.json()["product_groups"][0]["vat_rates"] == [600, 1200, 2500]  # rates only ever grow
    missing = m.get("/account-plan/missing-items").json()["items"]
    assert [(i["kind"], i["code"], i["vat_rate"], i["source"]) for i in missing] == [
        ("product_group", "bread", 600, "registered")
    ]

from __future__ import annotations

from datetime import date

from backoffice.bl import Chart
from backoffice.models import PlanIn
from backoffice.plan_rules import STANDARD_ITEMS, chart_errors, fixed_stores, missing_items, to_plan
from devstack.sampledata import SAMPLE_PLAN

PLAN = to_plan("org", PlanIn(**SAMPLE_PLAN))


def test_the_chart_check_names_each_field() -> None:
    accounts = {a: False for a in ("1910", "1580", "1930", "2421", "1510", "2611", "2621", "2631", "3001", "3002",
                                   "3003", "3740", "3590", "3990")}
    accounts["2890"] = True
    plan = to_plan("org", PlanIn(**{**SAMPLE_PLAN, "store_cost_centres": {"s1": "S1", "s2": "S9"}}))
    errors = {(e.field, e.code) for e in chart_errors(plan, Chart(accounts, {"S1": False}))}
    assert errors == {("events.TIPS", "ACCOUNT_CLOSED"), ("store_cost_centres.s2", "COST_CENTRE_MISSING")}


def test_missing_items_come_from_sales_registrations_and_the_standard_set() -> None:
    seen = {("payment_method", "klarna"): date(2026, 5, 4), ("payment_method", "card"): date(2026, 5, 4)}
    registered = [("product_group", "wine"), ("payment_method", "klarna")]
    missing = missing_items(PLAN, seen, registered)
    assert [(m.kind, m.code, m.source) for m in missing] == [
        ("payment_method", "klarna", "sales"), ("product_group", "wine", "registered")]
    assert len(missing_items(None, {}, [])) == len(STANDARD_ITEMS)


def test_only_failures_the_plan_cures_are_retried() -> None:
    failed = [
        ("s1", "UNMAPPED_ITEMS", [{"kind": "payment_method", "code": "card", "message": None}]),
        ("s2", "UNMAPPED_ITEMS", [{"kind": "payment_method", "code": "klarna", "message": None}]),
        ("s3", "ACCOUNT_CLOSED", [{"kind": "accounts", "code": "['2890']"}]),
        ("s4", "FISCAL_YEAR_CLOSED", []),
    ]
    assert fixed_stores(PLAN, failed) == {"s1", "s3"}

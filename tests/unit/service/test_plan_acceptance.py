"""Which account plan is accepted (service/plan_acceptance.py), field by field: its own rules and the company's chart
in BL (moved here from backoffice/plan_rules.py with the rules)."""

from __future__ import annotations

from backoffice.models_plan import PlanIn
from backoffice.plan_rules import to_plan
from devstack.bl_standin.chart import BAS_ACCOUNTS, VAT_CODES
from devstack.sampledata import SAMPLE_PLAN
from service.exporter import Chart
from service.plan_acceptance import chart_problems, own_problems

PLAN = to_plan("org", PlanIn(**SAMPLE_PLAN))
CHART = Chart({a: False for a in BAS_ACCOUNTS}, {"S1": False}, {a: VAT_CODES.get(a, "0") for a in BAS_ACCOUNTS})


def test_the_chart_check_names_each_field() -> None:
    accounts = dict(CHART.accounts, **{"2829": True})
    plan = to_plan("org", PlanIn(**{**SAMPLE_PLAN, "store_cost_centres": {"s1": "S1", "s2": "S9"}}))
    errors = {(e.field, e.code) for e in chart_problems(plan, Chart(accounts, {"S1": False}, CHART.vat_codes))}
    assert errors == {("events.TIPS", "ACCOUNT_CLOSED"), ("store_cost_centres.s2", "COST_CENTRE_MISSING")}


def test_a_sales_account_whose_vat_code_says_another_rate_is_refused_per_field() -> None:
    plan = to_plan(
        "org",
        PlanIn(
            **{
                **SAMPLE_PLAN,
                "product_groups": {
                    "coffee": {"600": "3002", "1200": "3002"},
                    "gift_card": {"0": "2421"},
                    "juice": {"600": "3690"},
                },
            }
        ),
    )
    errors = [(e.field, e.code, e.message) for e in chart_problems(plan, CHART)]
    assert errors == [
        (
            "product_groups.coffee.600",
            "ACCOUNT_VAT_CODE_MISMATCH",
            "account 3002 has VAT code 2 (12 %) in Björn Lundén but takes sales at 6 % VAT",
        )
    ]
    # An account without a VAT code (3690 carries "0") and one with an empty code pass.
    assert chart_problems(plan, Chart(CHART.accounts, {}, {**CHART.vat_codes, "3002": ""})) == []


def test_a_plan_that_keeps_one_cash_difference_account_is_refused_on_save() -> None:
    events = {k: v for k, v in SAMPLE_PLAN["events"].items() if not k.startswith("CASH_")}
    plan = to_plan("org", PlanIn(**{**SAMPLE_PLAN, "events": {**events, "CASH_DIFFERENCE": "3590"}}))
    assert [(e.field, e.code) for e in own_problems(plan)] == [("events.CASH_DIFFERENCE", "INVALID_VALUE")]

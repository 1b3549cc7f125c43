from __future__ import annotations

from datetime import date

from backoffice.models_plan import PlanIn
from backoffice.plan_rules import (
    STANDARD_ITEMS,
    missing_items,
    product_group_rates,
    review_items,
    to_plan,
)
from devstack.bl_standin.chart import BAS_ACCOUNTS, VAT_CODES
from devstack.sampledata import SAMPLE_PLAN
from service.exporter import Chart
from service.plan_fixes import fixed_stores

PLAN = to_plan("org", PlanIn(**SAMPLE_PLAN))
CHART = Chart({a: False for a in BAS_ACCOUNTS}, {"S1": False}, {a: VAT_CODES.get(a, "0") for a in BAS_ACCOUNTS})


def test_missing_items_are_product_groups_per_vat_rate_from_sales_registrations_and_the_standard_set() -> None:
    seen = {
        ("payment_method", "klarna"): date(2026, 5, 4),
        ("payment_method", "card"): date(2026, 5, 4),
        ("product_group", "wine@2500"): date(2026, 5, 4),
    }
    registered = [("product_group", "cider", [2500, 1200]), ("payment_method", "klarna", None)]
    no_defaults = to_plan("org", PlanIn(**{**SAMPLE_PLAN, "sales_default_by_rate": {"1200": "3002"}}))
    missing = missing_items(no_defaults, seen, registered)
    assert [(m.kind, m.code, m.vat_rate, m.source) for m in missing] == [
        ("payment_method", "klarna", None, "sales"),
        ("product_group", "cider", 2500, "registered"),
        ("product_group", "wine", 2500, "sales"),
    ]
    assert missing_items(PLAN, seen, registered)[0].code == "klarna"  # the defaults cover wine and cider
    assert len(missing_items(None, {}, [])) == len(STANDARD_ITEMS)


def test_the_varugrupper_rows_show_each_group_at_each_rate_and_where_its_account_comes_from() -> None:
    plan = to_plan("org", PlanIn(**{**SAMPLE_PLAN, "product_groups": {"coffee": {"600": "3003"}}}))
    seen = {("product_group", "coffee@600"): date(2026, 5, 4), ("product_group", "coffee@1200"): date(2026, 5, 3)}
    rows = product_group_rates(plan, seen, [("product_group", "cider", [2500])], ["product_groups.coffee.600"])
    assert [(r.product_group, r.vat_rate, r.account, r.account_source, r.seen_in, r.needs_review) for r in rows] == [
        ("cider", 2500, "3001", "default", ["registered"], False),
        ("coffee", 600, "3003", "product_group", ["plan", "sales"], True),
        ("coffee", 1200, "3002", "default", ["sales"], False),
    ]
    assert review_items(["product_groups.coffee.600"])[0].message.startswith(
        "migrated: product group 'coffee' at 6 % VAT"
    )


def test_only_failures_the_plan_cures_are_retried() -> None:
    failed = [
        ("s1", "UNMAPPED_ITEMS", [{"kind": "payment_method", "code": "card", "message": None}]),
        ("s2", "UNMAPPED_ITEMS", [{"kind": "payment_method", "code": "klarna", "message": None}]),
        ("s3", "ACCOUNT_CLOSED", [{"kind": "accounts", "code": "['2890']"}]),
        ("s4", "FISCAL_YEAR_CLOSED", []),
        ("s5", "UNMAPPED_ITEMS", [{"kind": "product_group", "code": "coffee@600", "message": None}]),
        ("s6", "ACCOUNT_VAT_CODE_MISMATCH", []),
    ]
    assert fixed_stores(PLAN, failed) == {"s1", "s3", "s5", "s6"}

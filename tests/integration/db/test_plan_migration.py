"""Migration 0006 turns stored v1 account plans into v2 (sales per product group and VAT rate) in a real
database, without losing anything, and flags every migrated pair for the merchant's review."""

from __future__ import annotations

import json
from typing import Any

import psycopg
import pytest
from psycopg.types.json import Jsonb

from mapping.plan_checks import plan_problems
from storage.codecs import plan_to_json
from storage.integrations import PostgresIntegrations
from storage.migrate import load_migrations, migrate

pytestmark = pytest.mark.integration

V1_PLAN: dict[str, Any] = {
    "series": "D",
    "payment_methods": {"cash": "1910", "card": "1580", "gift_card": "2421"},
    "vat_rates": {"2500": "2611", "1200": "2621", "600": "2631"},
    "product_groups": {
        "coffee": "3002",  # sold at 6 % and 12 %: one account at both (flagged for review)
        "books": "3003",  # never sold: the rate its BAS number implies
        "merch": "3010",  # never sold, no implied rate: every VAT rate of the plan and 0 %
        "gift_card": "2421",  # sold at 0 %: a multi-purpose card, stays at 0 %
        "spa_card": "2420",  # sold with 25 % VAT under v1: a single-purpose card from now on
        "unused_liability": "2429",  # never sold, not income: 0 % only
    },
    "events": {"TIPS": "2890", "ROUNDING": "3740", "CASH_DIFFERENCE": "3590", "EXPIRED_GIFT_CARD": "3990"},
    "store_cost_centres": {"s1": "S1"},
    "cost_centre_on_balance_accounts": True,
}


def _receipt(org: str, key: str, lines: list[list[Any]]) -> tuple[str, str, str, Jsonb]:
    payload = {
        "receipt_id": key,
        "kind": "sale",
        "lines": lines,
        "payments": [["card", 0]],
        "tip_ore": 0,
        "rounding_ore": 0,
    }
    return (org, "s1", f"receipt:{key}", Jsonb(payload))


def test_a_v1_plan_is_migrated_per_rate_with_nothing_lost(empty_database_url: str) -> None:
    before = [m for m in load_migrations() if m.version < 6]
    migrate(empty_database_url, before)
    with psycopg.connect(empty_database_url) as conn:
        for org in ("org-1", "org-2"):
            conn.execute("INSERT INTO integrations (organization_id) VALUES (%s)", (org,))
            conn.execute("INSERT INTO account_plans (organization_id, plan) VALUES (%s, %s)", (org, Jsonb(V1_PLAN)))
        sales = [
            _receipt("org-1", "r1", [["coffee", 600, 4240, 240, 0], ["coffee", 1200, 4480, 480, 0]]),
            _receipt("org-1", "r2", [["gift_card", 0, 50000, 0, 0], ["spa_card", 2500, 100000, 20000, 0]]),
            _receipt("org-2", "r3", [["coffee", 1200, 4480, 480, 0]]),  # another organization's sales
        ]
        conn.cursor().executemany(
            "INSERT INTO sales_events (organization_id, store_id, business_date, kind, event_key, payload) "
            "VALUES (%s, %s, '2026-11-24', 'receipt', %s, %s)",
            sales,
        )
        conn.execute(
            "INSERT INTO day_closes (organization_id, store_id, business_date, z_report_number, payload, "
            "closed_at) VALUES ('org-1', 's1', '2026-11-24', 7, '{}', now())"
        )

    migrate(empty_database_url)

    with psycopg.connect(empty_database_url) as conn:
        stored = conn.execute("SELECT plan FROM account_plans WHERE organization_id = 'org-1'").fetchone()[0]
        plan = PostgresIntegrations(conn, cipher=None).plan("org-1")  # type: ignore[arg-type]  # no key is read
        review = PostgresIntegrations(conn, cipher=None).plan_review("org-1")  # type: ignore[arg-type]
        other = PostgresIntegrations(conn, cipher=None).plan("org-2")  # type: ignore[arg-type]
        checked = conn.execute("SELECT sequence_checked FROM day_closes").fetchone()[0]
    assert stored["version"] == 2
    assert stored["product_groups"] == {
        "coffee": {"600": "3002", "1200": "3002"},
        "books": {"600": "3003"},
        "merch": {"2500": "3010", "1200": "3010", "600": "3010", "0": "3010"},
        "gift_card": {"0": "2421"},
        "spa_card": {"2500": "2420"},
        "unused_liability": {"0": "2429"},
    }
    assert stored["single_purpose_groups"] == ["spa_card"]
    # Everything else is as it was: nothing lost.
    unchanged = {
        k: v for k, v in stored.items() if k not in ("version", "product_groups", "single_purpose_groups", "review")
    }
    assert unchanged == {k: v for k, v in V1_PLAN.items() if k != "product_groups"}
    assert review == [
        "product_groups.books.600",
        "product_groups.coffee.600",
        "product_groups.coffee.1200",
        "product_groups.gift_card.0",
        "product_groups.merch.0",
        "product_groups.merch.600",
        "product_groups.merch.1200",
        "product_groups.merch.2500",
        "product_groups.spa_card.2500",
        "product_groups.unused_liability.0",
        "events.CASH_DIFFERENCE",
    ]
    assert plan is not None and plan_problems(plan) == ()
    assert plan.sales_account("coffee", 600) == "3002"  # as v1 booked it, until the merchant reviews it
    assert plan.events["CASH_DIFFERENCE"] == "3590" and plan.cost_centre_for("s1") == "S1"
    # org-2 sold coffee only at 12 %: its coffee is at 12 % only.
    assert other is not None and dict(other.product_groups["coffee"]) == {1200: "3002"}
    assert checked is True  # day closes from before the migration raise no Z-number warnings

    with psycopg.connect(empty_database_url) as conn:
        PostgresIntegrations(conn, cipher=None).save_plan(plan)  # type: ignore[arg-type]  # the merchant saves: the review is done
        assert PostgresIntegrations(conn, cipher=None).plan_review("org-1") == []  # type: ignore[arg-type]
        assert json.loads(json.dumps(plan_to_json(plan)))["version"] == 2


def test_a_v2_plan_is_left_alone_by_the_migration(empty_database_url: str) -> None:
    migrate(empty_database_url, [m for m in load_migrations() if m.version < 6])
    v2 = {**V1_PLAN, "version": 2, "product_groups": {"coffee": {"600": "3003"}}}
    with psycopg.connect(empty_database_url) as conn:
        conn.execute("INSERT INTO integrations (organization_id) VALUES ('o')")
        conn.execute("INSERT INTO account_plans (organization_id, plan) VALUES ('o', %s)", (Jsonb(v2),))
    migrate(empty_database_url)
    with psycopg.connect(empty_database_url) as conn:
        assert conn.execute("SELECT plan FROM account_plans").fetchone()[0] == v2

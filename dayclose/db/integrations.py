"""Integrations (one per merchant organization) and their account plans, in PostgreSQL."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from dayclose.keys import KeyVault
from dayclose.secrets import Secret, mask
from mapping.plan import PLAN_FORMAT, AccountPlan, VatPolicy

ACTIVE = "active"


@dataclass(frozen=True)
class Integration:
    organization_id: str
    status: str
    start_date: date | None
    user_key: Secret | None
    key_hint: str | None
    company_name: str | None

    @property
    def is_active(self) -> bool:
        return self.status == ACTIVE and self.user_key is not None and self.start_date is not None


def get_integration(conn: psycopg.Connection[Any], organization_id: str, vault: KeyVault) -> Integration | None:
    row = conn.execute(
        "SELECT status, start_date, bl_key_encrypted, bl_key_hint, company_name FROM integrations "
        "WHERE organization_id = %s",
        (organization_id,),
    ).fetchone()
    if row is None:
        return None
    status, start, encrypted, hint, company = row
    key = vault.decrypt(encrypted) if encrypted is not None else None
    return Integration(organization_id, status, start, key, hint, company)


def save_integration(
    conn: psycopg.Connection[Any],
    organization_id: str,
    vault: KeyVault,
    *,
    user_key: Secret | None = None,
    status: str | None = None,
    start_date: date | None = None,
    company_name: str | None = None,
    company_org_number: str | None = None,
) -> None:
    """Create or update; only the given fields change. The key is stored as given: callers that take it
    from outside store :func:`dayclose.keys.canonical_key`'s form (see ``db.backoffice.store_verified_key``)."""
    encrypted = vault.encrypt(user_key) if user_key is not None else None
    hint = mask(user_key.reveal()) if user_key is not None else None
    conn.execute(
        """INSERT INTO integrations (organization_id, status, bl_key_encrypted, bl_key_hint, start_date,
                                     company_name, company_org_number, activated_at)
           VALUES (%(org)s, coalesce(%(status)s, 'setup'), %(key)s, %(hint)s, %(start)s, %(company)s,
                   %(orgnr)s, CASE WHEN %(status)s = 'active' THEN now() END)
           ON CONFLICT (organization_id) DO UPDATE SET
               status = coalesce(%(status)s, integrations.status),
               bl_key_encrypted = coalesce(%(key)s, integrations.bl_key_encrypted),
               bl_key_hint = coalesce(%(hint)s, integrations.bl_key_hint),
               -- a new key makes the old key's look-up digest wrong: recomputed by the next look-up
               bl_key_digest = CASE WHEN %(key)s::bytea IS NULL THEN integrations.bl_key_digest END,
               start_date = coalesce(%(start)s, integrations.start_date),
               company_name = coalesce(%(company)s, integrations.company_name),
               company_org_number = coalesce(%(orgnr)s, integrations.company_org_number),
               activated_at = CASE WHEN %(status)s = 'active' THEN now() ELSE integrations.activated_at END,
               deactivated_at = CASE WHEN %(status)s = 'inactive' THEN now() ELSE integrations.deactivated_at END,
               updated_at = now()""",
        {"org": organization_id, "status": status, "key": encrypted, "hint": hint, "start": start_date,
         "company": company_name, "orgnr": company_org_number},
    )


def plan_to_json(plan: AccountPlan) -> dict[str, Any]:
    """The stored form (format version 2). Saving a plan writes no ``review`` list: the merchant has seen it."""
    return {
        "version": PLAN_FORMAT,
        "series": plan.series,
        "payment_methods": dict(plan.payment_methods),
        "vat_rates": {str(rate): account for rate, account in plan.vat_rates.items()},
        "sales_default_by_rate": {str(rate): account for rate, account in plan.sales_default_by_rate.items()},
        "product_groups": {group: {str(rate): account for rate, account in rates.items()}
                           for group, rates in plan.product_groups.items()},
        "events": dict(plan.events),
        "single_purpose_groups": sorted(plan.single_purpose_groups),
        "single_purpose_methods": dict(plan.single_purpose_methods),
        "vat_policy": plan.vat_policy,
        "store_cost_centres": dict(plan.store_cost_centres),
        "cost_centre_on_balance_accounts": plan.cost_centre_on_balance_accounts,
    }


def _rates(entries: dict[str, Any]) -> dict[int, str]:
    return {int(rate): account for rate, account in entries.items()}


def _group_rates(accounts: Any, vat_rates: dict[int, str]) -> Any:
    """A group's accounts per rate. A v1 group (one account) can only come from a service version still
    running during an upgrade (migration 0006 converted the stored ones): an income account keeps v1's
    meaning, its account at every rate the plan has a VAT account for and at 0 %; any other account (a
    gift card liability) at 0 %."""
    if isinstance(accounts, str):
        rates = sorted({*vat_rates, 0}) if accounts.startswith("3") else [0]
        return {rate: accounts for rate in rates}
    return _rates(accounts) if isinstance(accounts, dict) else accounts


def plan_from_json(organization_id: str, data: dict[str, Any]) -> AccountPlan:
    vat_rates = _rates(data.get("vat_rates", {}))
    return AccountPlan(
        organization_id=organization_id,
        series=data.get("series", ""),
        payment_methods=data.get("payment_methods", {}),
        vat_rates=vat_rates,
        product_groups={group: _group_rates(accounts, vat_rates)
                        for group, accounts in data.get("product_groups", {}).items()},
        sales_default_by_rate=_rates(data.get("sales_default_by_rate", {})),
        events=data.get("events", {}),
        store_cost_centres=data.get("store_cost_centres", {}),
        cost_centre_on_balance_accounts=bool(data.get("cost_centre_on_balance_accounts", False)),
        single_purpose_groups=frozenset(data.get("single_purpose_groups", ())),
        single_purpose_methods={m: int(rate) for m, rate in data.get("single_purpose_methods", {}).items()},
        vat_policy=data.get("vat_policy", VatPolicy.EXACT.value),
    )


def get_plan(conn: psycopg.Connection[Any], organization_id: str) -> AccountPlan | None:
    row = conn.execute("SELECT plan FROM account_plans WHERE organization_id = %s", (organization_id,)).fetchone()
    return plan_from_json(organization_id, row[0]) if row else None


def plan_review(conn: psycopg.Connection[Any], organization_id: str) -> list[str]:
    """Field paths migration 0006 flagged for the merchant's review (e.g. ``product_groups.coffee.600``),
    until the plan is saved again."""
    row = conn.execute("SELECT plan->'review' FROM account_plans WHERE organization_id = %s",
                       (organization_id,)).fetchone()
    return [str(field) for field in row[0]] if row and isinstance(row[0], list) else []


def save_plan(conn: psycopg.Connection[Any], plan: AccountPlan) -> None:
    conn.execute(
        """INSERT INTO account_plans (organization_id, plan) VALUES (%s, %s)
           ON CONFLICT (organization_id) DO UPDATE
           SET plan = excluded.plan, version = account_plans.version + 1, updated_at = now()""",
        (plan.organization_id, Jsonb(plan_to_json(plan))),
    )

"""The account plan as the wizard shows it, pure: the request's plan, what still needs an account (product groups per
VAT rate), the "Varugrupper" rows and the migration's review list. Which plan is accepted is
:mod:`service.plan_acceptance`; which failed exports a new plan fixes, :mod:`service.plan_fixes`."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict
from datetime import date

from backoffice.models_plan import MissingItem, PlanIn, ProductGroupRate, ReviewItem
from mapping.errors import split_product_group_code
from mapping.money import percent
from mapping.plan import AccountPlan, Event
from service import plan_fixes, plan_items
from storage.history import SeenItems

#: Every plan maps these (the rule is :mod:`service.plan_items`).
STANDARD_ITEMS = plan_items.STANDARD_ITEMS
#: Reasons a plan change can cure (the card's banner asks whether the problem is the plan's).
PLAN_REASONS = plan_fixes.PLAN_REASONS


def to_plan(organization_id: str, body: PlanIn) -> AccountPlan:
    return AccountPlan(
        organization_id=organization_id,
        series=body.series,
        payment_methods=body.payment_methods,
        vat_rates={int(rate): account for rate, account in body.vat_rates.items()},
        sales_default_by_rate={int(rate): account for rate, account in body.sales_default_by_rate.items()},
        product_groups={
            group: {int(rate): account for rate, account in rates.items()}
            for group, rates in body.product_groups.items()
        },
        events=body.events,
        store_cost_centres=body.store_cost_centres,
        cost_centre_on_balance_accounts=body.cost_centre_on_balance_accounts,
        single_purpose_groups=frozenset(body.single_purpose_groups),
        single_purpose_methods=body.single_purpose_methods,
        vat_policy=body.vat_policy,
        register_cash_accounts=body.register_cash_accounts,
        invoice_sales=body.invoice_sales,
    )


def maps(plan: AccountPlan, kind: str, code: str) -> bool:
    return plan_items.maps(plan, kind, code)


def missing_items(
    plan: AccountPlan | None, seen: SeenItems, registered: Iterable[tuple[str, str, list[int] | None]]
) -> list[MissingItem]:
    """What still needs an account (:func:`service.plan_items.missing_items`), as the API shows it."""
    return to_missing(plan_items.missing_items(plan, seen, registered))


def to_missing(items: Iterable[plan_items.Missing]) -> list[MissingItem]:
    return [MissingItem(**asdict(m)) for m in items]


def product_group_rates(
    plan: AccountPlan | None,
    seen: SeenItems,
    registered: Iterable[tuple[str, str, list[int] | None]],
    review: Iterable[str],
) -> list[ProductGroupRate]:
    """One row per (product group, VAT rate) seen in sales, registered with rates, or mapped by the plan."""
    where: dict[tuple[str, int], set[str]] = {}
    last: dict[tuple[str, int], date] = {}
    for (kind, code), day in seen.items():
        group, rate = split_product_group_code(code)
        if kind == "product_group" and rate is not None:
            where.setdefault((group, rate), set()).add("sales")
            last[(group, rate)] = day
    for kind, code, rates in registered:
        for rate in (rates or []) if kind == "product_group" else []:
            where.setdefault((code, rate), set()).add("registered")
    for group, mapped in plan.product_groups.items() if plan else ():
        for rate in mapped:
            where.setdefault((group, rate), set()).add("plan")
    flagged = set(review)
    rows = []
    for (group, rate), sources in sorted(where.items()):
        own = plan.product_groups.get(group, {}).get(rate) if plan else None
        default = plan.sales_default_by_rate.get(rate) if plan else None
        rows.append(
            ProductGroupRate(
                product_group=group,
                vat_rate=rate,
                account=own or default,
                account_source="product_group" if own else ("default" if default else "missing"),
                seen_in=sorted(sources),  # type: ignore[arg-type]
                last_seen=last.get((group, rate)),
                needs_review=f"product_groups.{group}.{rate}" in flagged,
            )
        )
    return rows


def review_items(review: Iterable[str]) -> list[ReviewItem]:
    """The migration's review list in words."""
    items = []
    for field in review:
        if field == f"events.{Event.CASH_DIFFERENCE.value}":
            message = (
                "one account takes both cash shortages and overages: map CASH_SHORTAGE (a cost account) "
                "and CASH_OVERAGE (an income account); until then the old account is used"
            )
        else:
            group, _, rate = field.removeprefix("product_groups.").rpartition(".")
            message = (
                f"migrated: product group {group!r} at {percent(int(rate))} % VAT got the account the group "
                "had for every rate; check that it is the sales account of this rate"
                if rate.isdigit()
                else "migrated: check this account"
            )
        items.append(ReviewItem(field=field, message=message))
    return items

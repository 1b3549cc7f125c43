"""Account plan rules the wizard needs, pure: per-field errors (the plan's own and against the company's
chart in BL), what still needs an account (product groups per VAT rate), and the "Varugrupper" rows (which failed
exports a new plan fixes: :mod:`service.plan_fixes`)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import asdict
from datetime import date

from backoffice.errors import FieldError
from backoffice.models_plan import MissingItem, PlanIn, ProductGroupRate, ReviewItem
from mapping.errors import split_product_group_code
from mapping.money import percent
from mapping.plan import AccountPlan, Event
from mapping.plan_checks import plan_problems
from mapping.vatcodes import vat_code_conflict
from service import plan_fixes, plan_items
from service.exporter import Chart
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


def plan_errors(plan: AccountPlan) -> list[FieldError]:
    """The plan's own rules per field; a saved plan maps a shortage and an overage, not one CASH_DIFFERENCE."""
    errors = [FieldError(field=p.field, code="INVALID_VALUE", message=p.message) for p in plan_problems(plan)]
    if Event.CASH_DIFFERENCE.value in plan.events:
        errors.append(
            FieldError(
                field=f"events.{Event.CASH_DIFFERENCE.value}",
                code="INVALID_VALUE",
                message="one account for both a shortage and an overage is no longer accepted: map CASH_SHORTAGE "
                "(kassabrist, a cost account, e.g. 6990) and CASH_OVERAGE (kassaöverskott, an income account, "
                "e.g. 3999) instead",
            )
        )
    return errors


def _account_fields(plan: AccountPlan) -> Iterator[tuple[str, str]]:
    for section, entries in (
        ("payment_methods", plan.payment_methods),
        ("vat_rates", plan.vat_rates),
        ("sales_default_by_rate", plan.sales_default_by_rate),
        ("events", plan.events),
    ):
        for code, account in sorted(entries.items(), key=lambda kv: str(kv[0])):
            yield f"{section}.{code}", account
    for group, rates in sorted(plan.product_groups.items()):
        for rate, account in sorted(rates.items()):
            yield f"product_groups.{group}.{rate}", account


def _sales_fields(plan: AccountPlan) -> Iterator[tuple[str, str, int]]:
    """(field, account, rate) of every sales account, the ones a VAT code in BL can contradict."""
    for rate, account in sorted(plan.sales_default_by_rate.items()):
        yield f"sales_default_by_rate.{rate}", account, rate
    for group, rates in sorted(plan.product_groups.items()):
        if group in plan.single_purpose_groups:
            continue  # a liability, not a sales account: its VAT is booked on the line rule
        for rate, account in sorted(rates.items()):
            yield f"product_groups.{group}.{rate}", account, rate


def chart_errors(plan: AccountPlan, chart: Chart) -> list[FieldError]:
    """Every account that does not exist or is closed in BL, every sales account whose VAT code in BL says
    another rate than the one it is mapped at, every store's cost centre that does not exist or is closed."""
    errors = []
    for field, account in _account_fields(plan):
        if account not in chart.accounts:
            errors.append(
                FieldError(
                    field=field,
                    code="ACCOUNT_MISSING_IN_BL",
                    message=f"account {account} does not exist in Björn Lundén",
                )
            )
        elif chart.accounts[account]:
            errors.append(
                FieldError(
                    field=field, code="ACCOUNT_CLOSED", message=f"account {account} is closed (spärrat) in Björn Lundén"
                )
            )
    for field, account, rate in _sales_fields(plan):
        why = vat_code_conflict(account, rate, chart.vat_codes.get(account)) if account in chart.accounts else None
        if why:
            errors.append(FieldError(field=field, code="ACCOUNT_VAT_CODE_MISMATCH", message=why))
    for store, centre in sorted(plan.store_cost_centres.items()):
        if chart.cost_centres.get(centre, True):
            errors.append(
                FieldError(
                    field=f"store_cost_centres.{store}",
                    code="COST_CENTRE_MISSING",
                    message=f"cost centre {centre} does not exist or is closed in Björn Lundén",
                )
            )
    return errors


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

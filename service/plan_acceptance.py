"""Which account plan is accepted, field by field, pure: the plan's own rules (:func:`mapping.plan_checks.plan_problems`
and a saved plan maps a shortage and an overage, not one CASH_DIFFERENCE), and against the company's chart in BL
(every account exists and is open, every sales account's VAT code in BL says the rate it is mapped at, every
store's cost centre exists and is open). Asked by a plan save (:func:`service.plan_saves.check_and_save_plan`) and
the wizard's activation (:func:`service.bl_checks.check_and_activate`)."""

from __future__ import annotations

from collections.abc import Iterator

from mapping.plan import AccountPlan, Event
from mapping.plan_checks import plan_problems
from mapping.vatcodes import vat_code_conflict
from service.exporter import Chart
from service.refusals import FieldProblem


def own_problems(plan: AccountPlan) -> list[FieldProblem]:
    """The plan's own rules per field; a saved plan maps a shortage and an overage, not one CASH_DIFFERENCE."""
    problems = [FieldProblem(p.field, "INVALID_VALUE", p.message) for p in plan_problems(plan)]
    if Event.CASH_DIFFERENCE.value in plan.events:
        problems.append(
            FieldProblem(
                f"events.{Event.CASH_DIFFERENCE.value}",
                "INVALID_VALUE",
                "one account for both a shortage and an overage is no longer accepted: map CASH_SHORTAGE "
                "(kassabrist, a cost account, e.g. 6990) and CASH_OVERAGE (kassaöverskott, an income account, "
                "e.g. 3999) instead",
            )
        )
    return problems


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


def chart_problems(plan: AccountPlan, chart: Chart) -> list[FieldProblem]:
    """Every account that does not exist or is closed in BL, every sales account whose VAT code in BL says
    another rate than the one it is mapped at, every store's cost centre that does not exist or is closed."""
    problems = []
    for field, account in _account_fields(plan):
        if account not in chart.accounts:
            problems.append(
                FieldProblem(field, "ACCOUNT_MISSING_IN_BL", f"account {account} does not exist in Björn Lundén")
            )
        elif chart.accounts[account]:
            problems.append(
                FieldProblem(field, "ACCOUNT_CLOSED", f"account {account} is closed (spärrat) in Björn Lundén")
            )
    for field, account, rate in _sales_fields(plan):
        why = vat_code_conflict(account, rate, chart.vat_codes.get(account)) if account in chart.accounts else None
        if why:
            problems.append(FieldProblem(field, "ACCOUNT_VAT_CODE_MISMATCH", why))
    for store, centre in sorted(plan.store_cost_centres.items()):
        if chart.cost_centres.get(centre, True):
            problems.append(
                FieldProblem(
                    f"store_cost_centres.{store}",
                    "COST_CENTRE_MISSING",
                    f"cost centre {centre} does not exist or is closed in Björn Lundén",
                )
            )
    return problems

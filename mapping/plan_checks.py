"""The account plan's own rules, field by field (what a form highlights before anything is booked).

Besides well-formed codes and account numbers, the rules an auditor checks in a plan:

* a sales account at a VAT rate above 0 % is an income account (class 3), except for a single-purpose
  gift card group, whose sale is a liability (class 2, VAT booked at issue); at 0 % a liability is
  allowed too (multi-purpose gift cards are sold at 0 % to e.g. 2421);
* a rate's default sales account is an income account (class 3);
* a cash shortage (kassabrist) is a cost (classes 4–8) and an overage (kassaöverskott) income
  (class 3), on two different accounts: never one account with both signs;
* a single-purpose redemption method debits a liability (class 2), and is neither cash nor the
  multi-purpose ``gift_card`` method.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TypeVar

from mapping.errors import InvalidPlanError, PlanProblem
from mapping.money import percent
from mapping.plan import AccountPlan, Event, InvoiceSales, VatPolicy, is_account, is_series, is_valid_rate
from mapping.sales import CASH_METHOD, GIFT_CARD_METHOD

K = TypeVar("K")
V = TypeVar("V")
INCOME = "3"
LIABILITY = "2"
ASSET = "1"
COSTS = "45678"


def ensure_valid(plan: AccountPlan) -> None:
    """Raise :class:`InvalidPlanError` listing every problem, if there are any."""
    problems = plan_problems(plan)
    if problems:
        raise InvalidPlanError(problems)


def plan_problems(plan: AccountPlan) -> tuple[PlanProblem, ...]:
    """Every problem with the plan itself, one per field, in a stable order."""
    found: list[PlanProblem] = []
    if not is_series(plan.series):
        found.append(PlanProblem("series", "must be one capital letter or digit"))
    found += _coded("payment_methods", plan.payment_methods)
    found += _rated("vat_rates", plan.vat_rates)
    found += _rated("sales_default_by_rate", plan.sales_default_by_rate)
    found += [
        PlanProblem(
            f"sales_default_by_rate.{rate}",
            f"a default sales account must be an income account (class 3), got {account}",
        )
        for rate, account in _sorted(plan.sales_default_by_rate)
        if is_account(account) and account[0] != INCOME
    ]
    found += list(_product_group_problems(plan))
    found += _coded("events", plan.events)
    found += list(_event_problems(plan.events))
    found += list(_single_purpose_problems(plan))
    if plan.invoice_sales not in InvoiceSales.__members__:
        found.append(
            PlanProblem("invoice_sales", f"must be one of {', '.join(InvoiceSales)}, got {plan.invoice_sales!r}")
        )
    if plan.vat_policy not in VatPolicy.__members__:
        found.append(PlanProblem("vat_policy", f"must be one of {', '.join(VatPolicy)}, got {plan.vat_policy!r}"))
    for register, account in _sorted(plan.register_cash_accounts):
        field_name = f"register_cash_accounts.{register}"
        found += _code_problem(field_name, register) + _account_problem(field_name, account)
        if is_account(account) and str(account)[0] != ASSET:
            found.append(PlanProblem(field_name, f"a register's cash is an asset (class 1, e.g. 1911), got {account}"))
    for store, centre in _sorted(plan.store_cost_centres):
        if not isinstance(centre, str) or not centre.strip() or centre != centre.strip():
            found.append(PlanProblem(f"store_cost_centres.{store}", "cost centre must be a non-empty code"))
    return tuple(found)


def _sorted(entries: Mapping[K, V]) -> list[tuple[K, V]]:
    return sorted(entries.items(), key=lambda kv: str(kv[0]))


def _account_problem(field_name: str, account: object) -> list[PlanProblem]:
    if is_account(account):
        return []
    return [PlanProblem(field_name, f"must be a 4-digit BAS account number, got {account!r}")]


def _code_problem(field_name: str, code: object) -> list[PlanProblem]:
    if isinstance(code, str) and code.strip():
        return []
    return [PlanProblem(field_name, "code must be a non-empty string")]


def _coded(section: str, entries: Mapping[str, str]) -> list[PlanProblem]:
    found: list[PlanProblem] = []
    for code, account in _sorted(entries):
        found += _code_problem(f"{section}.{code}", code)
        found += _account_problem(f"{section}.{code}", account)
    return found


def _rated(section: str, entries: Mapping[int, str]) -> list[PlanProblem]:
    found: list[PlanProblem] = []
    for rate, account in _sorted(entries):
        if not is_valid_rate(rate):
            found.append(PlanProblem(f"{section}.{rate}", "rate must be whole basis points 0..10000"))
        found += _account_problem(f"{section}.{rate}", account)
    return found


def _product_group_problems(plan: AccountPlan) -> Iterator[PlanProblem]:
    for group, rates in _sorted(plan.product_groups):
        yield from _code_problem(f"product_groups.{group}", group)
        if not isinstance(rates, Mapping):
            yield PlanProblem(f"product_groups.{group}", "must map VAT rates (basis points) to accounts")
            continue
        single = group in plan.single_purpose_groups
        for rate, account in _sorted(rates):
            field_name = f"product_groups.{group}.{rate}"
            if not is_valid_rate(rate):
                yield PlanProblem(field_name, "rate must be whole basis points 0..10000")
                continue
            yield from _account_problem(field_name, account)
            if is_account(account):
                yield from _sales_class_problem(field_name, str(account), int(rate), single)


def _sales_class_problem(field_name: str, account: str, rate: int, single_purpose: bool) -> Iterator[PlanProblem]:
    if single_purpose:
        if account[0] != LIABILITY:
            yield PlanProblem(
                field_name,
                f"a single-purpose gift card is sold to a liability account (class 2, e.g. 2421), got {account}",
            )
    elif rate > 0 and account[0] != INCOME:
        yield PlanProblem(
            field_name,
            f"sales at {percent(rate)} % VAT go to an income account (class 3), got "
            f"{account}; a gift card sold with VAT must be flagged single-purpose",
        )
    elif rate == 0 and account[0] not in (INCOME, LIABILITY):
        yield PlanProblem(
            field_name,
            f"sales at 0 % go to an income account (class 3) or, for multi-purpose "
            f"gift cards, a liability (class 2), got {account}",
        )


def _event_problems(events: Mapping[str, str]) -> Iterator[PlanProblem]:
    for code in sorted(events, key=str):
        if code not in Event.__members__:
            yield PlanProblem(f"events.{code}", "unknown event")
    shortage, overage = events.get(Event.CASH_SHORTAGE.value), events.get(Event.CASH_OVERAGE.value)
    if is_account(shortage) and str(shortage)[0] not in COSTS:
        yield PlanProblem(
            "events.CASH_SHORTAGE",
            f"a cash shortage (kassabrist) is a cost: use a cost account (classes 4-8, e.g. 6990), got {shortage}",
        )
    if is_account(overage) and str(overage)[0] != INCOME:
        yield PlanProblem(
            "events.CASH_OVERAGE",
            f"a cash overage (kassaöverskott) is income: use an income account (class 3, e.g. 3999), got {overage}",
        )
    if is_account(shortage) and shortage == overage:
        yield PlanProblem(
            "events.CASH_OVERAGE", "shortage and overage need two accounts, never one account with both signs"
        )


def _single_purpose_problems(plan: AccountPlan) -> Iterator[PlanProblem]:
    for group in sorted(plan.single_purpose_groups, key=str):
        yield from _code_problem(f"single_purpose_groups.{group}", group)
    for method, rate in _sorted(plan.single_purpose_methods):
        field_name = f"single_purpose_methods.{method}"
        yield from _code_problem(field_name, method)
        if not is_valid_rate(rate):
            yield PlanProblem(field_name, "the card's VAT rate must be whole basis points 0..10000")
        if method in (CASH_METHOD, GIFT_CARD_METHOD):
            yield PlanProblem(
                field_name,
                f"{method!r} cannot redeem single-purpose gift cards: give them a payment method of their own",
            )
        account = plan.payment_methods.get(str(method))
        if is_account(account) and str(account)[0] != LIABILITY:
            yield PlanProblem(
                field_name,
                f"redeeming a single-purpose gift card debits its liability (class 2), "
                f"but payment method {method!r} is mapped to {account}",
            )

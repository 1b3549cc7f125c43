"""Account plan rules the wizard needs, pure: per-field errors (the plan's own and against the company's
chart in BL), what still needs an account, and which failed exports a new plan fixes."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from backoffice.bl import Chart
from backoffice.errors import FieldError
from backoffice.models import MissingItem, PlanIn
from dayclose.db.history import SeenItems
from mapping.plan import AccountPlan, Event

#: Every plan maps these, whether or not a sale has used them yet: the standard Swedish VAT rates
#: (0 % books no VAT) and every other event. The POS's payment methods and product groups come from its
#: sales and registrations.
STANDARD_ITEMS: tuple[tuple[str, str], ...] = (
    *(("vat_rate", str(rate)) for rate in (2500, 1200, 600)),
    *(("event", e.value) for e in Event),
)
#: Reasons a plan change can cure; other failures (a closed year in BL…) wait for their own fix.
PLAN_REASONS = frozenset({"UNMAPPED_ITEMS", "INVALID_PLAN", "ACCOUNT_MISSING_IN_BL", "ACCOUNT_CLOSED",
                          "COST_CENTRE_MISSING", "SERIES_MISSING"})
_ORDER = {"payment_method": 0, "vat_rate": 1, "product_group": 2, "event": 3}


def to_plan(organization_id: str, body: PlanIn) -> AccountPlan:
    return AccountPlan(
        organization_id=organization_id,
        series=body.series,
        payment_methods=body.payment_methods,
        vat_rates={int(rate): account for rate, account in body.vat_rates.items()},
        product_groups=body.product_groups,
        events=body.events,
        store_cost_centres=body.store_cost_centres,
        cost_centre_on_balance_accounts=body.cost_centre_on_balance_accounts,
    )


def plan_errors(plan: AccountPlan) -> list[FieldError]:
    return [FieldError(field=p.field, code="INVALID_VALUE", message=p.message) for p in plan.problems()]


def _account_fields(plan: AccountPlan) -> Iterable[tuple[str, str]]:
    for section, entries in (("payment_methods", plan.payment_methods), ("vat_rates", plan.vat_rates),
                             ("product_groups", plan.product_groups), ("events", plan.events)):
        for code, account in sorted(entries.items(), key=lambda kv: str(kv[0])):
            yield f"{section}.{code}", account


def chart_errors(plan: AccountPlan, chart: Chart) -> list[FieldError]:
    """Every account that does not exist or is closed in BL, every store's cost centre likewise."""
    errors = []
    for field, account in _account_fields(plan):
        if account not in chart.accounts:
            errors.append(FieldError(field=field, code="ACCOUNT_MISSING_IN_BL",
                                     message=f"account {account} does not exist in Björn Lundén"))
        elif chart.accounts[account]:
            errors.append(FieldError(field=field, code="ACCOUNT_CLOSED",
                                     message=f"account {account} is closed (spärrat) in Björn Lundén"))
    for store, centre in sorted(plan.store_cost_centres.items()):
        if chart.cost_centres.get(centre, True):
            errors.append(FieldError(field=f"store_cost_centres.{store}", code="COST_CENTRE_MISSING",
                                     message=f"cost centre {centre} does not exist or is closed in Björn Lundén"))
    return errors


def maps(plan: AccountPlan, kind: str, code: str) -> bool:
    if kind == "payment_method":
        return code in plan.payment_methods
    if kind == "vat_rate":
        return code.isdigit() and int(code) in plan.vat_rates
    if kind == "product_group":
        return code in plan.product_groups
    return code in plan.events


def missing_items(
    plan: AccountPlan | None, seen: SeenItems, registered: Iterable[tuple[str, str]]
) -> list[MissingItem]:
    """What still needs an account: used by sales, registered by the POS, or standard, and not mapped."""
    found: dict[tuple[str, str], MissingItem] = {}
    for (kind, code), day in seen.items():
        found[(kind, code)] = MissingItem(kind=kind, code=code, source="sales", last_seen=day)  # type: ignore[arg-type]
    for kind, code in registered:
        found.setdefault((kind, code), MissingItem(kind=kind, code=code, source="registered", last_seen=None))  # type: ignore[arg-type]
    for kind, code in STANDARD_ITEMS:
        found.setdefault((kind, code), MissingItem(kind=kind, code=code, source="standard", last_seen=None))  # type: ignore[arg-type]
    missing = [item for key, item in found.items() if plan is None or not maps(plan, *key)]
    return sorted(missing, key=lambda m: (_ORDER[m.kind], int(m.code) if m.kind == "vat_rate" else 0, m.code))


def fixed_stores(plan: AccountPlan, failed: Iterable[tuple[str, str | None, Any]]) -> set[str]:
    """Stores with a failed export this plan may now book: a plan-related failure whose listed unmapped
    items (if any) are all mapped now. The chart was checked before saving, so account failures are fixed."""
    stores = set()
    for store, reason, details in failed:
        if reason not in PLAN_REASONS:
            continue
        if reason == "UNMAPPED_ITEMS" and isinstance(details, list):
            listed = [(d.get("kind"), d.get("code")) for d in details if isinstance(d, dict)]
            if not all(maps(plan, str(kind), str(code)) for kind, code in listed):
                continue
        stores.add(store)
    return stores

"""The wizard's step 3 and later settings: the account plan, what still needs an account, and the
payment methods and product groups the POS registers before any sale uses them."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from backoffice import lifecycle
from backoffice.context import Context, context, organization
from backoffice.errors import responses
from backoffice.models_plan import MissingItems, Plan, PlanIn, PlanSaved, RegisteredItem, RegisteredItems
from backoffice.plan_rules import product_group_rates, review_items, to_plan
from backoffice.refusals import answered
from mapping.plan_checks import plan_problems
from service import bus
from service.plan_saves import CheckAndSavePlan
from storage.codecs import plan_to_json
from storage.uow import PostgresUnitOfWork

router = APIRouter(prefix="/v1/organizations/{organization_id}/bjorn-lunden", tags=["account plan"])
Org = Annotated[str, Depends(organization)]
Ctx = Annotated[Context, Depends(context)]


def _plan_out(uow: PostgresUnitOfWork, ctx: Context, org: str) -> Plan:
    plan = uow.integrations.plan(org)
    state = uow.integrations.get(org)
    missing = lifecycle.current_missing(uow, org, plan, state, ctx.today())
    seen = uow.plan_items.seen(org, lifecycle.lookback(state, ctx.today()))
    registered = uow.plan_items.registered(org)
    review = uow.integrations.plan_review(org)
    rows = product_group_rates(plan, seen, registered, review)
    if plan is None:
        return Plan(
            format_version=2,
            series="",
            vat_policy="EXACT",
            invoice_sales="OWN_VOUCHER",
            version=0,
            complete=False,
            missing=missing,
            product_group_rates=rows,
        )
    data = {k: v for k, v in plan_to_json(plan).items() if k != "version"}  # "version" is the format: 2
    complete = not missing and not plan_problems(plan)
    return Plan(
        **data,
        version=state.plan_version if state and state.plan_version else 0,
        complete=complete,
        missing=missing,
        needs_review=review_items(review),
        product_group_rates=rows,
    )


@router.get("/account-plan", response_model=Plan, responses=responses(401, 403, 422))
def get_account_plan(org: Org, ctx: Ctx) -> Plan:
    """The stored plan (version 0 and empty before the first save), whether it is complete, and what is missing."""
    with ctx.uow() as uow:
        return _plan_out(uow, ctx, org)


@router.put("/account-plan", response_model=PlanSaved, responses=responses(400, 401, 403, 409, 422, 502, 503))
def put_account_plan(org: Org, ctx: Ctx, body: PlanIn) -> PlanSaved:
    """Replace the plan (format 2: sales accounts per product group and VAT rate). Checked field by field — the
    plan's own rules (`INVALID_VALUE`, e.g. `product_groups.coffee.600`), then against the company's chart in BL
    (`ACCOUNT_MISSING_IN_BL`, `ACCOUNT_CLOSED`, `ACCOUNT_VAT_CODE_MISMATCH` when a sales account's VAT code in BL
    says another rate, `COST_CENTRE_MISSING`) — and refused as a whole (422 `INVALID_PLAN`, every error listed) if
    any field fails. An incomplete plan may be saved; saving clears the migration's `needs_review` list.
    While active, failed exports the change fixes are queued for retry at once (same transaction).
    409 `KEY_MISSING` before a key is verified (the chart is needed)."""
    with answered():
        queued = bus.handle_asking(ctx.bl, ctx.uow, CheckAndSavePlan(to_plan(org, body))).retries
    with ctx.uow() as uow:
        return PlanSaved(plan=_plan_out(uow, ctx, org), retries_queued=queued)


@router.get("/account-plan/missing-items", response_model=MissingItems, responses=responses(401, 403, 422))
def get_missing_items(org: Org, ctx: Ctx) -> MissingItems:
    """Every payment method, VAT rate, product group at a VAT rate (`code` + `vat_rate`) and other event that
    still needs an account: used by the merchant's sales (since the start date, or the last 90 days, and any not
    yet booked), registered by the POS, or standard (25/12/6 % VAT and every other event)."""
    with ctx.uow() as uow:
        state = uow.integrations.get(org)
        return MissingItems(items=lifecycle.current_missing(uow, org, uow.integrations.plan(org), state, ctx.today()))


def _registered(uow: PostgresUnitOfWork, org: str) -> RegisteredItems:
    items = uow.registered_items.all(org)
    return RegisteredItems(
        payment_methods=[
            RegisteredItem(code=c, name=n, vat_rates=None) for k, c, n, _ in items if k == "payment_method"
        ],
        product_groups=[RegisteredItem(code=c, name=n, vat_rates=r) for k, c, n, r in items if k == "product_group"],
    )


@router.get("/registered-items", response_model=RegisteredItems, responses=responses(401, 403, 422))
def get_registered_items(org: Org, ctx: Ctx) -> RegisteredItems:
    with ctx.uow() as uow:
        return _registered(uow, org)


@router.post("/registered-items", response_model=RegisteredItems, responses=responses(400, 401, 403, 422))
def post_registered_items(org: Org, ctx: Ctx, body: RegisteredItems) -> RegisteredItems:
    """The POS announces payment methods and product groups (added, never removed; idempotent), so the
    wizard asks for their accounts before the first sale uses them. A product group may say at which VAT
    rates it is sold (`vat_rates`, basis points): each (group, rate) then gets its row in the plan."""
    with ctx.uow() as uow:
        uow.registered_items.register(org, "payment_method", [(i.code, i.name, None) for i in body.payment_methods])
        uow.registered_items.register(
            org, "product_group", [(i.code, i.name, i.vat_rates) for i in body.product_groups]
        )
        uow.commit()
        return _registered(uow, org)

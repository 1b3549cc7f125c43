"""Manual export, history and status: exports per store and day, days not booked and why, the banner."""

from __future__ import annotations

import uuid
from dataclasses import asdict
from datetime import date, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Body, Depends, Header, Query

from backoffice import status as rules
from backoffice.context import Context, context, organization
from backoffice.errors import ApiError, conflict, responses
from backoffice.models_exports import (
    Export,
    ExportPage,
    ManualExport,
    ManualExportIn,
    MissingDay,
    MissingDays,
    StatusOut,
)
from service import bus, commands
from service.manual_exports import RequestManualExport
from storage import history

router = APIRouter(prefix="/v1/organizations/{organization_id}/bjorn-lunden", tags=["exports"])
Org = Annotated[str, Depends(organization)]
Ctx = Annotated[Context, Depends(context)]
MAX_RANGE_DAYS = 400
DEFAULT_RANGE_DAYS = 31


@router.post(
    "/manual-exports", status_code=202, response_model=ManualExport, responses=responses(400, 401, 403, 409, 422)
)
def post_manual_export(
    org: Org,
    ctx: Ctx,
    body: Annotated[ManualExportIn | None, Body()] = None,
    requested_by: Annotated[
        str | None,
        Header(
            alias="X-User-Id",
            max_length=100,
            pattern=r"^[^\x00-\x1f\x7f]*$",
            description="BackOffice user, for the audit trail.",
        ),
    ] = None,
) -> ManualExport:
    """Record the request and its ManualExportRequested command in one transaction (the command goes to the
    commands topic through the outbox, keyed by organization, like every event the service sends) and return
    its request id. A click while an earlier request covering the same stores is still in progress returns
    that request (`coalesced: true`) instead of sending again; the consumer exports each sale once
    regardless. 409 `NOT_ACTIVE`."""
    command = RequestManualExport(org, body.store_id if body else None, requested_by)
    with ctx.uow() as uow:
        try:
            asked = bus.handle(uow, command)  # coalescing decided in service/manual_exports.py
        except commands.IntegrationNotActive:
            raise conflict("NOT_ACTIVE", "Manual export needs an active integration.") from None
        if not asked.coalesced:
            uow.commit()
    return ManualExport(**asdict(asked))


@router.get("/manual-exports/{request_id}", response_model=ManualExport, responses=responses(401, 403, 404, 422))
def get_manual_export(org: Org, ctx: Ctx, request_id: uuid.UUID) -> ManualExport:
    """requested (not yet taken by the service), exporting (its jobs are queued or running), done."""
    with ctx.uow() as uow:
        found = uow.manual_exports.get(org, request_id)
    if found is None:
        raise ApiError(404, "NOT_FOUND", "No such manual export request.")
    return ManualExport(**found, coalesced=False)


@router.post("/failed-exports/retry", response_model=dict[str, int], responses=responses(401, 403, 409, 422))
def retry_failed_exports(org: Org, ctx: Ctx) -> dict[str, int]:
    """Retry every failed export now (after fixing something in BL, e.g. opening a fiscal year)."""
    try:
        queued = bus.handle_in(ctx.uow, commands.retry_now(org))
    except commands.IntegrationNotActive:
        raise conflict("NOT_ACTIVE", "Exports are retried only while the integration is active.") from None
    return {"retries_queued": queued.jobs}


@router.get("/exports", response_model=ExportPage, responses=responses(401, 403, 422))
def list_exports(
    org: Org,
    ctx: Ctx,
    store_id: Annotated[str | None, Query(max_length=128, pattern=r"^[^\x00-\x1f\x7f]*$")] = None,
    since: Annotated[date | None, Query(alias="from")] = None,
    until: Annotated[date | None, Query(alias="to")] = None,
    status: Literal["posting", "booked", "failed"] | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> ExportPage:
    """Every export (one voucher each), newest business date first: status, voucher series and number in BL,
    total debit in öre, and the failure reason with its details."""
    with ctx.uow() as uow:
        rows, total = history.list_exports(
            uow.conn, org, store=store_id, since=since, until=until, status=status, limit=limit, offset=offset
        )
    items = [Export(**{**r.__dict__, "reason_details": rules.details_of(r.reason_details)}) for r in rows]
    return ExportPage(items=items, total=total, limit=limit, offset=offset)


def _missing(ctx: Context, org: str, since: date | None, until: date | None) -> tuple[date, date, list[MissingDay]]:
    today = ctx.today()
    with ctx.uow() as uow:
        state = uow.integrations.get(org)
        since = since or (state.start_date if state and state.start_date else today - timedelta(DEFAULT_RANGE_DAYS))
        until = until or today
        if since > until or (until - since).days > MAX_RANGE_DAYS:
            raise ApiError(422, "INVALID_RANGE", f"`from` must not be after `to`, at most {MAX_RANGE_DAYS} days apart.")
        days = history.unbooked_days(uow.conn, org, since, until, today)
    return since, until, [rules.missing_day(d, state) for d in days]


@router.get("/missing-days", response_model=MissingDays, responses=responses(401, 403, 422))
def missing_days(
    org: Org,
    ctx: Ctx,
    since: Annotated[date | None, Query(alias="from", description="Default: the start date.")] = None,
    until: Annotated[date | None, Query(alias="to", description="Default: today.")] = None,
) -> MissingDays:
    """Store-days closed (or with sales and past) but not fully booked, each with why (`reason_code`)."""
    since, until, items = _missing(ctx, org, since, until)
    return MissingDays(since=since, until=until, items=items)


@router.get("/status", response_model=StatusOut, responses=responses(401, 403, 422))
def get_status(org: Org, ctx: Ctx) -> StatusOut:
    """The banner: the current problem worth showing at the top of BackOffice, if any, with counts."""
    _, _, days = _missing(ctx, org, None, None)
    with ctx.uow() as uow:
        state = uow.integrations.get(org)
        failed, last_booked = history.export_summary(uow.conn, org)
    return StatusOut(
        status=state.status.value if state else "setup",
        banner=rules.banner(state, days),
        failed_exports=failed,
        missing_days=len(days),
        last_booked_at=last_booked,
    )

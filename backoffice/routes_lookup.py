"""Look-ups the reference card (issue #26) showed the wizard's endpoints lacked: the account names of the
company's chart in BL, the merchant's notifications, and the day report of a booked voucher as a PDF."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from backoffice.bl import api_error
from backoffice.context import Context, context, organization
from backoffice.errors import ApiError, conflict, responses
from backoffice.models import Detail
from backoffice.models_lookup import ChartAccount, ChartAccounts, Notification, Notifications, NotificationVoucher
from mapping.vatcodes import rate_of_vat_code
from service.exporter import ChartNames, ExportError
from service.reasons import reason
from storage.notifications import StoredNotification

router = APIRouter(prefix="/v1/organizations/{organization_id}/bjorn-lunden", tags=["look-ups"])
Org = Annotated[str, Depends(organization)]
Ctx = Annotated[Context, Depends(context)]


@router.get("/accounts", response_model=ChartAccounts, responses=responses(401, 403, 409, 422, 502, 503))
def get_accounts(org: Org, ctx: Ctx) -> ChartAccounts:
    """The company's chart of accounts in BL (number, name, closed, VAT code), read through the verified key:
    what the account plan's fields are checked against. 409 `KEY_MISSING` before a key is verified."""
    with ctx.uow() as uow:
        integration = uow.integrations.get(org)
    if integration is None or integration.user_key is None:
        raise conflict("KEY_MISSING", "Verify the public key first: the chart is read from Björn Lundén with it.")
    try:
        chart = ctx.bl.chart(integration.user_key.reveal())
    except ExportError as exc:
        raise api_error(exc) from None
    items = [
        ChartAccount(
            number=number,
            name=chart.names.get(number, ""),
            closed=closed,
            vat_code=chart.vat_codes.get(number, ""),
            vat_rate=rate_of_vat_code(chart.vat_codes.get(number)),
        )
        for number, closed in sorted(chart.accounts.items())
    ]
    return ChartAccounts(items=items)


@router.get("/notifications", response_model=Notifications, responses=responses(401, 403, 422))
def get_notifications(org: Org, ctx: Ctx, limit: Annotated[int, Query(ge=1, le=200)] = 50) -> Notifications:
    """The organization's notifications, newest first: one per outcome event (booked, failed, warning) since
    migration 0017, with the reason registry's Swedish and English texts, what the notification service shows."""
    with ctx.uow() as uow:
        rows = uow.notifications.recent(org, limit)
    return Notifications(items=[_notification(r) for r in rows])


def _notification(row: StoredNotification) -> Notification:
    texts = reason(row.reason_code) if row.reason_code else None
    return Notification(
        notification_id=row.notification_id,
        created_at=row.created_at,
        status=row.status,  # type: ignore[arg-type]
        severity=texts.severity.value if texts else "INFO",
        trigger=row.trigger,
        reason_code=row.reason_code,
        title_sv=texts.title_sv if texts else None,
        message_sv=texts.message_sv if texts else None,
        title_en=texts.title_en if texts else None,
        message_en=texts.message_en if texts else None,
        store_id=row.store_id,
        business_date=row.business_date,
        export_id=row.export_id,
        voucher=NotificationVoucher(series=row.voucher_series, number=row.voucher_number)
        if row.voucher_series is not None and row.voucher_number is not None
        else None,
        details=[
            Detail(kind=str(d.get("kind", "")), code=str(d.get("code", "")), message=d.get("message"))
            for d in row.details
            if isinstance(d, dict)
        ],
    )


@router.get(
    "/exports/{export_id}/day-report",
    response_class=Response,
    responses={
        200: {"content": {"application/pdf": {}}, "description": "The day report (PDF)."},
        **responses(401, 403, 404, 422),
    },
)
def get_day_report(org: Org, ctx: Ctx, export_id: uuid.UUID) -> Response:
    """The day report of a booked voucher (PDF), rendered again from the seven-year audit record: the report
    attached to the voucher in BL, with the account names stored when it was booked. 404 for an export that is
    not this organization's or not booked."""
    with ctx.uow() as uow:
        if uow.exports.store_day(org, export_id) is None:
            raise ApiError(404, "NOT_FOUND", "No such export.")
        try:
            source = uow.documents.source(export_id)
        except LookupError:
            raise ApiError(404, "NOT_FOUND", "This export is not booked: it has no day report.") from None
    if source.organization_id != org:  # store_day already scoped it; a second look costs nothing
        raise ApiError(404, "NOT_FOUND", "No such export.")
    attachment = ctx.reports.render(source, ChartNames())
    return Response(
        attachment.content,
        media_type=attachment.content_type,
        headers={"Content-Disposition": f'inline; filename="{attachment.filename}"'},
    )

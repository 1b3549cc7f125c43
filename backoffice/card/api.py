"""The card's only way into the product: the BackOffice API's own operations, called in-process with the signed-in
organization. Each method is one API call (its method and path in the docstring, as docs/ui.md lists them) and
returns that call's response model or raises its :class:`ApiError`: the card sees exactly what BackOffice would
over HTTP, and a test proves the card imports no storage, so it cannot go around the API."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date
from typing import Any, TypeVar

from fastapi.responses import Response
from pydantic import BaseModel, ValidationError

from backoffice import routes_audit, routes_exports, routes_integration, routes_lookup, routes_plan
from backoffice.context import Context
from backoffice.errors import ApiError, FieldError
from backoffice.models_audit import CorrectionIn, CorrectionOut
from backoffice.models_exports import ExportPage, ManualExport, MissingDays, StatusOut
from backoffice.models_integration import Integration, KeyIn, StartDateIn, StartDateOut, StateChange
from backoffice.models_lookup import ChartAccounts, Notifications
from backoffice.models_plan import Plan, PlanIn, PlanSaved, RegisteredItems

M = TypeVar("M", bound=BaseModel)


def body(model: type[M], data: dict[str, Any]) -> M:
    """A request body validated as the API validates it: a 422 ``INVALID_REQUEST`` with per-field errors."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        fields = [
            FieldError(field=".".join(str(p) for p in e["loc"]) or "request", code="INVALID_VALUE", message=e["msg"])
            for e in exc.errors()
        ]
        raise ApiError(422, "INVALID_REQUEST", "the request is not valid", field_errors=fields) from None


class CardApi:
    def __init__(self, ctx: Context, organization_id: str, user: str | None) -> None:
        self.ctx = ctx
        self.org = organization_id
        self.user = user

    def _call(self, operation: Callable[..., M], *args: Any, **kwargs: Any) -> M:
        return operation(self.org, self.ctx, *args, **kwargs)

    def integration(self) -> Integration:
        """``GET …/bjorn-lunden``"""
        return self._call(routes_integration.get_integration_state)

    def put_key(self, public_key: str) -> Integration:
        """``PUT …/key``"""
        return self._call(routes_integration.put_key, body(KeyIn, {"public_key": public_key}))

    def put_start_date(self, start_date: str) -> StartDateOut:
        """``PUT …/start-date``"""
        return self._call(routes_integration.put_start_date, body(StartDateIn, {"start_date": start_date}))

    def activate(self) -> StateChange:
        """``POST …/activation``"""
        return self._call(routes_integration.post_activation, None)

    def deactivate(self) -> StateChange:
        """``POST …/deactivation``"""
        return self._call(routes_integration.post_deactivation)

    def plan(self) -> Plan:
        """``GET …/account-plan``"""
        return self._call(routes_plan.get_account_plan)

    def put_plan(self, plan: dict[str, Any]) -> PlanSaved:
        """``PUT …/account-plan``"""
        return self._call(routes_plan.put_account_plan, body(PlanIn, plan))

    def registered_items(self) -> RegisteredItems:
        """``GET …/registered-items``"""
        return self._call(routes_plan.get_registered_items)

    def accounts(self) -> ChartAccounts:
        """``GET …/accounts``"""
        return self._call(routes_lookup.get_accounts)

    def manual_export(self) -> ManualExport:
        """``POST …/manual-exports`` (``X-User-Id``: the signed-in user)"""
        return self._call(routes_exports.post_manual_export, None, self.user)

    def manual_export_state(self, request_id: uuid.UUID) -> ManualExport:
        """``GET …/manual-exports/{id}``"""
        return self._call(routes_exports.get_manual_export, request_id)

    def retry_failed(self) -> dict[str, int]:
        """``POST …/failed-exports/retry``"""
        return routes_exports.retry_failed_exports(self.org, self.ctx)

    def exports(self, *, status: str | None = None, limit: int = 100) -> ExportPage:
        """``GET …/exports``"""
        return self._call(routes_exports.list_exports, None, None, None, status, limit, 0)

    def missing_days(self, since: date | None = None) -> MissingDays:
        """``GET …/missing-days``"""
        return self._call(routes_exports.missing_days, since, None)

    def status(self) -> StatusOut:
        """``GET …/status``"""
        return self._call(routes_exports.get_status)

    def notifications(self, limit: int = 30) -> Notifications:
        """``GET …/notifications``"""
        return self._call(routes_lookup.get_notifications, limit)

    def correct(self, export_id: uuid.UUID, reason: str, acting_user: str) -> CorrectionOut:
        """``POST …/exports/{id}/corrections``"""
        correction = body(CorrectionIn, {"reason": reason, "acting_user": acting_user})
        return self._call(routes_audit.post_correction, export_id, correction)

    def day_report(self, export_id: uuid.UUID) -> Response:
        """``GET …/exports/{id}/day-report``"""
        return routes_lookup.get_day_report(self.org, self.ctx, export_id)

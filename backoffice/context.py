"""Everything a request handler needs, wired once by :func:`dayclose.bootstrap.build_api`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Annotated

from fastapi import Depends, Path, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from backoffice.auth import TokenVerifier
from backoffice.models import IDENTIFIER
from service.deps import stockholm_today
from service.exporter import BLDirectory
from service.ports import DayReports
from service.vat_report import Ledger
from storage.uow import PostgresUnitOfWork


@dataclass
class Context:
    #: A unit of work per request step: ``with ctx.uow() as uow: …; uow.commit()``.
    uow: Callable[[], PostgresUnitOfWork]
    bl: BLDirectory
    verifier: TokenVerifier
    #: How long sales are kept (``DAYCLOSE_SALES_RETENTION_DAYS``): the earliest start date.
    sales_retention_days: int
    #: Renders a booked voucher's day report again, for ``GET …/exports/{id}/day-report``.
    reports: DayReports
    today: Callable[[], date] = stockholm_today
    #: BL's journal, for the VAT report's comparison of balances (None: not compared).
    ledger: Ledger | None = None


def context(request: Request) -> Context:
    ctx: Context = request.app.state.context
    return ctx


_bearer = HTTPBearer(
    auto_error=False,
    bearerFormat="JWT",
    description="A JWT (HS256, claims org/aud/iat/exp) scoped to one organization: docs/api.md.",
)


def organization(
    request: Request,
    organization_id: str = Path(pattern=IDENTIFIER, description="The merchant's organization in the POS."),
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)] = None,
) -> str:
    """The path's organization, once the bearer token is shown to be scoped to it (401/403 otherwise)."""
    header = f"Bearer {credentials.credentials}" if credentials else request.headers.get("authorization")
    return context(request).verifier.authorize(header, organization_id)

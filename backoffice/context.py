"""Everything a request handler needs, wired once by :func:`backoffice.app.create_app`."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import psycopg
from fastapi import Depends, Path, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from psycopg_pool import ConnectionPool

from backoffice.auth import TokenVerifier
from backoffice.bl import BLDirectory
from backoffice.models import IDENTIFIER
from backoffice.publisher import CommandPublisher
from consumer.events import EventWriter
from dayclose.config import Settings
from dayclose.keys import KeyVault

STOCKHOLM = ZoneInfo("Europe/Stockholm")


def stockholm_today() -> date:
    """Business dates are Swedish: 'today' is today in Stockholm, never UTC's."""
    return datetime.now(STOCKHOLM).date()


@dataclass
class Context:
    settings: Settings
    pool: ConnectionPool[Any]
    vault: KeyVault
    bl: BLDirectory
    publisher: CommandPublisher
    verifier: TokenVerifier
    events: EventWriter
    today: Callable[[], date] = stockholm_today

    @contextmanager
    def transaction(self) -> Iterator[psycopg.Connection[Any]]:
        with self.pool.connection() as conn, conn.transaction():
            yield conn


def context(request: Request) -> Context:
    ctx: Context = request.app.state.context
    return ctx


_bearer = HTTPBearer(auto_error=False, bearerFormat="JWT",
                     description="A JWT (HS256, claims org/aud/iat/exp) scoped to one organization: docs/api.md.")


def organization(
    request: Request,
    organization_id: str = Path(pattern=IDENTIFIER, description="The merchant's organization in the POS."),
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)] = None,
) -> str:
    """The path's organization, once the bearer token is shown to be scoped to it (401/403 otherwise)."""
    header = f"Bearer {credentials.credentials}" if credentials else request.headers.get("authorization")
    return context(request).verifier.authorize(header, organization_id)

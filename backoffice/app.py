"""The BackOffice API: ``create_app(settings, ...)`` wires the adapters once (no I/O at import, none in
the factory: the pool opens and is checked in the lifespan). Run it with ``dayclose api``."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import date
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from psycopg_pool import ConnectionPool
from starlette.exceptions import HTTPException as StarletteHTTPException

from backoffice import routes_audit, routes_bl, routes_exports, routes_integration, routes_plan
from backoffice.auth import TokenVerifier
from backoffice.bl import BLDirectory, BLExporterDirectory
from backoffice.context import Context, stockholm_today
from backoffice.errors import ApiError, api_error_handler, http_error_handler, validation_error_handler
from backoffice.middleware import BodySizeLimit, OrganizationAuthorization
from backoffice.publisher import CommandPublisher, KafkaCommandPublisher
from consumer.codec import ConfluentRegistry
from consumer.events import EventWriter
from dayclose.config import Settings
from dayclose.health import api_checks
from dayclose.keys import KeyVault
from dayclose.logs import get_logger
from dayclose.metrics import exposition
from exporters.bl.exporter import BLExporter

log = get_logger("dayclose.api")
TITLE = "dayclose BackOffice API"
VERSION = "1.0.0"
DESCRIPTION = """The backend of BackOffice's Björn Lundén card: activation wizard (key, start date, account plan),
activation and deactivation, manual export, export history, missing days and the banner.

Every `/v1/organizations/{organization_id}/…` operation needs `Authorization: Bearer <token>` where the token
is a JWT (RFC 7519, HS256) scoped to that organization: claims `org`, `aud` = `dayclose-api`, `iat`, `exp`
(at most one hour apart), minted by BackOffice with a key of `DAYCLOSE_API_TOKENS` (see docs/api.md). The token
is checked before the body is read, so a missing or foreign token gets 401/403, never a validation error.
`/v1/bl/activation/…` is called by Björn Lundén itself.

Every request body is limited to `DAYCLOSE_API_MAX_BODY_BYTES` (256 KiB by default): a larger one is refused
with 413 `BODY_TOO_LARGE` while it streams, before it is parsed and before authentication."""


def create_app(
    settings: Settings,
    *,
    exporter: BLExporter | None = None,
    bl: BLDirectory | None = None,
    pool: ConnectionPool[Any] | None = None,
    publisher: CommandPublisher | None = None,
    today: Callable[[], date] = stockholm_today,
) -> FastAPI:
    """Adapters default to production ones built from ``settings``; tests pass their own (an opened pool,
    an exporter pointed at the BL stand-in, a publisher on the mock cluster)."""
    if settings.key_encryption_key is None:
        raise ValueError("missing required setting DAYCLOSE_KEY_ENCRYPTION_KEY")
    if not settings.api_tokens:
        raise ValueError("missing required setting DAYCLOSE_API_TOKENS (no request could be authorized)")
    owns_pool = pool is None
    if pool is None:
        pool = ConnectionPool(settings.database_url, min_size=1, max_size=8, open=False, name="dayclose-api")
    if bl is None:
        if exporter is None:
            from consumer.service import bl_exporter

            exporter = bl_exporter(settings)
        bl = BLExporterDirectory(exporter)
    registry = ConfluentRegistry(settings.kafka.schema_registry_url) if settings.kafka.schema_registry_url else None
    ctx = Context(
        settings=settings, pool=pool, vault=KeyVault(settings.key_encryption_key), bl=bl,
        publisher=publisher or KafkaCommandPublisher(settings.kafka, registry),
        verifier=TokenVerifier(settings.api_tokens),
        events=EventWriter(settings.kafka.outcomes_topic, settings.kafka.dead_letter_topic, registry),
        today=today,
    )

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if owns_pool:
            pool.open()
            pool.wait(timeout=30)  # fail fast at start-up when the database is unreachable
        try:
            yield
        finally:
            if owns_pool:
                pool.close()
            close = getattr(ctx.publisher, "close", None)
            if close is not None:
                close()

    app = FastAPI(title=TITLE, version=VERSION, description=DESCRIPTION, lifespan=lifespan)
    app.state.context = ctx
    app.add_exception_handler(ApiError, api_error_handler)
    app.add_exception_handler(RequestValidationError, validation_error_handler)
    app.add_exception_handler(StarletteHTTPException, http_error_handler)
    for module in (routes_integration, routes_plan, routes_exports, routes_audit, routes_bl):
        app.include_router(module.router)
    _add_operations_routes(app, ctx)
    # Each add wraps the previous: a request meets the log line, then the body limit, then authorization,
    # and only then routing, body parsing and validation.
    app.add_middleware(OrganizationAuthorization, verifier=lambda: ctx.verifier)
    app.add_middleware(BodySizeLimit, max_bytes=settings.api_max_body_bytes)
    app.middleware("http")(_log_request)
    return app


def _add_operations_routes(app: FastAPI, ctx: Context) -> None:
    checks = api_checks(lambda: ctx.pool.connection(timeout=2.0))

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> JSONResponse:
        ok, report = checks.liveness()
        return JSONResponse({"ok": ok, **report}, status_code=200 if ok else 503)

    @app.get("/readyz", include_in_schema=False)
    def readyz() -> JSONResponse:
        ok, report = checks.readiness()
        return JSONResponse({"ok": ok, **report}, status_code=200 if ok else 503)

    @app.get("/metrics", include_in_schema=False)
    def metrics(request: Request) -> Response:
        body, content_type = exposition(request.headers.get("accept", ""))
        return Response(body, media_type=content_type)


async def _log_request(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
    """One line per request, naming the route template, never the raw path (BL's callbacks carry the key)."""
    started = time.monotonic()
    response = await call_next(request)
    route = request.scope.get("route")
    if getattr(route, "path", None) not in ("/healthz", "/readyz", "/metrics"):
        log.info("api.request", method=request.method, route=getattr(route, "path", "?"),
                 status=response.status_code, took_ms=round((time.monotonic() - started) * 1000, 1))
    return response

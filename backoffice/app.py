"""The BackOffice API: ``create_app(context, ...)`` is given its adapters (:func:`dayclose.bootstrap.build_api`
builds them from the settings); no I/O at import, none in the factory: the pool opens and is checked in the
lifespan. Run it with ``dayclose api``. The API needs no Kafka producer: its one command,
ManualExportRequested, goes through the outbox with the request's own row (routes_exports)."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any, Protocol

import structlog
from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from prometheus_client import CollectorRegistry
from prometheus_client.exposition import choose_encoder
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Mount, Route

from backoffice import (
    routes_audit,
    routes_bl,
    routes_exports,
    routes_integration,
    routes_lookup,
    routes_plan,
    routes_vat,
)
from backoffice.api_docs import add_swagger_ui
from backoffice.card.session import Sessions
from backoffice.context import Context
from backoffice.errors import (
    ApiError,
    api_error_handler,
    http_error_handler,
    storage_unavailable_handler,
    validation_error_handler,
)
from backoffice.limits import BodyReadTimeout, RateLimiter
from backoffice.metrics import RequestMetrics
from backoffice.middleware import BodySizeLimit, OrganizationAuthorization
from service.ports import StorageUnavailable

log = structlog.get_logger("dayclose.api")
TITLE = "dayclose BackOffice API"
VERSION = "1.0.0"
DESCRIPTION = """The backend of BackOffice's Björn Lundén card: activation wizard (key, start date, account plan),
activation and deactivation, manual export, export history, missing days and the banner, corrections and the
audit trail, the merchant's VAT reporting and the VAT-period report.

Every `/v1/organizations/{organization_id}/…` operation needs `Authorization: Bearer <token>` where the token
is a JWT (RFC 7519, HS256) scoped to that organization: claims `org`, `aud` = `dayclose-api`, `iat`, `exp`
(at most one hour apart), minted by BackOffice with a key of `DAYCLOSE_API_TOKENS` (see docs/api.md). The token
is checked before the body is read, so a missing or foreign token gets 401/403, never a validation error.
`/v1/bl/activation/…` is called by Björn Lundén itself.

Every request body is limited to `DAYCLOSE_API_MAX_BODY_BYTES` (256 KiB by default): a larger one is refused
with 413 `BODY_TOO_LARGE` while it streams, before it is parsed and before authentication. It must arrive within
`DAYCLOSE_API_BODY_TIMEOUT_SECONDS` (10 s) of the request, else 408 `BODY_READ_TIMEOUT`. Each organization's
requests are limited to `DAYCLOSE_API_RATE_LIMIT_PER_SECOND` (20 a second, bursts of 100) per API process: beyond,
429 `RATE_LIMITED` with `Retry-After`."""


class HealthChecks(Protocol):
    """``/healthz`` and ``/readyz`` (:class:`dayclose.health.Checks`): (ok, report)."""

    def liveness(self) -> tuple[bool, dict[str, Any]]: ...

    def readiness(self) -> tuple[bool, dict[str, Any]]: ...


def create_app(
    ctx: Context,
    checks: HealthChecks,
    *,
    max_body_bytes: int,
    body_timeout_s: float = 10.0,
    rate_limit: RateLimiter | None = None,
    on_start: Callable[[], None] = lambda: None,
    on_stop: Callable[[], None] = lambda: None,
    metrics: CollectorRegistry | None = None,
    docs: bool = False,
    card: Sessions | None = None,
) -> FastAPI:
    """``on_start`` runs before the first request (open the pool, wait for the database), ``on_stop`` at the end.
    ``metrics`` is what ``/metrics`` serves (the API process's registry, :func:`dayclose.telemetry.api_registry`);
    ``docs`` adds Swagger UI at ``/docs``, served from our own assets (:mod:`backoffice.api_docs`). With ``card``
    (its sessions), the reference BackOffice card is served under ``/card/`` too (docs/ui.md)."""

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        on_start()
        try:
            yield
        finally:
            on_stop()

    app = FastAPI(
        title=TITLE, version=VERSION, description=DESCRIPTION, lifespan=lifespan, docs_url=None, redoc_url=None
    )
    if docs:
        add_swagger_ui(app)
    app.state.context = ctx
    app.add_exception_handler(ApiError, api_error_handler)
    app.add_exception_handler(RequestValidationError, validation_error_handler)
    app.add_exception_handler(StarletteHTTPException, http_error_handler)
    app.add_exception_handler(StorageUnavailable, storage_unavailable_handler)
    for module in (routes_integration, routes_plan, routes_exports, routes_audit, routes_lookup, routes_vat, routes_bl):
        app.include_router(module.router)
    _add_operations_routes(app, checks, metrics if metrics is not None else CollectorRegistry())
    if card is not None:
        from backoffice.card.app import mount

        mount(app, ctx, card)
    # Each add wraps the previous: a request meets the log line, then the body's read deadline and size limit,
    # then authorization and the organization's rate, and only then routing, body parsing and validation.
    app.add_middleware(
        OrganizationAuthorization, verifier=lambda: ctx.verifier, routes=lambda: app.routes, limiter=rate_limit
    )
    app.add_middleware(BodySizeLimit, max_bytes=max_body_bytes)
    app.add_middleware(BodyReadTimeout, timeout_s=body_timeout_s)
    app.middleware("http")(_log_request)
    # Outermost: counts every answer, 401 and 413 too, by the route template the request was aimed at.
    app.add_middleware(RequestMetrics, templates=lambda: [*app.openapi()["paths"], *_plain_paths(app)])
    return app


def _plain_paths(app: FastAPI) -> list[str]:
    """Routes outside the OpenAPI document: probes, the scrape, the document itself and its docs pages."""
    return [route.path for route in app.router.routes if isinstance(route, Route | Mount)]


def _add_operations_routes(app: FastAPI, checks: HealthChecks, registry: CollectorRegistry) -> None:
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
        encoder, content_type = choose_encoder(request.headers.get("accept", ""))
        return Response(encoder(registry), media_type=content_type)


async def _log_request(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
    """One line per request, naming the route template, never the raw path (BL's callbacks carry the key)."""
    started = time.monotonic()
    response = await call_next(request)
    route = request.scope.get("route")
    if getattr(route, "path", None) not in ("/healthz", "/readyz", "/metrics"):
        log.info(
            "api.request",
            method=request.method,
            route=getattr(route, "path", "?"),
            status=response.status_code,
            took_ms=round((time.monotonic() - started) * 1000, 1),
        )
    return response

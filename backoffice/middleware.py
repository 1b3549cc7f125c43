"""Checks that run before any request body is read: its size, then who is asking.

Both are pure ASGI middleware rather than FastAPI dependencies because FastAPI reads (and parses) the
whole body before it solves a route's dependencies: a 100 MB upload would be in memory, and a foreign
token with a malformed body would get a validation error (422), before authentication said 401/403.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence

import structlog
from starlette.datastructures import Headers
from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from backoffice import metrics
from backoffice.auth import AuthRefused, Refusal, TokenVerifier
from backoffice.errors import ApiError, error_response
from backoffice.limits import RateLimiter

log = structlog.get_logger("dayclose.api")
_ORGANIZATION_PATH = re.compile(r"^/v1/organizations/([^/]+)(?:/|$)")


class _BodyTooLarge(Exception):
    """Raised from ``receive`` to stop the app reading; the middleware answers 413 instead."""


class BodySizeLimit:
    """Refuses a request whose body is larger than ``max_bytes`` with 413, counting bytes as they arrive.

    A declared ``Content-Length`` above the limit is refused before a byte of the body is read. Otherwise
    (chunked bodies, a ``Content-Length`` that lies) the bytes are counted as the app receives them and the
    read stops at the first chunk past the limit: whatever the app would have answered is dropped and the
    413 goes out instead. At most ``max_bytes`` plus one chunk is ever held, whatever the client sends;
    the connection is closed after the 413 so the rest of an upload is not read at all.
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.max_bytes:
            await self._refuse(scope, receive, send)
            return
        received = 0
        refused = False
        started = False

        async def counting_receive() -> Message:
            nonlocal received, refused
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    refused = True
                    raise _BodyTooLarge
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if refused:
                return  # the app's answer to a read we cut short; ours follows
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, guarded_send)
        except Exception:
            if not refused:
                raise  # FastAPI turns our exception into a 400 of its own; anything else is not ours
        if refused and not started:
            await self._refuse(scope, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        metrics.api_body_too_large()
        error = ApiError(
            413,
            "BODY_TOO_LARGE",
            f"The request body is larger than {self.max_bytes} bytes.",
            headers={"Connection": "close"},
        )
        await error_response(error)(scope, receive, send)


class OrganizationAuthorization:
    """401/403 for ``/v1/organizations/{organization_id}/…`` unless the bearer token is scoped to that
    organization, before the body is read or validated. The routes' own dependency checks again (and
    documents the scheme in the OpenAPI document); both call :meth:`TokenVerifier.authorize`.

    Every refusal is one log line, ``api.unauthorized``, naming the reason (:class:`backoffice.auth.Refusal`)
    and the route template the request was for (``routes``: the app's routes), never the token or the raw path.
    Whatever the verifier raises on a caller's input, the answer is a 401, never a 500. With a ``limiter``, a valid
    token's organization gets 429 ``RATE_LIMITED`` (with ``Retry-After``) beyond its rate (:mod:`backoffice.limits`)."""

    def __init__(
        self,
        app: ASGIApp,
        verifier: Callable[[], TokenVerifier],
        routes: Callable[[], Sequence[BaseRoute]] = list,
        limiter: RateLimiter | None = None,
    ) -> None:
        self.app = app
        self.verifier = verifier
        self.routes = routes
        self.limiter = limiter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        match = _ORGANIZATION_PATH.match(scope.get("path", "")) if scope["type"] == "http" else None
        if match is not None:
            headers = Headers(scope=scope)
            try:
                organization = self.verifier().authorize(headers.get("authorization"), match.group(1))
                self._within_rate(scope, organization)
            except Exception as exc:  # noqa: BLE001 - an error of ours on a caller's input is still their 401
                error = exc if isinstance(exc, ApiError) else AuthRefused(Refusal.MALFORMED, "malformed token")
                if error.status != 429:
                    self._log_refusal(scope, error, exc)
                if _may_have_body(headers):
                    # Do not read an unauthenticated upload to the end just to keep the connection.
                    error.headers = {**(error.headers or {}), "Connection": "close"}
                await error_response(error)(scope, receive, send)
                return
        await self.app(scope, receive, send)

    def _within_rate(self, scope: Scope, organization: str) -> None:
        wait = self.limiter.take(organization) if self.limiter is not None else 0.0
        if wait > 0:
            log.warning(
                "api.rate_limited",
                organization_id=organization,
                route=route_template(self.routes(), scope),
                retry_after_s=math.ceil(wait),
            )
            raise ApiError(
                429,
                "RATE_LIMITED",
                "Too many requests for this organization; try again after Retry-After seconds.",
                headers={"Retry-After": str(math.ceil(wait))},
            )

    def _log_refusal(self, scope: Scope, error: ApiError, raised: Exception) -> None:
        reason = error.reason if isinstance(error, AuthRefused) else error.body.code.lower()
        log.warning(
            "api.unauthorized",
            status=error.status,
            reason=str(reason),
            route=route_template(self.routes(), scope),
            method=scope.get("method"),
            # An exception that is not a refusal is a gap in the verifier: its type (never its text, which could
            # quote the token) tells the developer where.
            **({"unexpected": type(raised).__name__} if not isinstance(raised, ApiError) else {}),
        )


def route_template(routes: Sequence[BaseRoute], scope: Scope) -> str:
    """The template of the route ``scope`` is for (``/v1/organizations/{organization_id}/plan``), or ``?``."""
    for route in routes:
        matched, _ = route.matches(scope)
        if matched is not Match.NONE:
            return str(getattr(route, "path", "?"))
    return "?"


def _content_length(scope: Scope) -> int | None:
    raw = Headers(scope=scope).get("content-length")
    try:
        return int(raw) if raw is not None else None
    except ValueError:
        return None


def _may_have_body(headers: Headers) -> bool:
    return "transfer-encoding" in headers or headers.get("content-length", "0").strip() not in ("", "0")

"""Errors the API answers with: one JSON shape, a stable ``code`` the wizard switches on, and per-field
errors the form can put next to the field."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from service.ports import StorageUnavailable


class FieldError(BaseModel):
    field: str = Field(description="Dotted path of the field, e.g. `payment_methods.swish` or `start_date`.")
    code: str = Field(description="Stable code, e.g. ACCOUNT_MISSING_IN_BL, ACCOUNT_CLOSED, INVALID_VALUE.")
    message: str


class ErrorBody(BaseModel):
    code: str = Field(description="Stable machine-readable code (see the operation's description).")
    message: str
    field_errors: list[FieldError] = Field(default_factory=list)
    details: dict[str, Any] = Field(default_factory=dict)


class ApiError(Exception):
    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        field_errors: list[FieldError] | None = None,
        details: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.body = ErrorBody(code=code, message=message, field_errors=field_errors or [], details=details or {})
        self.headers = headers


def conflict(code: str, message: str, **kwargs: Any) -> ApiError:
    return ApiError(409, code, message, **kwargs)


def _response(status: int, body: ErrorBody, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(body.model_dump(mode="json"), status_code=status, headers=headers)


def error_response(error: ApiError) -> JSONResponse:
    """The response for ``error`` (also an ASGI app, for middleware that answers before routing)."""
    return _response(error.status, error.body, error.headers)


async def api_error_handler(_request: Request, exc: Exception) -> JSONResponse:
    if not isinstance(exc, ApiError):  # registered for ApiError only
        raise TypeError(f"not an ApiError: {type(exc).__name__}")
    return error_response(exc)


async def validation_error_handler(_request: Request, exc: Exception) -> JSONResponse:
    """FastAPI's request validation errors in the same shape as every other error (never echoing input:
    a request may carry a key)."""
    if not isinstance(exc, RequestValidationError):  # registered for RequestValidationError only
        raise TypeError(f"not a RequestValidationError: {type(exc).__name__}")
    fields = []
    for err in exc.errors():
        loc = [str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path", "header")]
        fields.append(FieldError(field=".".join(loc) or "request", code="INVALID_VALUE", message=str(err.get("msg"))))
    return _response(422, ErrorBody(code="INVALID_REQUEST", message="the request is not valid", field_errors=fields))


async def http_error_handler(_request: Request, exc: Exception) -> JSONResponse:
    """Starlette's own errors (an unparsable body, an unknown route) in the same shape."""
    if not isinstance(exc, StarletteHTTPException):  # registered for HTTPException only
        raise TypeError(f"not an HTTPException: {type(exc).__name__}")
    code = {400: "MALFORMED_BODY", 404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED", 413: "BODY_TOO_LARGE"}.get(
        exc.status_code, "HTTP_ERROR"
    )
    return _response(exc.status_code, ErrorBody(code=code, message=str(exc.detail)), getattr(exc, "headers", None))


#: Seconds a client waits before trying again after a 503 for a lost database (a restart or failover takes a few).
DATABASE_RETRY_AFTER_S = 5


async def storage_unavailable_handler(_request: Request, exc: Exception) -> JSONResponse:
    """PostgreSQL lost in the middle of a request (a restart, a crash, a partition): a 503 in the API's shape, with
    Retry-After, so BackOffice asks the merchant to try again. Nothing was committed: the unit of work rolled back."""
    if not isinstance(exc, StorageUnavailable):  # registered for StorageUnavailable only
        raise TypeError(f"not StorageUnavailable: {type(exc).__name__}")
    body = ErrorBody(code="DATABASE_UNAVAILABLE", message="The database is unavailable for a moment; try again.")
    return _response(503, body, {"Retry-After": str(DATABASE_RETRY_AFTER_S)})


def responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` for the error statuses an operation can answer with. Every operation can answer 408
    and 413: the body's read deadline and size limit apply to every request, before anything else; 503: the database
    can go away under any of them; and every authenticated one (401) also 429: the rate per organization
    (:mod:`backoffice.limits`)."""
    text = {
        400: "The body is not parsable JSON.",
        401: "No valid bearer token (checked before the body is read or validated).",
        403: "The token is not for this organization (checked before the body is read or validated).",
        404: "Not found.",
        408: "`BODY_READ_TIMEOUT`: the request body did not arrive within `DAYCLOSE_API_BODY_TIMEOUT_SECONDS` "
        "(10 s by default) of the request; the connection is closed.",
        409: "Not allowed in the integration's current state (see `code`).",
        413: "`BODY_TOO_LARGE`: the request body is larger than the configured limit (`DAYCLOSE_API_MAX_BODY_BYTES`, "
        "256 KiB by default); refused before the body is parsed or the token checked, and the connection "
        "is closed.",
        422: "Invalid input, with per-field errors where they apply.",
        429: "`RATE_LIMITED`: more requests for this organization than `DAYCLOSE_API_RATE_LIMIT_PER_SECOND` "
        "(20 a second, bursts of `DAYCLOSE_API_RATE_LIMIT_BURST`, 100, by default) per API process; try again "
        "after `Retry-After` seconds.",
        502: "Björn Lundén refused our own credentials (an operator problem, not the merchant's).",
        503: "Björn Lundén or our database is unavailable (`DATABASE_UNAVAILABLE`): try again (see Retry-After).",
    }
    always = {408, 413, 503, *({429} if 401 in statuses else ())}
    return {s: {"model": ErrorBody, "description": text[s]} for s in sorted({*statuses, *always})}

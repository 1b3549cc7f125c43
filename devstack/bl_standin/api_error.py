"""BL's error body, ``ApiError``: an HTTP status, a message and a stable ``exceptionId``."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

_STATUS_TEXT = {
    400: "400 BAD_REQUEST",
    401: "401 UNAUTHORIZED",
    403: "403 FORBIDDEN",
    404: "404 NOT_FOUND",
    409: "409 CONFLICT",
    415: "415 UNSUPPORTED_MEDIA_TYPE",
    429: "429 TOO_MANY_REQUESTS",
    500: "500 INTERNAL_SERVER_ERROR",
    502: "502 BAD_GATEWAY",
    503: "503 SERVICE_UNAVAILABLE",
    504: "504 GATEWAY_TIMEOUT",
}


class ApiFailure(Exception):
    """An answer in BL's ``ApiError`` shape."""

    def __init__(
        self,
        status: int,
        exception_id: str | None,
        message: str,
        sub_errors: list[dict[str, Any]] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.exception_id = exception_id
        self.message = message
        self.sub_errors = sub_errors or []

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "status": _STATUS_TEXT.get(self.status, "500 INTERNAL_SERVER_ERROR"),
            "timestamp": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "message": self.message,
            "debugMessage": self.message,
            "subErrors": self.sub_errors,
        }
        if self.exception_id:
            body["exceptionId"] = self.exception_id
        return body


def bad(exception_id: str, message: str) -> ApiFailure:
    return ApiFailure(400, exception_id, message)

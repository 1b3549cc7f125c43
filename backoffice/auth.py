"""Bearer tokens scoped to one organization.

The service tokens in ``DAYCLOSE_API_TOKENS`` are never sent over the wire. BackOffice holds one and,
for each request it makes on behalf of a signed-in merchant, mints a short-lived token for that
merchant's organization:

    dc1.<organization id, base64url>.<expiry, unix seconds>.<HMAC-SHA256(service token, "dc1.<org>.<exp>")>

The API checks the signature against every configured service token (so tokens can be rotated), the
expiry, and that the organization in the token is the one in the path. A token minted for organization
A therefore cannot read or change B, whatever path it is sent to, and a leaked token is worth one
organization for at most :data:`MAX_TTL_S`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import time
from collections.abc import Callable, Sequence

from backoffice.errors import ApiError
from dayclose.secrets import Secret

VERSION = "dc1"
MAX_TTL_S = 24 * 3600


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _signature(secret: Secret, payload: str) -> str:
    return _b64(hmac.new(secret.reveal().encode(), payload.encode(), hashlib.sha256).digest())


def mint_token(service_token: Secret, organization_id: str, ttl_s: int = 300, now: float | None = None) -> str:
    """What BackOffice does per request (this is the reference implementation, used by the tests)."""
    expires = int((time.time() if now is None else now) + ttl_s)
    payload = f"{VERSION}.{_b64(organization_id.encode())}.{expires}"
    return f"{payload}.{_signature(service_token, payload)}"


class TokenVerifier:
    def __init__(self, service_tokens: Sequence[Secret], clock: Callable[[], float] = time.time) -> None:
        self._secrets = [t for t in service_tokens if t]
        self._clock = clock

    def organization(self, authorization: str | None) -> str:
        """The organization a valid ``Authorization: Bearer …`` header is scoped to; 401 otherwise."""
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise _unauthorized("a bearer token is required")
        parts = token.strip().split(".")
        if len(parts) != 4 or parts[0] != VERSION:
            raise _unauthorized("malformed token")
        payload, signature = ".".join(parts[:3]), parts[3]
        if not any(hmac.compare_digest(_signature(s, payload), signature) for s in self._secrets):
            raise _unauthorized("invalid token")
        try:
            organization = _unb64(parts[1]).decode()
            expires = int(parts[2])
        except (ValueError, binascii.Error, UnicodeDecodeError):
            raise _unauthorized("malformed token") from None
        now = self._clock()
        if expires <= now:
            raise _unauthorized("token expired")
        if expires > now + MAX_TTL_S:
            raise _unauthorized(f"token lives longer than {MAX_TTL_S} s")
        return organization

    def authorize(self, authorization: str | None, organization_id: str) -> str:
        scoped = self.organization(authorization)
        if not hmac.compare_digest(scoped.encode(), organization_id.encode()):
            raise ApiError(403, "FORBIDDEN", "this token is not valid for this organization")
        return organization_id


def _unauthorized(message: str) -> ApiError:
    return ApiError(401, "UNAUTHORIZED", message, headers={"WWW-Authenticate": "Bearer"})

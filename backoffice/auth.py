"""Bearer tokens scoped to one organization: JSON Web Tokens (RFC 7519) signed with HS256.

The keys in ``DAYCLOSE_API_TOKENS`` (``<kid>:<secret>``, comma-separated) are never sent over the wire.
BackOffice holds them and, for each request it makes on behalf of a signed-in merchant, mints a
short-lived JWT with its own language's JWT library (docs/api.md shows Node and .NET):

    header  {"alg": "HS256", "typ": "JWT", "kid": "<key id>"}
    claims  {"org": "<organization id>", "aud": "dayclose-api", "iat": <now>, "exp": <now + 300>}

The API verifies, with joserfc: the signature with the key named by ``kid`` (or, without ``kid``, any
configured key, so keys can be rotated), ``alg`` exactly HS256 (no ``none``, no other algorithm), the
audience, ``iat`` and ``exp`` present with :data:`LEEWAY_S` of clock skew, a lifetime of at most
:data:`MAX_LIFETIME_S`, and that ``org`` is the organization in the path. A token minted for
organization A therefore cannot read or change B, whatever path it is sent to, and a leaked token is
worth one organization for at most an hour. HS256 rather than EdDSA: BackOffice is the only minter and
it is ours, so a shared secret costs nothing in trust, and every JWT library supports HS256.

Whatever a caller sends, the answer is 401 or 403, never an error of ours: the header's and the claims'
types are checked before they are used, and anything the JWT library raises on input it cannot read is a
401 ``malformed``. Each refusal carries a :class:`Refusal` reason that the middleware logs (never the token).
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Callable, Sequence
from enum import StrEnum
from typing import Any

from joserfc import jwt
from joserfc.errors import BadSignatureError, ExpiredTokenError, InvalidClaimError, JoseError
from joserfc.jwk import OctKey
from joserfc.jws import extract_compact

from backoffice.errors import ApiError
from backoffice.signing_keys import api_signing_keys
from service.secrets import Secret

AUDIENCE = "dayclose-api"
ALGORITHM = "HS256"
#: ``exp - iat`` may not exceed this (BackOffice mints one per request; 300 s is plenty).
MAX_LIFETIME_S = 3600
#: Clock skew allowed between BackOffice and us, on ``iat``, ``exp`` and ``nbf``.
LEEWAY_S = 30
ORGANIZATION_CLAIM = "org"
#: Longer headers are refused before any parsing.
MAX_TOKEN_CHARS = 4096
_ESSENTIAL = ("aud", "exp", "iat", ORGANIZATION_CLAIM)


class Refusal(StrEnum):
    """Why a request was refused, as the log line (``api.unauthorized``) names it (docs/api.md)."""

    MISSING = "missing"  # no Authorization header, another scheme, or no token after "Bearer"
    MALFORMED = "malformed"  # not a compact JWS of two JSON objects, too long, or a header field of the wrong type
    ALGORITHM = "algorithm"  # alg is not HS256
    UNKNOWN_KEY = "unknown_key"  # kid names no key we hold
    BAD_SIGNATURE = "bad_signature"  # no key of ours (the kid's, or any without kid) verifies it
    MISSING_CLAIM = "missing_claim"  # aud, exp, iat or org absent (or null)
    INVALID_CLAIM = "invalid_claim"  # a claim of the wrong type (org not a non-empty string, exp/iat not integers…)
    WRONG_AUDIENCE = "wrong_audience"
    EXPIRED = "expired"
    NOT_YET_VALID = "not_yet_valid"  # iat or nbf later than now + leeway
    TOO_LONG_LIVED = "too_long_lived"  # exp - iat > MAX_LIFETIME_S
    OTHER_ORGANIZATION = "other_organization"  # valid, for another organization: 403


class AuthRefused(ApiError):
    """A 401 (or 403 for another organization's token) with the reason an operator reads in the log."""

    def __init__(self, reason: Refusal, message: str, status: int = 401) -> None:
        code = "FORBIDDEN" if status == 403 else "UNAUTHORIZED"
        super().__init__(status, code, message, headers={"WWW-Authenticate": "Bearer"} if status == 401 else None)
        self.reason = reason


class TokenVerifier:
    def __init__(self, service_tokens: Sequence[Secret], clock: Callable[[], float] = time.time) -> None:
        keys = api_signing_keys([t for t in service_tokens if t])
        self._keys = {k.kid: OctKey.import_key(k.secret.reveal().encode()) for k in keys}
        self._clock = clock

    def organization(self, authorization: str | None) -> str:
        """The organization a valid ``Authorization: Bearer <JWT>`` header is scoped to; 401 otherwise."""
        scheme, _, token = (authorization or "").partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise AuthRefused(Refusal.MISSING, "a bearer token is required")
        if len(token) > MAX_TOKEN_CHARS:
            raise AuthRefused(Refusal.MALFORMED, "malformed token")
        claims = self._verified_claims(token)
        return _checked_organization(claims, int(self._clock()))

    def authorize(self, authorization: str | None, organization_id: str) -> str:
        scoped = self.organization(authorization)
        if not hmac.compare_digest(scoped.encode(), organization_id.encode()):
            raise AuthRefused(Refusal.OTHER_ORGANIZATION, "this token is not valid for this organization", 403)
        return organization_id

    def _verified_claims(self, token: str) -> dict[str, Any]:
        """The claims of a token whose signature one of our keys verifies, with ``alg`` pinned to HS256."""
        header = _header(token)
        if header.get("alg") != ALGORITHM:
            raise AuthRefused(Refusal.ALGORITHM, f"the token must be signed with {ALGORITHM}")
        kid = header.get("kid")
        if kid is not None and not isinstance(kid, str):
            raise AuthRefused(Refusal.MALFORMED, "malformed token (kid must be a string)")
        if kid is not None and kid not in self._keys:
            raise AuthRefused(Refusal.UNKNOWN_KEY, "invalid token")  # signed with a key we do not hold
        for key in [self._keys[kid]] if kid is not None else list(self._keys.values()):
            try:
                claims = jwt.decode(token, key, algorithms=[ALGORITHM]).claims
            except BadSignatureError:
                continue
            except Exception:  # noqa: BLE001 - whatever the library cannot read is the caller's malformed token
                raise AuthRefused(Refusal.MALFORMED, "malformed token") from None
            if not isinstance(claims, dict):
                raise AuthRefused(Refusal.MALFORMED, "malformed token (the claims are not a JSON object)")
            return dict(claims)
        raise AuthRefused(Refusal.BAD_SIGNATURE, "invalid token")


def _header(token: str) -> dict[str, Any]:
    """The token's protected header, a JSON object; 401 ``malformed`` for anything else."""
    try:
        header = extract_compact(token.encode()).headers()
    except Exception:  # noqa: BLE001 - bad base64, bad JSON, bad UTF-8, wrong shape: all the caller's
        raise AuthRefused(Refusal.MALFORMED, "malformed token") from None
    if not isinstance(header, dict):
        raise AuthRefused(Refusal.MALFORMED, "malformed token (the header is not a JSON object)")
    return header


def _checked_organization(claims: dict[str, Any], now: int) -> str:
    """The ``org`` claim of claims whose types, audience, times and lifetime are right; 401 otherwise. Types
    first (the library's checks compare values and must never meet a list where it expects a number)."""
    missing = [name for name in _ESSENTIAL if claims.get(name) is None]
    if missing:
        raise AuthRefused(Refusal.MISSING_CLAIM, f"invalid token claims (missing: {', '.join(missing)})")
    organization = claims[ORGANIZATION_CLAIM]
    if not isinstance(organization, str) or not organization:
        raise AuthRefused(Refusal.INVALID_CLAIM, f"the {ORGANIZATION_CLAIM!r} claim must be a non-empty string")
    if any(type(claims.get(name, 0)) is not int for name in ("exp", "iat", "nbf")):
        raise AuthRefused(Refusal.INVALID_CLAIM, "exp, iat and nbf must be integer seconds")
    registry = jwt.JWTClaimsRegistry(
        now=now, leeway=LEEWAY_S, aud={"essential": True, "value": AUDIENCE}, exp={"essential": True}
    )
    try:
        registry.validate(claims)
    except ExpiredTokenError:
        raise AuthRefused(Refusal.EXPIRED, "token expired") from None
    except InvalidClaimError as exc:
        reason = {"aud": Refusal.WRONG_AUDIENCE, "iat": Refusal.NOT_YET_VALID, "nbf": Refusal.NOT_YET_VALID}
        refusal = reason.get(exc.claim, Refusal.INVALID_CLAIM)
        if exc.claim in ("iat", "nbf") and "NumericDate" in (exc.description or ""):
            refusal = Refusal.INVALID_CLAIM
        raise AuthRefused(refusal, f"invalid token claims ({exc.error}: {exc.claim})") from None
    except JoseError as exc:
        raise AuthRefused(Refusal.INVALID_CLAIM, f"invalid token claims ({exc.error})") from None
    except Exception:  # noqa: BLE001 - a claim the library cannot compare is the caller's invalid claim
        raise AuthRefused(Refusal.INVALID_CLAIM, "invalid token claims") from None
    if claims["exp"] - claims["iat"] > MAX_LIFETIME_S:
        raise AuthRefused(Refusal.TOO_LONG_LIVED, f"token lives longer than {MAX_LIFETIME_S} s")
    return organization

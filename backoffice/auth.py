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
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Callable, Sequence
from typing import Any

from joserfc import jwt
from joserfc.errors import BadSignatureError, ExpiredTokenError, JoseError
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
            raise _unauthorized("a bearer token is required")
        if len(token) > MAX_TOKEN_CHARS:
            raise _unauthorized("malformed token")
        claims = self._verified_claims(token)
        self._check_claims(claims)
        return str(claims[ORGANIZATION_CLAIM])

    def authorize(self, authorization: str | None, organization_id: str) -> str:
        scoped = self.organization(authorization)
        if not hmac.compare_digest(scoped.encode(), organization_id.encode()):
            raise ApiError(403, "FORBIDDEN", "this token is not valid for this organization")
        return organization_id

    def _verified_claims(self, token: str) -> dict[str, Any]:
        """The claims of a token whose signature one of our keys verifies, with ``alg`` pinned to HS256."""
        try:
            header = extract_compact(token.encode()).headers()
        except (JoseError, ValueError, UnicodeError):
            raise _unauthorized("malformed token") from None
        if header.get("alg") != ALGORITHM:
            raise _unauthorized(f"the token must be signed with {ALGORITHM}")
        kid = header.get("kid")
        if kid is not None and kid not in self._keys:
            raise _unauthorized("invalid token")  # unknown key id: signed with a key we do not hold
        for key in [self._keys[kid]] if kid is not None else list(self._keys.values()):
            try:
                return dict(jwt.decode(token, key, algorithms=[ALGORITHM]).claims)
            except BadSignatureError:
                continue
            except (JoseError, ValueError, UnicodeError):
                raise _unauthorized("malformed token") from None
        raise _unauthorized("invalid token")

    def _check_claims(self, claims: dict[str, Any]) -> None:
        options: dict[str, Any] = {
            "aud": {"essential": True, "value": AUDIENCE},
            "exp": {"essential": True},
            "iat": {"essential": True},
            ORGANIZATION_CLAIM: {"essential": True},
        }
        registry = jwt.JWTClaimsRegistry(now=lambda: int(self._clock()), leeway=LEEWAY_S, **options)
        try:
            registry.validate(claims)
        except ExpiredTokenError:
            raise _unauthorized("token expired") from None
        except JoseError as exc:
            raise _unauthorized(f"invalid token claims ({exc.error})") from None
        organization = claims[ORGANIZATION_CLAIM]
        if not isinstance(organization, str) or not organization:
            raise _unauthorized(f"the {ORGANIZATION_CLAIM!r} claim must be a non-empty string")
        if type(claims["exp"]) is not int or type(claims["iat"]) is not int:
            raise _unauthorized("exp and iat must be integer seconds")
        if claims["exp"] - claims["iat"] > MAX_LIFETIME_S:
            raise _unauthorized(f"token lives longer than {MAX_LIFETIME_S} s")


def _unauthorized(message: str) -> ApiError:
    return ApiError(401, "UNAUTHORIZED", message, headers={"WWW-Authenticate": "Bearer"})

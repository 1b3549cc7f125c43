"""The card's session: an HttpOnly, SameSite=Strict cookie obtained once from a BackOffice token, and the CSRF
token every form carries.

Sign-in takes the same short-lived JWT BackOffice mints for the API, verified by the API's own
:class:`backoffice.auth.TokenVerifier` (nothing is verified twice or differently). The session it opens is a
JWT of its own, signed with a key *derived* from the API's signing keys (HKDF-SHA-256, a label of its own) and
with an audience of its own: a session cookie is worth nothing as an API bearer token and the other way round.
It names one organization and lasts :data:`LIFETIME_S` from sign-in, no longer than the longest token BackOffice
may mint, so a leaked cookie is worth no more than a leaked token. Nothing is stored server-side: any replica of
``dayclose api`` with the same keys reads it, and rotating the API's keys ends every session (BackOffice signs
the merchant in again with a fresh token when it opens the card).

CSRF: each session carries a random id; the token in every form is an HMAC of that id under the session key
(a synchronizer token without server state), checked in constant time on every POST together with the
session's organization and, when the browser sends one, the ``Origin`` header.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import OctKey

from backoffice.auth import MAX_LIFETIME_S
from backoffice.signing_keys import api_signing_keys
from service.secrets import Secret

COOKIE = "dayclose_card"
LANG_COOKIE = "dayclose_card_lang"
AUDIENCE = "dayclose-card"
ALGORITHM = "HS256"
#: A session lives as long as the longest token BackOffice may mint for the API.
LIFETIME_S = MAX_LIFETIME_S
_LABEL = b"dayclose BackOffice card session v1"


@dataclass(frozen=True)
class Session:
    organization_id: str
    #: The BackOffice user (the sign-in token's ``sub``), for the audit trail of corrections and manual exports.
    user: str | None
    session_id: str
    expires_at: int


class Sessions:
    def __init__(self, api_tokens: Sequence[Secret], clock: Callable[[], float] = time.time) -> None:
        material = b"\n".join(sorted(k.secret.reveal().encode() for k in api_signing_keys(list(api_tokens))))
        derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_LABEL).derive(material)
        self._key = OctKey.import_key(derived)
        self._csrf_key = hashlib.sha256(b"csrf\n" + derived).digest()
        self._clock = clock

    def issue(self, organization_id: str, user: str | None) -> tuple[str, Session]:
        """A new session's cookie value."""
        now = int(self._clock())
        session = Session(organization_id, user, secrets.token_urlsafe(18), now + LIFETIME_S)
        claims: dict[str, Any] = {
            "org": organization_id,
            "sid": session.session_id,
            "aud": AUDIENCE,
            "iat": now,
            "exp": session.expires_at,
        }
        if user:
            claims["sub"] = user
        return jwt.encode({"alg": ALGORITHM, "typ": "JWT"}, claims, self._key, algorithms=[ALGORITHM]), session

    def read(self, cookie: str | None) -> Session | None:
        """The session a cookie carries, or None when it is missing, forged, expired or not a session."""
        if not cookie or len(cookie) > 4096:
            return None
        try:
            token = jwt.decode(cookie, self._key, algorithms=[ALGORITHM])
            jwt.JWTClaimsRegistry(
                now=lambda: int(self._clock()),
                leeway=0,
                aud={"essential": True, "value": AUDIENCE},
                exp={"essential": True},
                org={"essential": True},
                sid={"essential": True},
            ).validate(token.claims)
        except (JoseError, ValueError, UnicodeError):
            return None
        claims = token.claims
        if not all(isinstance(claims.get(k), str) and claims[k] for k in ("org", "sid")):
            return None
        user = claims.get("sub")
        return Session(claims["org"], user if isinstance(user, str) else None, claims["sid"], int(claims["exp"]))

    def csrf_token(self, session: Session) -> str:
        mac = hmac.new(self._csrf_key, session.session_id.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(mac).rstrip(b"=").decode()

    def csrf_ok(self, session: Session, token: str | None) -> bool:
        return bool(token) and hmac.compare_digest(self.csrf_token(session).encode(), (token or "").encode())

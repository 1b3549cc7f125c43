"""The BackOffice card's sign-in link for the local stack: a person clicks it to walk the card with the demo
company (``dev up`` prints it). It carries a token BackOffice would mint for the API (docs/api.md), signed with one
of the API's keys (``DAYCLOSE_API_TOKENS``), which the card turns into its session cookie (docs/ui.md)."""

from __future__ import annotations

import time
from urllib.parse import quote

from joserfc import jwt
from joserfc.jwk import OctKey

from backoffice.auth import AUDIENCE, MAX_LIFETIME_S
from backoffice.signing_keys import api_signing_keys
from service.secrets import Secret

SIGNIN_PATH = "/card/signin"


def signin_url(
    api_url: str,
    organization_id: str,
    api_token: Secret,
    *,
    user: str | None = "demo",
    ttl_s: int = MAX_LIFETIME_S,
    now: float | None = None,
) -> str:
    """``{api_url}/card/signin?token=…`` for ``organization_id``, valid for ``ttl_s`` (at most an hour: the API
    refuses longer-lived tokens). ``api_token`` is one ``<kid>:<secret>`` entry of ``DAYCLOSE_API_TOKENS``."""
    (key,) = api_signing_keys([api_token])
    issued = int(time.time() if now is None else now)
    claims: dict[str, object] = {"org": organization_id, "aud": AUDIENCE, "iat": issued, "exp": issued + ttl_s}
    if user:
        claims["sub"] = user
    token = jwt.encode(
        {"alg": "HS256", "typ": "JWT", "kid": key.kid}, claims, OctKey.import_key(key.secret.reveal().encode())
    )
    return f"{api_url.rstrip('/')}{SIGNIN_PATH}?token={quote(token)}"

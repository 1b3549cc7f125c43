"""Minting BackOffice tokens in tests with PyJWT: a JWT library independent of the product's (joserfc),
as BackOffice's own (Node, .NET) would be."""

from __future__ import annotations

import time
from typing import Any

import jwt

from service.secrets import Secret

KID = "test-1"
SECRET = "dayclose-tests-hs256-signing-key-0123456789"  # >= 32 bytes, as HS256 keys must be
#: The ``DAYCLOSE_API_TOKENS`` entry for the key above.
SERVICE_TOKEN = Secret(f"{KID}:{SECRET}")


def mint(
    organization_id: str,
    *,
    secret: str = SECRET,
    kid: str | None = KID,
    ttl_s: int = 300,
    now: float | None = None,
    audience: Any = "dayclose-api",
    algorithm: str = "HS256",
    **claims: Any,
) -> str:
    issued = int(time.time() if now is None else now)
    payload = {"org": organization_id, "aud": audience, "iat": issued, "exp": issued + ttl_s, **claims}
    headers = {"kid": kid} if kid is not None else None
    return jwt.encode({k: v for k, v in payload.items() if v is not None}, secret, algorithm=algorithm, headers=headers)


def bearer(organization_id: str, **kwargs: Any) -> dict[str, str]:
    return {"Authorization": f"Bearer {mint(organization_id, **kwargs)}"}

from __future__ import annotations

import pytest

from backoffice.auth import MAX_TTL_S, TokenVerifier, mint_token
from backoffice.errors import ApiError
from dayclose.secrets import Secret

KEY = Secret("service-token")
NOW = 1_800_000_000.0


def verifier(*keys: Secret) -> TokenVerifier:
    return TokenVerifier(keys or (KEY,), clock=lambda: NOW)


def status(header: str | None, org: str = "org-a", v: TokenVerifier | None = None) -> int:
    try:
        (v or verifier()).authorize(header, org)
    except ApiError as exc:
        return exc.status
    return 200


def test_a_token_opens_its_own_organization_only() -> None:
    header = f"Bearer {mint_token(KEY, 'org-a', now=NOW)}"
    assert status(header, "org-a") == 200
    assert status(header, "org-b") == 403
    assert status(header, "org-a ") == 403


@pytest.mark.parametrize("header", [
    None, "", "Bearer", "Basic abc", "Bearer service-token", "Bearer dc1.x.y.z", "Bearer dc1....",
    f"Bearer {mint_token(Secret('other'), 'org-a', now=NOW)}",  # signed with a key we do not hold
    f"Bearer {mint_token(KEY, 'org-a', ttl_s=-1, now=NOW)}",  # expired
    f"Bearer {mint_token(KEY, 'org-a', ttl_s=MAX_TTL_S + 60, now=NOW)}",  # lives too long
])
def test_anything_else_is_401(header: str | None) -> None:
    assert status(header) == 401


def test_a_forged_organization_breaks_the_signature() -> None:
    token = mint_token(KEY, "org-a", now=NOW)
    version, _org, expiry, sig = token.split(".")
    forged = ".".join([version, mint_token(KEY, "org-b", now=NOW).split(".")[1], expiry, sig])
    assert status(f"Bearer {forged}", "org-b") == 401


def test_rotation_accepts_every_configured_key() -> None:
    new, old = Secret("new"), Secret("old")
    assert status(f"Bearer {mint_token(old, 'org-a', now=NOW)}", v=verifier(new, old)) == 200

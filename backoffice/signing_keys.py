"""The API's signing keys, ``DAYCLOSE_API_TOKENS``: ``<kid>:<secret>`` entries, each an HS256 key of at least
32 bytes. Parsed here for :class:`backoffice.auth.TokenVerifier` and validated at start-up by
:func:`dayclose.config.load_settings` (light: no web framework is imported)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from service.secrets import Secret

#: A key id: what BackOffice puts in the token's ``kid`` header to name the key it signed with.
_KID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
#: RFC 7518 §3.2: an HS256 key must be at least as long as the hash, 256 bits.
MIN_API_KEY_BYTES = 32


@dataclass(frozen=True)
class ApiSigningKey:
    """One HS256 key of ``DAYCLOSE_API_TOKENS``: its id (the token's ``kid``) and the secret, whose UTF-8
    bytes are the HMAC key."""

    kid: str
    secret: Secret


def api_signing_keys(entries: Sequence[Secret]) -> tuple[ApiSigningKey, ...]:
    """``<kid>:<secret>`` entries as keys. Raises ``ValueError`` naming the problem, never a secret."""
    keys: list[ApiSigningKey] = []
    problems: list[str] = []
    for position, entry in enumerate(entries, start=1):
        kid, sep, secret = entry.reveal().partition(":")
        if not sep or not _KID.match(kid):
            problems.append(f"entry {position} is not <kid>:<secret> (kid: 1-64 of A-Z a-z 0-9 . _ -)")
        elif len(secret.encode()) < MIN_API_KEY_BYTES:
            problems.append(f"key {kid!r} is shorter than {MIN_API_KEY_BYTES} bytes")
        elif any(k.kid == kid for k in keys):
            problems.append(f"key id {kid!r} is used twice")
        else:
            keys.append(ApiSigningKey(kid, Secret(secret)))
    if problems:
        raise ValueError("; ".join(problems))
    return tuple(keys)

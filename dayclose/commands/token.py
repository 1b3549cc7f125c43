"""``dayclose token --org ORG``: mint a BackOffice API token, for an operator or a script calling the API by hand
(BackOffice mints its own, per request: docs/api.md)."""

from __future__ import annotations

import argparse
import sys
import time

from backoffice.auth import ALGORITHM, AUDIENCE, MAX_LIFETIME_S, ORGANIZATION_CLAIM
from backoffice.signing_keys import ApiSigningKey
from dayclose import exitcodes
from dayclose.commands.common import Subparsers, positive_int

HELP = """Print a JWT scoped to one organization, signed with a key of DAYCLOSE_API_TOKENS (the first, or the one
named by --kid), exactly as BackOffice mints them (docs/api.md): HS256, claims org, aud=dayclose-api, iat, exp.
Only DAYCLOSE_API_TOKENS is read. Use it as `curl -H "Authorization: Bearer $(dayclose token --org ORG)" ...`."""


def register(sub: Subparsers) -> None:
    token = sub.add_parser("token", help="mint a BackOffice API token for one organization", description=HELP)
    token.add_argument("--org", required=True, help="organization id the token is scoped to")
    token.add_argument("--kid", help="key id of DAYCLOSE_API_TOKENS to sign with (default: the first)")
    token.add_argument("--ttl", type=positive_int, default=300, help="lifetime in seconds (default 300, at most 3600)")
    token.set_defaults(func=mint)


def mint_token(key: ApiSigningKey, org: str, ttl_s: int = 300) -> str:
    """A token as BackOffice mints it (docs/api.md), scoped to ``org``, living ``ttl_s`` seconds."""
    from joserfc import jwt
    from joserfc.jwk import OctKey

    now = int(time.time())
    claims = {ORGANIZATION_CLAIM: org, "aud": AUDIENCE, "iat": now, "exp": now + ttl_s}
    header = {"alg": ALGORITHM, "typ": "JWT", "kid": key.kid}
    return jwt.encode(header, claims, OctKey.import_key(key.secret.reveal().encode()))


def mint(args: argparse.Namespace) -> int:
    from dayclose.config import api_signing_keys_from_env

    if args.ttl > MAX_LIFETIME_S:
        print(f"--ttl {args.ttl}: the API refuses tokens that live longer than {MAX_LIFETIME_S} s", file=sys.stderr)
        return exitcodes.USAGE
    keys = api_signing_keys_from_env()
    key = next((k for k in keys if args.kid in (None, k.kid)), None)
    if key is None:
        known = ", ".join(k.kid for k in keys)
        print(f"no key {args.kid!r} in DAYCLOSE_API_TOKENS (its key ids: {known})", file=sys.stderr)
        return exitcodes.FAILED
    print(mint_token(key, args.org, args.ttl))
    return exitcodes.OK

"""Issue #20 finding 2: whatever a caller puts in a token, the verifier answers 401 (or 403), with a reason.

A JWT header with ``"kid": ["x"]`` raised TypeError (``kid not in self._keys``) and the API answered 500.
The property tests sign arbitrary JSON headers and claims with our own key, so that they get past the
signature to every later check, and also send arbitrary text as the token."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backoffice.auth import MAX_LIFETIME_S, AuthRefused, Refusal, TokenVerifier
from backoffice.errors import ApiError
from tests.tokens import KID, SECRET, SERVICE_TOKEN, mint

NOW = 1_800_000_000
GOOD_CLAIMS: dict[str, Any] = {"org": "org-a", "aud": "dayclose-api", "iat": NOW, "exp": NOW + 300}
VERIFIER = TokenVerifier((SERVICE_TOKEN,), clock=lambda: float(NOW))


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def signed(header: Any, claims: Any, key: bytes = SECRET.encode()) -> str:
    """A compact JWS of any JSON header and claims, with a valid HS256 signature by ``key``."""
    signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"
    return f"{signing_input}.{_b64(hmac.new(key, signing_input.encode(), hashlib.sha256).digest())}"


def refusal(token: str, org: str = "org-a") -> tuple[int, str | None]:
    """(status, reason) of the verifier's answer; (200, None) when it accepts."""
    try:
        VERIFIER.authorize(f"Bearer {token}", org)
    except AuthRefused as exc:
        return exc.status, str(exc.reason)
    return 200, None


H = {"alg": "HS256", "typ": "JWT", "kid": KID}


@pytest.mark.parametrize(
    ("header", "claims", "reason"),
    [
        ({**H, "kid": ["x"]}, GOOD_CLAIMS, "malformed"),  # the attack run's token: was a 500
        ({**H, "kid": {"k": "x"}}, GOOD_CLAIMS, "malformed"),
        ({**H, "kid": 7}, GOOD_CLAIMS, "malformed"),
        ({**H, "alg": ["HS256"]}, GOOD_CLAIMS, "algorithm"),
        ({**H, "alg": None}, GOOD_CLAIMS, "algorithm"),
        (["HS256"], GOOD_CLAIMS, "malformed"),
        ("HS256", GOOD_CLAIMS, "malformed"),
        (H, ["org-a"], "malformed"),
        (H, "org-a", "malformed"),
        (H, {**GOOD_CLAIMS, "aud": {"v": "dayclose-api"}}, "wrong_audience"),
        (H, {**GOOD_CLAIMS, "aud": ["another"]}, "wrong_audience"),
        (H, {**GOOD_CLAIMS, "nbf": "yesterday"}, "invalid_claim"),
        (H, {**GOOD_CLAIMS, "exp": float(NOW + 300)}, "invalid_claim"),
        (H, {**GOOD_CLAIMS, "exp": [NOW + 300]}, "invalid_claim"),
        (H, {**GOOD_CLAIMS, "exp": 10**400}, "too_long_lived"),
        (H, {**GOOD_CLAIMS, "org": {"id": "org-a"}}, "invalid_claim"),
        (H, {**GOOD_CLAIMS, "iss": ["x"]}, "invalid_claim"),
        (H, {k: v for k, v in GOOD_CLAIMS.items() if k != "org"}, "missing_claim"),
        (H, {**GOOD_CLAIMS, "exp": None}, "missing_claim"),
        (H, {**GOOD_CLAIMS, "iat": NOW + 3600, "exp": NOW + 3700}, "not_yet_valid"),
        (H, {**GOOD_CLAIMS, "nbf": NOW + 3600}, "not_yet_valid"),
        (H, {**GOOD_CLAIMS, "iat": NOW - 10, "exp": NOW - 5 + MAX_LIFETIME_S}, "too_long_lived"),
        ({**H, "kid": "unknown"}, GOOD_CLAIMS, "unknown_key"),
        ({**H, "crit": ["exp"]}, GOOD_CLAIMS, "malformed"),
        ({**H, "b64": False, "crit": ["b64"]}, GOOD_CLAIMS, "malformed"),
    ],
)
def test_a_forged_header_or_claim_of_any_type_is_a_401_with_its_reason(header: Any, claims: Any, reason: str) -> None:
    assert refusal(signed(header, claims)) == (401, reason)


@pytest.mark.parametrize(
    ("token", "expected"),
    [
        (mint("org-a", now=NOW), (200, None)),
        (mint("org-a", now=NOW), (403, "other_organization")),
        (mint("org-a", now=NOW - 400), (401, "expired")),
        (mint("org-a", now=NOW, secret="another-secret-of-at-least-32-bytes-long"), (401, "bad_signature")),
        (mint("org-a", now=NOW, kid=None, secret="another-secret-of-at-least-32-bytes-long"), (401, "bad_signature")),
        (mint("org-a", now=NOW, audience="another-service"), (401, "wrong_audience")),
        ("not.a.token", (401, "malformed")),
        ("a" * 5000, (401, "malformed")),
        ("%%%.e30.eA", (401, "malformed")),
    ],
)
def test_each_refusal_names_its_reason(token: str, expected: tuple[int, str | None]) -> None:
    org = "org-b" if expected[1] == "other_organization" else "org-a"
    assert refusal(token, org) == expected


def test_no_token_is_missing() -> None:
    for header in (None, "", "Bearer", "Bearer   ", "Basic abc"):
        with pytest.raises(AuthRefused) as info:
            VERIFIER.authorize(header, "org-a")
        assert (info.value.status, info.value.reason) == (401, Refusal.MISSING)


_scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8)
_json = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3),
    max_leaves=12,
)


def _either(good: Any) -> st.SearchStrategy[Any]:
    return st.one_of(st.just(good), _json)


_headers = st.one_of(
    _json,
    st.fixed_dictionaries(
        {"alg": _either("HS256")},
        optional={"kid": _either(KID), "typ": _either("JWT"), "crit": _json, "b64": _json, "x": _json},
    ),
)
_claims = st.one_of(
    _json,
    st.fixed_dictionaries(
        {},
        optional={
            "org": _either("org-a"),
            "aud": st.one_of(_either("dayclose-api"), st.just(["dayclose-api", "x"])),
            "iat": st.one_of(_either(NOW), st.integers(NOW - 7200, NOW + 7200)),
            "exp": st.one_of(_either(NOW + 300), st.integers(NOW - 7200, NOW + 7200)),
            "nbf": st.one_of(_json, st.integers(NOW - 7200, NOW + 7200)),
            "iss": _json,
            "jti": _json,
        },
    ),
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(header=_headers, claims=_claims, ours=st.booleans())
def test_no_json_header_or_claims_make_the_check_fail_with_anything_but_401_or_403(
    header: Any, claims: Any, ours: bool
) -> None:
    key = SECRET.encode() if ours else b"not-our-key-but-long-enough-for-hs256!!"
    status, reason = refusal(signed(header, claims, key))
    if status == 200:
        assert (
            ours
            and header["alg"] == "HS256"
            and claims["org"] == "org-a"
            and claims["aud"]
            in (
                "dayclose-api",
                ["dayclose-api", "x"],
            )
        )
        assert type(claims["exp"]) is int and NOW - 30 < claims["exp"] and claims["iat"] <= NOW + 30
    else:
        assert status == 401 and reason in set(Refusal), (status, reason)


@settings(max_examples=300, deadline=None)
@given(token=st.text(max_size=300) | st.binary(max_size=200).map(lambda b: b.decode("latin-1")))
def test_no_text_as_a_token_makes_the_check_fail_with_anything_but_401(token: str) -> None:
    try:
        VERIFIER.authorize(f"Bearer {token}", "org-a")
    except ApiError as exc:
        assert exc.status == 401 and isinstance(exc, AuthRefused)
    else:  # pragma: no cover - a random text is never a token signed with our key
        pytest.fail("random text accepted as a token")


@settings(max_examples=200, deadline=None)
@given(parts=st.lists(st.binary(max_size=60), min_size=1, max_size=5))
def test_no_base64url_parts_make_the_check_fail_with_anything_but_401(parts: list[bytes]) -> None:
    token = ".".join(_b64(p) for p in parts)
    status, reason = refusal(token)
    assert status == 401 and reason in set(Refusal)

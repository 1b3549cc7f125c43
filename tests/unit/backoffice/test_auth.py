"""BackOffice tokens: JWTs minted by PyJWT (independent of the product's joserfc), plus hand-made attacks."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import re
import shutil
import subprocess
import warnings
from pathlib import Path

import jwt
import pytest

from backoffice.auth import LEEWAY_S, MAX_LIFETIME_S, TokenVerifier
from backoffice.errors import ApiError
from service.secrets import Secret
from tests.tokens import KID, SECRET, SERVICE_TOKEN, mint

NOW = 1_800_000_000.0
OTHER_SECRET = "a-key-this-service-does-not-hold-0123456789"
DOCS = Path(__file__).resolve().parents[3] / "docs" / "api.md"


def verifier(*keys: Secret, now: float = NOW) -> TokenVerifier:
    return TokenVerifier(keys or (SERVICE_TOKEN,), clock=lambda: now)


def status(header: str | None, org: str = "org-a", v: TokenVerifier | None = None) -> int:
    try:
        (v or verifier()).authorize(header, org)
    except ApiError as exc:
        return exc.status
    return 200


def bearer(org: str = "org-a", **kwargs: object) -> str:
    kwargs.setdefault("now", NOW)
    return f"Bearer {mint(org, **kwargs)}"  # type: ignore[arg-type]


def same_key_other_algorithm(algorithm: str) -> str:
    with warnings.catch_warnings():  # PyJWT warns that our 43-byte key is short for HS384/HS512: on purpose
        warnings.simplefilter("ignore", jwt.warnings.InsecureKeyLengthWarning)
        return bearer(algorithm=algorithm)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def hand_made(header: dict[str, object], claims: dict[str, object], key: bytes | None = SECRET.encode()) -> str:
    signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"
    signature = _b64(hmac.new(key, signing_input.encode(), hashlib.sha256).digest()) if key else ""
    return f"Bearer {signing_input}.{signature}"


GOOD_CLAIMS = {"org": "org-a", "aud": "dayclose-api", "iat": int(NOW), "exp": int(NOW) + 300}


def test_a_token_opens_its_own_organization_only() -> None:
    assert status(bearer(), "org-a") == 200
    assert status(bearer(), "org-b") == 403
    assert status(bearer(), "org-a ") == 403
    assert verifier().organization(bearer("org-ä/1")) == "org-ä/1"


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "Bearer",
        "Basic abc",
        f"Bearer {SECRET}",
        "Bearer a.b.c",
        "Bearer dc1.x.y.z",
        "Bearer " + "x" * 5000,
        bearer(secret=OTHER_SECRET),  # our key id, another key
        bearer(secret=OTHER_SECRET, kid=None),  # no key id: no configured key verifies it
        bearer(kid="unknown-kid"),
        bearer(ttl_s=-(LEEWAY_S + 1)),  # expired beyond the clock-skew allowance
        bearer(now=NOW + LEEWAY_S + 60),  # issued in the future
        bearer(ttl_s=MAX_LIFETIME_S + 1),  # lives too long
        bearer(audience="another-service"),
        bearer(audience=None),
        bearer(org=None),  # type: ignore[arg-type]
        same_key_other_algorithm("HS512"),  # alg is pinned
        same_key_other_algorithm("HS384"),
        hand_made({"alg": "none", "typ": "JWT"}, GOOD_CLAIMS, key=None),
        hand_made({"alg": "HS256"}, {**GOOD_CLAIMS, "exp": None}),
        hand_made({"alg": "HS256"}, {k: v for k, v in GOOD_CLAIMS.items() if k != "iat"}),
        hand_made({"alg": "HS256"}, {**GOOD_CLAIMS, "org": 42}),
        hand_made({"alg": "HS256"}, {**GOOD_CLAIMS, "org": ""}),
        hand_made({"alg": "HS256"}, {**GOOD_CLAIMS, "exp": True}),
        # Issue #20 finding 2: header fields and claims of another JSON type (was a TypeError: a 500)
        hand_made({"alg": "HS256", "kid": ["x"]}, GOOD_CLAIMS),
        hand_made({"alg": "HS256", "kid": {"x": 1}}, GOOD_CLAIMS),
        hand_made({"alg": "HS256"}, {**GOOD_CLAIMS, "aud": {"x": 1}}),
        hand_made({"alg": "HS256"}, {**GOOD_CLAIMS, "nbf": "soon"}),
    ],
    ids=lambda h: (h or "none")[:40],
)
def test_anything_else_is_401(header: str | None) -> None:
    assert status(header) == 401


def test_a_hand_made_token_with_the_right_key_is_accepted() -> None:
    """Guards the cases above: each differs from this one token in one point only."""
    assert status(hand_made({"alg": "HS256", "typ": "JWT", "kid": KID}, GOOD_CLAIMS)) == 200
    assert status(hand_made({"alg": "HS256"}, GOOD_CLAIMS)) == 200  # no kid: every key is tried


def test_clock_skew_within_the_leeway_is_tolerated() -> None:
    assert status(bearer(ttl_s=-(LEEWAY_S - 5))) == 200  # just expired by BackOffice's clock
    assert status(bearer(now=NOW + LEEWAY_S - 5)) == 200  # BackOffice's clock a little ahead


def test_a_tampered_organization_breaks_the_signature() -> None:
    header, claims, signature = mint("org-a", now=NOW).split(".")
    payload = json.loads(base64.urlsafe_b64decode(claims + "=="))
    forged = _b64(json.dumps({**payload, "org": "org-b"}).encode())
    assert status(f"Bearer {header}.{forged}.{signature}", "org-b") == 401


def test_rotation_selects_the_key_by_kid_and_accepts_old_and_new_during_the_overlap() -> None:
    new, old = Secret(f"2026-11:{'n' * 40}"), Secret(f"2026-05:{'o' * 40}")
    both = verifier(new, old)
    assert status(bearer(kid="2026-05", secret="o" * 40), v=both) == 200
    assert status(bearer(kid="2026-11", secret="n" * 40), v=both) == 200
    assert status(bearer(kid="2026-11", secret="o" * 40), v=both) == 401  # kid names the key: no guessing
    assert status(bearer(kid="2026-05", secret="o" * 40), v=verifier(new)) == 401  # old key dropped


def test_the_documented_test_vector() -> None:
    """docs/api.md gives a key, the exact header and claims JSON, and the resulting token."""
    block = re.search(r"\*\*Test vector\*\*.*?```text\n(.*?)```", DOCS.read_text(), re.DOTALL)
    assert block, "test vector block missing in docs/api.md"
    vector = dict(re.findall(r"^(key|kid|header|claims|token|now) +(\S.*)$", block[1], re.MULTILINE))
    assert set(vector) == {"key", "kid", "header", "claims", "token", "now"}, "test vector block missing in api.md"
    header, claims = vector["header"], vector["claims"]
    signing_input = f"{_b64(header.encode())}.{_b64(claims.encode())}"
    signature = _b64(hmac.new(vector["key"].encode(), signing_input.encode(), hashlib.sha256).digest())
    assert vector["token"] == f"{signing_input}.{signature}"
    assert json.loads(header)["kid"] == vector["kid"]
    v = verifier(Secret(f"{vector['kid']}:{vector['key']}"), now=float(vector["now"]))
    assert v.organization(f"Bearer {vector['token']}") == json.loads(claims)["org"]
    late = verifier(Secret(f"{vector['kid']}:{vector['key']}"), now=json.loads(claims)["exp"] + LEEWAY_S + 1)
    with pytest.raises(ApiError) as info:
        late.organization(f"Bearer {vector['token']}")
    assert info.value.status == 401


def test_an_invalid_key_configuration_fails_at_construction() -> None:
    with pytest.raises(ValueError, match="shorter than 32 bytes"):
        TokenVerifier((Secret("k:short"),))


def test_the_node_example_in_the_docs_mints_a_token_the_api_accepts(tmp_path: Path) -> None:
    """docs/api.md's Node snippet, run as written with the `jose` package (tools/node), verified by the API."""
    node = shutil.which("node")
    tools = DOCS.parents[1] / "tools" / "node"
    assert node and (tools / "node_modules" / "jose").is_dir(), "needs Node and `npm ci --prefix tools/node`"
    snippet = re.search(r"Node \(\[`jose`\].*?```js\n(.*?)```", DOCS.read_text(), re.DOTALL)
    assert snippet, "the Node example is missing from docs/api.md"
    # Inside tools/node, so that `import "jose"` resolves to its node_modules.
    script = tools / f".docs-example-{os.getpid()}.mjs"
    script.write_text(snippet[1] + "\nconsole.log(await daycloseToken(process.argv[2]));\n")
    try:
        version = subprocess.run([node, "--version"], capture_output=True, text=True, check=True).stdout
        # Node 18 (Debian 12's) has WebCrypto, which jose uses, only behind a flag.
        flags = ["--experimental-global-webcrypto"] if int(version.lstrip("v").split(".")[0]) < 19 else []
        result = subprocess.run(
            [node, *flags, str(script), "org-from-node"],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
            env={**os.environ, "DAYCLOSE_API_KEY_ID": KID, "DAYCLOSE_API_KEY": SECRET},
        )
    finally:
        script.unlink()
    assert result.returncode == 0, result.stderr
    token = result.stdout.strip()
    live = TokenVerifier((SERVICE_TOKEN,))  # the real clock: the example stamps iat/exp with Node's
    assert live.organization(f"Bearer {token}") == "org-from-node"
    with pytest.raises(ApiError) as info:
        live.authorize(f"Bearer {token}", "another-org")
    assert info.value.status == 403

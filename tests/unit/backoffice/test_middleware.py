"""The checks before any body is read, driven as plain ASGI: what the client sends, what the app may read."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import time
from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi import Body, FastAPI
from structlog.testing import capture_logs

from backoffice.auth import TokenVerifier
from backoffice.middleware import BodySizeLimit, OrganizationAuthorization
from tests.tokens import SECRET, SERVICE_TOKEN, mint

LIMIT = 1000
CHUNK = 300
KEY = SERVICE_TOKEN


@dataclass
class Client:
    """Sends ``chunks`` as the request body, counting how many the server pulled."""

    chunks: list[bytes]
    pulled: int = 0
    sent: list[dict[str, Any]] = field(default_factory=list)

    async def receive(self) -> dict[str, Any]:
        if self.pulled >= len(self.chunks):
            await asyncio.sleep(3600)  # a client that never sends more: the test fails on the timeout
        self.pulled += 1
        return {
            "type": "http.request",
            "body": self.chunks[self.pulled - 1],
            "more_body": self.pulled < len(self.chunks),
        }

    async def send(self, message: dict[str, Any]) -> None:
        self.sent.append(message)

    @property
    def status(self) -> int:
        (start,) = [m for m in self.sent if m["type"] == "http.response.start"]
        return int(start["status"])

    @property
    def headers(self) -> dict[str, str]:
        (start,) = [m for m in self.sent if m["type"] == "http.response.start"]
        return {k.decode(): v.decode() for k, v in start["headers"]}

    @property
    def body(self) -> dict[str, Any]:
        return json.loads(b"".join(m.get("body", b"") for m in self.sent if m["type"] == "http.response.body"))


def app() -> Any:
    """A FastAPI app reading a JSON body, behind the two middlewares as create_app stacks them."""
    inner = FastAPI()

    @inner.put("/v1/organizations/{organization_id}/thing")
    def put_thing(organization_id: str, body: dict[str, Any] = Body()) -> dict[str, Any]:  # noqa: B008
        return {"ok": True}

    verifier = TokenVerifier((KEY,))
    authorization = OrganizationAuthorization(inner, verifier=lambda: verifier, routes=lambda: inner.routes)
    return BodySizeLimit(authorization, max_bytes=LIMIT)


def call(client: Client, headers: dict[str, str], org: str = "org-a") -> None:
    asgi = app()
    scope = {
        "type": "http",
        "method": "PUT",
        "path": f"/v1/organizations/{org}/thing",
        "raw_path": b"",
        "query_string": b"",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "http_version": "1.1",
        "scheme": "http",
        "server": ("t", 80),
        "client": ("c", 1),
        "root_path": "",
    }
    asyncio.run(asyncio.wait_for(asgi(scope, client.receive, client.send), timeout=10))


def token(org: str = "org-a") -> dict[str, str]:
    return {"authorization": f"Bearer {mint(org)}", "content-type": "application/json"}


def padded(size: int) -> list[bytes]:
    body = b'{"x": "' + b"a" * (size - 9) + b'"}'
    return [body[i : i + CHUNK] for i in range(0, len(body), CHUNK)]


def test_a_body_within_the_limit_reaches_the_route() -> None:
    client = Client(padded(LIMIT))
    call(client, {**token(), "content-length": str(LIMIT)})
    assert client.status == 200


@pytest.mark.parametrize("with_token", [False, True], ids=["anonymous", "with a token"])
def test_a_declared_length_over_the_limit_is_refused_before_a_byte_is_read(with_token: bool) -> None:
    client = Client(padded(100 * LIMIT))
    call(client, {**(token() if with_token else {}), "content-length": str(100 * LIMIT)})
    assert client.pulled == 0
    assert client.status == 413 and client.body["code"] == "BODY_TOO_LARGE"
    assert set(client.body) == {"code", "message", "field_errors", "details"}
    assert client.headers["connection"] == "close"


@pytest.mark.parametrize("declared", [None, "10"], ids=["chunked", "a lying content-length"])
def test_an_undeclared_or_understated_body_is_cut_off_at_the_limit(declared: str | None) -> None:
    """No Content-Length (chunked), or one that says less than is sent: counted while it streams; reading
    stops at the first chunk past the limit, and the 413 replaces whatever the app would have answered."""
    client = Client(padded(100 * LIMIT))
    headers = token() | ({"content-length": declared} if declared else {"transfer-encoding": "chunked"})
    call(client, headers)
    assert client.pulled == LIMIT // CHUNK + 1  # never more than the limit plus one chunk
    assert client.status == 413 and client.body["code"] == "BODY_TOO_LARGE"
    assert len([m for m in client.sent if m["type"] == "http.response.start"]) == 1


@pytest.mark.parametrize(
    ("token_for", "status"), [(None, 401), ("org-b", 403)], ids=["no token", "another organization's token"]
)
@pytest.mark.parametrize("body", [b"{not json", b'{"x": ', b"[]"], ids=["unparsable", "truncated", "wrong type"])
def test_a_missing_or_foreign_token_is_refused_before_the_body_is_read(
    token_for: str | None, status: int, body: bytes
) -> None:
    """Finding 2: an invalid body with another organization's token got 422 from the validator."""
    headers = token(token_for) if token_for else {"content-type": "application/json"}
    client = Client([body])
    call(client, {**headers, "content-length": str(len(body))})
    assert client.pulled == 0
    assert client.status == status and client.body["code"] in ("UNAUTHORIZED", "FORBIDDEN")
    assert client.headers["connection"] == "close"


def test_an_oversized_body_is_refused_before_authentication() -> None:
    client = Client(padded(2 * LIMIT))
    call(client, {"content-length": str(2 * LIMIT)})
    assert client.status == 413


def test_a_forged_token_is_a_logged_401_naming_the_reason_and_route_never_a_500() -> None:
    """Issue #20 finding 2: ``"kid": ["x"]`` raised TypeError in the verifier, which the middleware (catching only
    ApiError) let through as a 500 with a traceback per request."""
    forged = signed_token({"alg": "HS256", "typ": "JWT", "kid": ["x"]})
    client = Client([b"{}"])
    with capture_logs() as logs:
        call(client, {"authorization": f"Bearer {forged}", "content-type": "application/json", "content-length": "2"})
    assert client.status == 401 and client.body["code"] == "UNAUTHORIZED"
    (line,) = [entry for entry in logs if entry["event"] == "api.unauthorized"]
    assert line["reason"] == "malformed" and line["status"] == 401
    assert line["route"] == "/v1/organizations/{organization_id}/thing"
    assert forged not in repr(logs) and forged.split(".")[0] not in repr(logs)


def test_an_unexpected_error_in_the_verifier_is_still_a_401() -> None:
    class Broken:
        def authorize(self, authorization: str | None, organization_id: str) -> str:
            raise TypeError(f"unhashable: {authorization}")

    inner = FastAPI()
    asgi = OrganizationAuthorization(inner, verifier=Broken)  # type: ignore[arg-type]
    client = Client([b""])
    with capture_logs() as logs:
        asyncio.run(
            asgi(
                _scope("/v1/organizations/org-a/thing", {"authorization": "Bearer x.y.z"}), client.receive, client.send
            )
        )
    assert client.status == 401
    (line,) = [entry for entry in logs if entry["event"] == "api.unauthorized"]
    assert (line["reason"], line["unexpected"], line["route"]) == ("malformed", "TypeError", "?")
    assert "x.y.z" not in repr(logs)


def signed_token(header: dict[str, Any], claims: dict[str, Any] | None = None) -> str:
    body = claims or {"org": "org-a", "aud": "dayclose-api", "iat": int(time.time()), "exp": int(time.time()) + 60}
    signing_input = ".".join(
        base64.urlsafe_b64encode(json.dumps(part).encode()).rstrip(b"=").decode() for part in (header, body)
    )
    digest = hmac.new(SECRET.encode(), signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{base64.urlsafe_b64encode(digest).rstrip(b'=').decode()}"


def _scope(path: str, headers: dict[str, str]) -> dict[str, Any]:
    return {
        "type": "http",
        "method": "PUT",
        "path": path,
        "raw_path": b"",
        "query_string": b"",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "http_version": "1.1",
        "scheme": "http",
        "server": ("t", 80),
        "client": ("c", 1),
        "root_path": "",
    }

"""Issue #20 finding 7: a deadline on reading a request body, and a rate per token scope (organization)."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import Body, FastAPI

from backoffice.auth import TokenVerifier
from backoffice.limits import BodyReadTimeout, RateLimiter
from backoffice.middleware import OrganizationAuthorization
from tests.tokens import SERVICE_TOKEN, mint
from tests.unit.backoffice.test_middleware import Client, _scope


class Stalling(Client):
    """Sends its chunks, then nothing more while claiming more is coming (a body trickling at 0 B/s)."""

    async def receive(self) -> dict[str, Any]:
        if self.pulled >= len(self.chunks):
            await asyncio.sleep(3600)
        self.pulled += 1
        return {"type": "http.request", "body": self.chunks[self.pulled - 1], "more_body": True}


def app(*, slow_handler_s: float = 0.0) -> FastAPI:
    inner = FastAPI()

    @inner.put("/v1/organizations/{organization_id}/thing")
    async def put_thing(organization_id: str, body: dict[str, Any] = Body()) -> dict[str, Any]:  # noqa: B008
        await asyncio.sleep(slow_handler_s)  # a BL call, after the body is in
        return {"ok": True}

    return inner


def run(asgi: Any, client: Client, headers: dict[str, str], org: str = "org-a") -> None:
    asyncio.run(asyncio.wait_for(asgi(_scope(f"/v1/organizations/{org}/thing", headers), client.receive,
                                      client.send), timeout=10))  # fmt: skip


def test_a_body_that_stops_arriving_is_a_408_and_the_connection_is_closed() -> None:
    client = Stalling([b'{"x": ', b"1"])
    run(BodyReadTimeout(app(), timeout_s=0.05), client, {"content-type": "application/json", "content-length": "99"})
    assert client.status == 408 and client.body["code"] == "BODY_READ_TIMEOUT"
    assert client.headers["connection"] == "close" and client.pulled == 2


def test_a_handler_slower_than_the_deadline_is_not_cut_short_once_the_body_is_in() -> None:
    client = Client([b'{"x": 1}'])
    run(BodyReadTimeout(app(slow_handler_s=0.2), timeout_s=0.05), client, {"content-type": "application/json"})
    assert client.status == 200


def test_a_bucket_per_key_refills_at_its_rate() -> None:
    now = [0.0]
    limiter = RateLimiter(rate_per_s=2.0, burst=3, clock=lambda: now[0])
    assert [limiter.take("org-a") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert limiter.take("org-a") == 0.5  # one token comes every 0.5 s
    assert limiter.take("org-b") == 0.0  # another key, another bucket
    now[0] = 0.5
    assert limiter.take("org-a") == 0.0 and limiter.take("org-a") > 0


def test_beyond_its_rate_an_organization_gets_429_with_retry_after_and_others_do_not() -> None:
    now = [0.0]
    verifier = TokenVerifier((SERVICE_TOKEN,))
    limiter = RateLimiter(rate_per_s=0.1, burst=2, clock=lambda: now[0])
    asgi = OrganizationAuthorization(app(), verifier=lambda: verifier, limiter=limiter)
    statuses = []
    for org in ("org-a", "org-a", "org-a", "org-b"):
        client = Client([b'{"x": 1}'])
        run(asgi, client, {"authorization": f"Bearer {mint(org)}", "content-type": "application/json"}, org)
        statuses.append((client.status, client.headers.get("retry-after")))
    assert statuses == [(200, None), (200, None), (429, "10"), (200, None)]
    client = Client([b"{}"])
    run(asgi, client, {"authorization": f"Bearer {mint('org-b')}"}, "org-a")
    assert client.status == 403  # a refused token spends nothing of org-a's

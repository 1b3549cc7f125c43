"""The BL client's two token buckets (per company, per client), and their settings. Fake clocks: nothing here waits
on a real clock. (The pre-flight's facts per company: test_company_facts.py.)"""

from __future__ import annotations

import io
from datetime import timedelta
from typing import Any

import pytest
import requests
import urllib3

from exporters.bl import BLConfig
from exporters.bl.ratelimit import KeyedTokenBucket, TokenBucket
from exporters.bl.transport import BLTransport

WEEK = 7 * 86_400.0


class FakeTime:
    def __init__(self) -> None:
        self.now = 100.0

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def in_any_second(times: list[float]) -> int:
    return max(len([x for x in times[i:] if x - start < 1.0]) for i, start in enumerate(times))


def test_a_company_bucket_holds_each_company_to_its_rate_and_leaves_the_others_alone() -> None:
    t = FakeTime()
    buckets = KeyedTokenBucket(4.0, clock=t.clock, sleep=t.sleep)
    seen: dict[str, list[float]] = {"a": [], "b": []}
    for _ in range(20):
        for key in ("a", "b"):
            buckets.acquire(key)
            seen[key].append(t.now)

    assert in_any_second(seen["a"]) <= 1 + 4 and in_any_second(seen["b"]) <= 1 + 4
    # b's requests never waited for a's: each company's 20 requests took (20 - 1) / 4 s, side by side.
    assert seen["a"][-1] - seen["a"][0] == pytest.approx(19 / 4)
    assert seen["b"][-1] - seen["a"][0] == pytest.approx(19 / 4)


def test_companies_whose_bucket_refilled_are_forgotten_when_the_map_grows() -> None:
    t = FakeTime()
    buckets = KeyedTokenBucket(10.0, clock=t.clock, sleep=t.sleep)
    for n in range(KeyedTokenBucket.PRUNE_AT):
        buckets.acquire(f"company-{n}")
    t.now += 1.0  # every bucket refilled
    buckets.acquire("busy")
    buckets.acquire("busy")
    buckets.acquire("another")  # the map passes PRUNE_AT: refilled keys go

    assert len(buckets) == 2  # "busy" (still owing a slot) and "another"
    assert buckets.reserve("busy") > 0  # a kept key keeps its debt


class RecordingLimiter:
    def __init__(self, name: str, log: list[str]) -> None:
        self.name, self.log = name, log

    def acquire(self, key: str | None = None) -> None:
        self.log.append(self.name if key is None else f"{self.name}:{key}")


class OkSession:
    def request(self, *args: Any, **kwargs: Any) -> Any:
        """A real ``requests.Response`` over a 200 with ``{}``: the transport reads the body itself (#24)."""
        response = requests.Response()
        response.status_code = 200
        response.raw = urllib3.HTTPResponse(body=io.BytesIO(b"{}"), preload_content=False, status=200)
        response.elapsed = timedelta(0)
        return response

    def close(self) -> None:
        pass


def test_every_request_waits_for_its_companys_bucket_then_the_clients() -> None:
    log: list[str] = []
    config = BLConfig(client_id="ours", client_secret="not-a-real-secret")  # noqa: S106
    transport = BLTransport(
        config,
        session=OkSession(),  # type: ignore[arg-type]
        limiter=RecordingLimiter("client", log),  # type: ignore[arg-type]
        company_limiter=RecordingLimiter("company", log),  # type: ignore[arg-type]
    )
    transport.tokens.token = lambda: "t"  # type: ignore[method-assign]

    transport.request("GET", "/account", user_key="key-1", operation="list accounts")
    transport.request("GET", "/account", user_key="key-2", operation="list accounts")

    # The company's slot first: a request waiting for its company holds none of the client's meanwhile.
    assert log == ["company:key-1", "client", "company:key-2", "client"]


def test_both_limits_are_settings_with_the_same_default() -> None:
    from dayclose.config import load_settings

    env = {"KAFKA_BOOTSTRAP_SERVERS": "k:9092", "DATABASE_URL": "postgresql://x/y", "BL_CLIENT_ID": "c"}
    env["BL_CLIENT_SECRET"] = "s"
    default = load_settings(env).bl
    assert (default.max_requests_per_second, default.max_requests_per_second_per_company) == (8.0, 8.0)
    assert default.preflight_ttl_s == WEEK  # accounts; fiscal years are kept until outgrown or refused
    tuned = load_settings({**env, "BL_MAX_REQUESTS_PER_SECOND": "80", "BL_MAX_REQUESTS_PER_SECOND_PER_COMPANY": "5"})
    assert (tuned.bl.max_requests_per_second, tuned.bl.max_requests_per_second_per_company) == (80.0, 5.0)
    assert isinstance(TokenBucket(tuned.bl.max_requests_per_second).rate_per_s, float)

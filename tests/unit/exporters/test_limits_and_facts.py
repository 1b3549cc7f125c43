"""The BL client's two token buckets (per company, per client) and the pre-flight's facts per company: kept for a day,
one fetch for concurrent askers, forgotten on a merchant-fixable refusal. Fake clocks and a fake BL client: nothing
here waits on a real clock."""

from __future__ import annotations

import io
import threading
from collections import Counter
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
import requests
import urllib3

from exporters.bl import BLConfig
from exporters.bl.errors import RetryableFailure
from exporters.bl.facts import ChartFact, CompanyFacts
from exporters.bl.ratelimit import KeyedTokenBucket, TokenBucket
from exporters.bl.transport import BLTransport

DAY = 86_400.0


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
    assert default.preflight_ttl_s == DAY
    tuned = load_settings({**env, "BL_MAX_REQUESTS_PER_SECOND": "80", "BL_MAX_REQUESTS_PER_SECOND_PER_COMPANY": "5"})
    assert (tuned.bl.max_requests_per_second, tuned.bl.max_requests_per_second_per_company) == (80.0, 5.0)
    assert isinstance(TokenBucket(tuned.bl.max_requests_per_second).rate_per_s, float)


# -- the pre-flight's facts per company --------------------------------------------------------------------------


class FakeBL:
    """What BL holds per company; every fetch counted. ``gate`` (if set) holds fetches until released."""

    def __init__(self) -> None:
        self.fetches: Counter[tuple[str, str]] = Counter()
        self.accounts_of: dict[str, list[dict[str, Any]]] = {}
        self.gate: threading.Event | None = None
        self.entered = threading.Semaphore(0)
        self.fail_next: list[BaseException] = []

    def _fetch(self, key: str, kind: str, answer: Callable[[], Any]) -> Any:
        self.fetches[(key, kind)] += 1
        self.entered.release()
        if self.gate is not None:
            self.gate.wait()
        if self.fail_next:
            raise self.fail_next.pop(0)
        return answer()

    def financial_years(self, user_key: str) -> list[dict[str, Any]]:
        years = [{"id": f"{y}01", "fromDate": f"{y}-01-01", "toDate": f"{y}-12-31", "open": True} for y in (2025, 2026)]
        return list(self._fetch(user_key, "years", lambda: years))

    def accounts(self, user_key: str) -> list[dict[str, Any]]:
        return list(self._fetch(user_key, "accounts", lambda: self.accounts_of.get(user_key, CHART)))

    def cost_centres(self, user_key: str) -> list[dict[str, Any]]:
        return list(self._fetch(user_key, "cost centres", lambda: []))


CHART = [
    {"id": "1910", "name": "Kassa", "closed": False, "vatCode": "0", "type": "asset"},
    {"id": "3001", "name": "Försäljning 25 %", "closed": False, "vatCode": "1"},
    {"id": "3002", "name": "Försäljning 12 %", "closed": True, "vatCode": "2"},
    *({"id": str(4000 + n), "name": f"Konto {n}", "closed": False} for n in range(200)),
]


def facts(bl: FakeBL, t: FakeTime, **kwargs: Any) -> CompanyFacts:
    return CompanyFacts(bl, DAY, t.clock, **kwargs)  # type: ignore[arg-type]


class CountingEvent(threading.Event):
    """The in-flight fetch's event, counting the threads that wait on it."""

    def __init__(self) -> None:
        super().__init__()
        self.waiting = threading.Semaphore(0)

    def wait(self, timeout: float | None = None) -> bool:
        self.waiting.release()
        return super().wait(timeout)


def waiters_on(f: CompanyFacts, key: str, kind: str) -> CountingEvent:
    """Count who waits on the fetch in flight for (company, kind) from now on."""
    flight = f._flights[(key, kind)]  # noqa: SLF001 - the fetch in progress
    flight.done = CountingEvent()
    return flight.done


def test_a_companys_years_and_accounts_are_fetched_once_a_day_and_every_date_is_answered_from_them() -> None:
    bl, t = FakeBL(), FakeTime()
    f = facts(bl, t)
    for d in (date(2026, 3, 1), date(2026, 11, 25), date(2025, 12, 31)):
        assert f.financial_year("k", d) is not None
    assert f.financial_year("k", date(2027, 1, 1)) is None
    assert f.accounts("k", ["1910", "3001"]) == {
        "1910": ChartFact("Kassa", False, "0"),
        "3001": ChartFact("Försäljning 25 %", False, "1"),
    }
    f.accounts("k", ["3001"])
    t.now += DAY - 1
    f.accounts("k", ["1910"])
    f.financial_year("k", date(2026, 6, 1))
    assert bl.fetches == {("k", "years"): 1, ("k", "accounts"): 1}
    t.now += 1  # a day after the first fetch
    f.accounts("k", ["1910"])
    f.financial_years("k")
    assert bl.fetches == {("k", "years"): 2, ("k", "accounts"): 2}


def test_only_the_accounts_asked_about_are_kept_and_a_new_one_fetches_the_chart_again() -> None:
    bl, t = FakeBL(), FakeTime()
    f = facts(bl, t)
    f.accounts("k", ["1910", "3001"])
    assert f.accounts("k", ["3002", "9999"]) == {"3002": ChartFact("Försäljning 12 %", True, "2")}  # 9999: missing
    assert bl.fetches[("k", "accounts")] == 2
    f.accounts("k", ["1910", "3001", "3002"])  # all kept: no fetch
    assert bl.fetches[("k", "accounts")] == 2
    kept = f._companies["k"].kept["accounts"][1]  # noqa: SLF001 - what the cache holds
    assert sorted(kept) == ["1910", "3001", "3002"]  # not the 203 accounts of the chart


def test_a_fetch_keeps_the_plans_accounts_so_the_companys_other_vouchers_ask_nothing() -> None:
    bl, t = FakeBL(), FakeTime()
    f = facts(bl, t)
    f.accounts("k", ["1910"], also=["1910", "3001", "3002", "9999"])  # a store's voucher, its merchant's plan
    assert f.accounts("k", ["3001", "3002"]) == {  # another store's voucher, on other accounts of the plan
        "3001": ChartFact("Försäljning 25 %", False, "1"),
        "3002": ChartFact("Försäljning 12 %", True, "2"),
    }
    assert bl.fetches[("k", "accounts")] == 1


def test_concurrent_askers_about_one_company_wait_for_one_fetch_and_other_companies_do_not_wait() -> None:
    bl, t = FakeBL(), FakeTime()
    f = facts(bl, t)
    bl.gate = threading.Event()
    answers: list[dict[str, ChartFact]] = []
    askers = [threading.Thread(target=lambda: answers.append(f.accounts("k", ["1910"]))) for _ in range(6)]
    askers[0].start()
    assert bl.entered.acquire(timeout=10)  # the one fetch is in BL
    done = waiters_on(f, "k", "accounts")
    for a in askers[1:]:
        a.start()
    for _ in askers[1:]:
        assert done.waiting.acquire(timeout=10)  # the five others wait for it
    other = threading.Thread(target=lambda: f.accounts("other", ["1910"]))
    other.start()
    assert bl.entered.acquire(timeout=10)  # another company's fetch is not queued behind it
    bl.gate.set()
    for thread in (*askers, other):
        thread.join(timeout=10)
    assert bl.fetches == {("k", "accounts"): 1, ("other", "accounts"): 1}
    assert answers == [{"1910": ChartFact("Kassa", False, "0")}] * 6


def test_a_failed_fetch_is_shared_by_its_waiters_and_kept_for_nobody() -> None:
    bl, t = FakeBL(), FakeTime()
    f = facts(bl, t)
    bl.gate = threading.Event()
    bl.fail_next.append(RetryableFailure("list accounts: HTTP 503", 503))
    errors: list[BaseException] = []

    def ask() -> None:
        try:
            f.accounts("k", ["1910"])
        except RetryableFailure as exc:
            errors.append(exc)

    askers = [threading.Thread(target=ask) for _ in range(3)]
    askers[0].start()
    assert bl.entered.acquire(timeout=10)
    done = waiters_on(f, "k", "accounts")
    for a in askers[1:]:
        a.start()
        assert done.waiting.acquire(timeout=10)
    bl.gate.set()
    for a in askers:
        a.join(timeout=10)
    assert len(errors) == 3 and bl.fetches[("k", "accounts")] == 1  # BL down: asked once, all three told
    bl.gate = None
    assert f.accounts("k", ["1910"]) == {"1910": ChartFact("Kassa", False, "0")}  # the next asker fetches
    assert bl.fetches[("k", "accounts")] == 2


def test_forgetting_a_company_makes_the_next_check_ask_bl_even_while_a_fetch_is_in_flight() -> None:
    bl, t = FakeBL(), FakeTime()
    f = facts(bl, t)
    f.accounts("k", ["3002"])
    f.forget("k")  # the merchant was told to open 3002
    bl.accounts_of["k"] = [{**CHART[2], "closed": False}]
    assert f.accounts("k", ["3002"])["3002"].closed is False
    assert bl.fetches[("k", "accounts")] == 2

    bl.gate = threading.Event()  # a fetch that began before a forget is kept for nobody
    bl.accounts_of["k"] = [{**CHART[2], "closed": True}]
    t.now += DAY
    slow = threading.Thread(target=lambda: f.accounts("k", ["3002"]))
    slow.start()
    assert bl.entered.acquire(timeout=10)
    f.forget("k")
    bl.gate.set()
    slow.join(timeout=10)
    bl.gate = None
    bl.accounts_of["k"] = [{**CHART[2], "closed": False}]
    assert f.accounts("k", ["3002"])["3002"].closed is False
    assert bl.fetches[("k", "accounts")] == 4


def test_at_most_max_companies_are_kept_least_recently_used_out_first() -> None:
    bl, t = FakeBL(), FakeTime()
    f = facts(bl, t, max_companies=2)
    f.accounts("a", ["1910"])
    f.accounts("b", ["1910"])
    f.accounts("a", ["1910"])  # a used again: b is the least recently used
    f.accounts("c", ["1910"])
    assert len(f) == 2
    f.accounts("a", ["1910"])
    f.accounts("b", ["1910"])
    assert bl.fetches == {("a", "accounts"): 1, ("b", "accounts"): 2, ("c", "accounts"): 1}

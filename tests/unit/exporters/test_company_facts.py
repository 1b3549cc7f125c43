"""The pre-flight's facts per company (exporters/bl/facts.py): fiscal years kept until a date outside them is asked
about, accounts for the TTL (spread per company), one fetch for concurrent askers, forgotten on a merchant-fixable
refusal, shared through a store with other processes (a fake of the port here; storage/company_facts.py against
PostgreSQL in tests/integration/db/test_company_facts_store.py). Fake clocks and a fake BL: nothing waits on a
real clock."""

from __future__ import annotations

import threading
from datetime import date
from typing import Any

import pytest
from facts_fakes import CHART, FakeBL, FakeStore, FakeTime

from exporters.bl.errors import RetryableFailure
from exporters.bl.facts import CompanyFacts
from exporters.bl.kept import SPREAD_FLOOR, ChartFact, Company, spread
from service.company_facts import ACCOUNTS, FISCAL_YEARS

DAY = 86_400.0
WEEK = 7 * DAY


def facts(bl: FakeBL, t: FakeTime, store: FakeStore | None = None, **kwargs: Any) -> CompanyFacts:
    return CompanyFacts(bl, WEEK, t.clock, store=store, **kwargs)  # type: ignore[arg-type]


K = Company.of("k")
OTHER = Company.of("other")


def test_fiscal_years_answer_every_date_they_cover_until_a_date_outside_them_is_asked_about() -> None:
    bl, t = FakeBL(), FakeTime()
    f = facts(bl, t)
    for d in (date(2026, 3, 1), date(2026, 11, 25), date(2025, 12, 31)):
        assert f.financial_year(K, d).value is not None
    t.now += 52 * WEEK  # years do not age: they change a few times a year, and BL refuses what they let through
    assert f.financial_year(K, date(2026, 6, 1)).value is not None
    assert bl.fetches == {("k", "years"): 1}
    bl.years.append(2027)  # the merchant created next year
    assert f.financial_year(K, date(2027, 1, 1)).value is not None  # a date outside the kept years asks BL
    assert bl.fetches == {("k", "years"): 2}


def test_accounts_are_valid_for_the_ttl_spread_per_company() -> None:
    bl, t = FakeBL(), FakeTime()
    f = facts(bl, t)
    assert f.accounts(K, ["1910", "3001"]).value == {
        "1910": ChartFact("Kassa", False, "0"),
        "3001": ChartFact("Försäljning 25 %", False, "1"),
    }
    life = WEEK * spread(K.digest)
    t.now += life - 1
    assert f.accounts(K, ["1910"]).fresh is False
    assert bl.fetches[("k", "accounts")] == 1
    t.now += 2  # (a second past the company's life: the clock is a float of 1.8e9 seconds)
    assert f.accounts(K, ["1910"]).fresh is True
    assert bl.fetches[("k", "accounts")] == 2


def test_the_spread_keeps_each_company_between_four_fifths_of_the_ttl_and_the_ttl() -> None:
    shares = [spread(Company.of(f"key-{n}").digest) for n in range(2_000)]
    assert SPREAD_FLOOR <= min(shares) and max(shares) <= 1.0
    # spread over the range: companies first seen on one night do not all ask again on one night
    assert max(shares) - min(shares) > 0.9 * (1 - SPREAD_FLOOR)
    assert len({round(s, 2) for s in shares}) == 21


def test_only_the_accounts_asked_about_and_the_plans_are_kept_and_a_new_one_fetches_the_chart_again() -> None:
    bl, t = FakeBL(), FakeTime()
    f = facts(bl, t)
    f.accounts(K, ["1910"], also=["1910", "3001", "3002", "9999"])  # a store's voucher, its merchant's plan
    assert f.accounts(K, ["3001", "3002"]).value == {  # another store's voucher, on other accounts of the plan
        "3001": ChartFact("Försäljning 25 %", False, "1"),
        "3002": ChartFact("Försäljning 12 %", True, "2"),
    }
    assert bl.fetches[("k", "accounts")] == 1
    assert f.accounts(K, ["4005"]).value == {"4005": ChartFact("Konto 5", False, "")}  # not kept: asked again
    assert bl.fetches[("k", "accounts")] == 2
    kept = f._companies[K.name].kept[ACCOUNTS].value  # noqa: SLF001 - what is kept
    assert sorted(kept) == ["1910", "3001", "3002", "4005"]  # not the 203 accounts of the chart


class CountingEvent(threading.Event):
    def __init__(self) -> None:
        super().__init__()
        self.waiting = threading.Semaphore(0)

    def wait(self, timeout: float | None = None) -> bool:
        self.waiting.release()
        return super().wait(timeout)


def test_concurrent_askers_about_one_company_wait_for_one_fetch_and_other_companies_do_not_wait() -> None:
    bl, t = FakeBL(), FakeTime()
    f = facts(bl, t)
    bl.gate = threading.Event()
    answers: list[dict[str, ChartFact]] = []
    askers = [threading.Thread(target=lambda: answers.append(f.accounts(K, ["1910"]).value)) for _ in range(6)]
    askers[0].start()
    assert bl.entered.acquire(timeout=10)  # the one fetch is in BL
    flight = f._flights.in_flight((K.name, ACCOUNTS))  # noqa: SLF001
    assert flight is not None
    flight.done = event = CountingEvent()
    for a in askers[1:]:
        a.start()
    for _ in askers[1:]:
        assert event.waiting.acquire(timeout=10)  # the five others wait for it
    other = threading.Thread(target=lambda: f.accounts(OTHER, ["1910"]))
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
            f.accounts(K, ["1910"])
        except RetryableFailure as exc:
            errors.append(exc)

    askers = [threading.Thread(target=ask) for _ in range(3)]
    askers[0].start()
    assert bl.entered.acquire(timeout=10)
    flight = f._flights.in_flight((K.name, ACCOUNTS))  # noqa: SLF001
    assert flight is not None
    flight.done = event = CountingEvent()
    for a in askers[1:]:
        a.start()
        assert event.waiting.acquire(timeout=10)
    bl.gate.set()
    for a in askers:
        a.join(timeout=10)
    assert len(errors) == 3 and bl.fetches[("k", "accounts")] == 1  # BL down: asked once, all three told
    bl.gate = None
    assert f.accounts(K, ["1910"]).value == {"1910": ChartFact("Kassa", False, "0")}  # the next asker fetches
    assert bl.fetches[("k", "accounts")] == 2


@pytest.mark.parametrize("shared", [False, True], ids=["in memory", "with a store"])
def test_forgetting_makes_the_next_look_ask_bl_even_while_a_fetch_is_in_flight(shared: bool) -> None:
    bl, t = FakeBL(), FakeTime()
    company = Company.of("k", "org-1") if shared else K
    store = FakeStore(t) if shared else None
    f = facts(bl, t, store)
    f.accounts(company, ["3002"])
    f.forget(company, [ACCOUNTS])  # the merchant was told to open 3002
    bl.accounts_of["k"] = [{**CHART[2], "closed": False}]
    assert f.accounts(company, ["3002"]).value["3002"].closed is False
    assert bl.fetches[("k", "accounts")] == 2

    bl.gate = threading.Event()  # a fetch that began before a forget is kept for nobody
    bl.accounts_of["k"] = [{**CHART[2], "closed": True}]
    t.now += WEEK
    slow = threading.Thread(target=lambda: f.accounts(company, ["3002"]))
    slow.start()
    assert bl.entered.acquire(timeout=10)
    f.forget(company, [ACCOUNTS])
    bl.gate.set()
    slow.join(timeout=10)
    bl.gate = None
    bl.accounts_of["k"] = [{**CHART[2], "closed": False}]
    assert f.accounts(company, ["3002"]).value["3002"].closed is False
    assert bl.fetches[("k", "accounts")] == 4
    if store is not None:  # nor in the store: another process would have used it
        assert store.rows[("org-1", company.digest, ACCOUNTS)].facts["3002"]["closed"] is False


def test_forgetting_one_kind_keeps_the_others() -> None:
    bl, t = FakeBL(), FakeTime()
    company = Company.of("k", "org-1")
    f = facts(bl, t, FakeStore(t))
    f.financial_year(company, date(2026, 5, 1))
    f.accounts(company, ["1910"])
    f.forget(company, [ACCOUNTS])
    f.financial_year(company, date(2026, 5, 1))
    f.accounts(company, ["1910"])
    assert bl.fetches == {("k", "years"): 1, ("k", "accounts"): 2}


def test_another_process_over_the_same_store_asks_bl_nothing_and_a_restart_neither() -> None:
    bl, t = FakeBL(), FakeTime()
    store = FakeStore(t)
    company = Company.of("k", "org-1")
    first = facts(bl, t, store)
    first.financial_year(company, date(2026, 5, 1))
    first.accounts(company, ["1910"], also=["3001"])
    t.now += 3 * DAY
    for process in (facts(bl, t, store), facts(bl, t, store)):  # another pod; this one after a restart
        assert process.financial_year(company, date(2026, 11, 25)).value is not None
        assert process.accounts(company, ["1910", "3001"]).value.keys() == {"1910", "3001"}
    assert bl.fetches == {("k", "years"): 1, ("k", "accounts"): 1}
    assert Company.of("k", "org-2").name != company.name  # every key carries its tenant: another org asks anew
    first.accounts(Company.of("k", "org-2"), ["1910"])
    assert bl.fetches[("k", "accounts")] == 2


def test_what_another_process_forgot_is_not_used_here_after_the_next_confirm() -> None:
    bl, t = FakeBL(), FakeTime()
    store = FakeStore(t)
    company = Company.of("k", "org-1")
    here, there = facts(bl, t, store), facts(bl, t, store)
    here.accounts(company, ["3002"])
    there.forget(company, [ACCOUNTS])  # a refusal there, or the merchant's plan saved in the API
    here.confirm(company)
    reads = store.reads
    here.accounts(company, ["3002"])
    assert bl.fetches[("k", "accounts")] == 2 and store.reads == reads + 1
    here.confirm(company)  # nothing changed: memory is used, the store only asked for versions
    here.accounts(company, ["3002"])
    assert bl.fetches[("k", "accounts")] == 2 and store.reads == reads + 1


def test_a_fresh_look_asks_bl_even_when_the_kept_facts_answer_it() -> None:
    bl, t = FakeBL(), FakeTime()
    company = Company.of("k", "org-1")
    f = facts(bl, t, FakeStore(t))
    assert f.accounts(company, ["3002"]).fresh is True
    assert f.accounts(company, ["3002"]).fresh is False
    assert f.accounts(company, ["3002"], fresh=True).fresh is True
    assert f.financial_year(company, date(2026, 1, 1), fresh=True).fresh is True
    assert bl.fetches == {("k", "accounts"): 2, ("k", "years"): 1}


def test_without_the_store_the_facts_are_fetched_and_kept_here() -> None:
    bl, t = FakeBL(), FakeTime()
    store = FakeStore(t)
    company = Company.of("k", "org-1")
    f = facts(bl, t, store)
    store.down = True
    assert f.financial_year(company, date(2026, 5, 1)).value is not None  # BL answers the pre-flight still
    f.confirm(company)  # cannot say what is current: nothing kept here is trusted
    assert f.financial_year(company, date(2026, 5, 1)).value is not None
    f.forget(company)  # logged; this process forgets
    assert bl.fetches == {("k", "years"): 2}
    store.down = False
    f.financial_year(company, date(2026, 5, 1))
    assert store.rows[("org-1", company.digest, FISCAL_YEARS)].facts[0]["id"] == "202501"


def test_at_most_max_companies_are_kept_in_memory_least_recently_used_out_first() -> None:
    bl, t = FakeBL(), FakeTime()
    f = facts(bl, t, max_companies=2)
    a, b, c = Company.of("a"), Company.of("b"), Company.of("c")
    f.accounts(a, ["1910"])
    f.accounts(b, ["1910"])
    f.accounts(a, ["1910"])  # a used again: b is the least recently used
    f.accounts(c, ["1910"])
    assert len(f) == 2
    f.accounts(a, ["1910"])
    f.accounts(b, ["1910"])
    assert bl.fetches == {("a", "accounts"): 1, ("b", "accounts"): 2, ("c", "accounts"): 1}


def test_the_key_is_never_what_the_facts_are_kept_under() -> None:
    key = "7b5c7e9c-4a2e-4f1e-9d3a-0c6b2f8e1a55"
    company = Company.of(key.upper(), "org-1")
    assert key not in repr(company) and key.upper() not in repr(company)
    assert company.digest == Company.of(key, "org-1").digest  # one company, however the key is typed
    assert len(company.digest) == 64 and key.replace("-", "") not in company.digest

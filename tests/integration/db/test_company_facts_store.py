"""The pre-flight's facts in PostgreSQL (storage/company_facts.py, migration 0020): one fetch for every process
(two pools are two pods), a process killed between BL's answer and storing it leaves nothing behind and holds up
nobody, a forget during a fetch keeps the fetch's answer for nobody, a saved plan forgets the organization's
facts. Waits are on PostgreSQL's own state (a session waiting in pg_locks), never on a clock."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
import pytest
from psycopg_pool import ConnectionPool

from service.company_facts import ACCOUNTS, FISCAL_YEARS, Fetched, StoredFacts, company_digest
from storage import company_facts
from storage.company_facts import PostgresCompanyFacts
from storage.kept_facts import forget_organization

pytestmark = pytest.mark.integration

ORG = "org-facts"
COMPANY = company_digest("6f1c2a0e-9b7d-4c3e-8a5f-1d2e3f4a5b6c")
CHART = {"1910": {"name": "Kassa", "closed": False, "vat_code": "0"}}
OTHER_CHART = {"1910": {"name": "Kassa (ny)", "closed": False, "vat_code": "0"}}


@contextmanager
def pod(database_url: str) -> Iterator[PostgresCompanyFacts]:
    """A process's store: its own pool, its own sessions."""
    with ConnectionPool(database_url, min_size=1, max_size=3, open=True) as pool:
        yield PostgresCompanyFacts(pool)


def waiting_for_a_lock(database_url: str, sessions: int = 1, timeout: float = 20.0) -> None:
    """Until ``sessions`` sessions wait for an advisory lock (PostgreSQL's state, not a guess about time)."""
    deadline = time.monotonic() + timeout
    with psycopg.connect(database_url, autocommit=True) as conn:
        while time.monotonic() < deadline:
            row = conn.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted").fetchone()
            if row and row[0] >= sessions:
                return
            time.sleep(0.01)
    raise TimeoutError("nobody waits for the facts' lock")


def row(database_url: str, kind: str = ACCOUNTS) -> tuple[Any, ...] | None:
    with psycopg.connect(database_url) as conn:
        return conn.execute(
            "SELECT facts, fetched_at IS NOT NULL, forgotten_at IS NOT NULL FROM bl_company_facts "
            "WHERE organization_id = %s AND company_digest = %s AND kind = %s",
            (ORG, COMPANY, kind),
        ).fetchone()


def never(_kept: StoredFacts, _meanwhile: bool) -> bool:
    return False


def in_background(work: Callable[[], Fetched]) -> tuple[threading.Thread, list[Any]]:
    out: list[Any] = []

    def run() -> None:
        try:
            out.append(work())
        except BaseException as exc:  # noqa: BLE001 - asserted by the test
            out.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    return thread, out


def test_two_processes_asking_at_once_make_one_fetch(database_url: str) -> None:
    calls: list[str] = []
    in_bl, release = threading.Event(), threading.Event()

    def slow(kept: StoredFacts | None) -> Any:
        calls.append("first")
        in_bl.set()
        assert release.wait(20)
        return CHART

    def fast(kept: StoredFacts | None) -> Any:
        calls.append("second")
        return OTHER_CHART

    with pod(database_url) as first, pod(database_url) as second:
        a, got_a = in_background(lambda: first.fetch_once(ORG, COMPANY, ACCOUNTS, never, slow))
        assert in_bl.wait(20)
        # The second pod would not use what is kept before its wait (never), only what is stored meanwhile.
        b, got_b = in_background(
            lambda: second.fetch_once(ORG, COMPANY, ACCOUNTS, lambda k, meanwhile: meanwhile, fast)
        )
        waiting_for_a_lock(database_url)
        release.set()
        a.join(20)
        b.join(20)

    assert calls == ["first"]
    assert got_a[0].fresh and got_a[0].kept and got_a[0].stored.facts == CHART
    assert got_b[0].fresh and got_b[0].stored.facts == CHART  # the other pod's answer, fetched while it waited
    assert row(database_url) == (CHART, True, False)


def test_what_is_kept_and_still_usable_is_used_without_a_fetch(database_url: str) -> None:
    with pod(database_url) as store:
        store.fetch_once(ORG, COMPANY, FISCAL_YEARS, never, lambda kept: [{"id": "202601"}])
        got = store.fetch_once(ORG, COMPANY, FISCAL_YEARS, lambda k, m: True, lambda kept: pytest.fail("fetched"))
        assert (got.fresh, got.stored.facts) == (False, [{"id": "202601"}])
        assert store.versions(ORG, COMPANY) == {FISCAL_YEARS: got.stored.fetched_at}
        assert store.read(ORG, COMPANY, FISCAL_YEARS) == got.stored
        assert store.read(ORG, COMPANY, ACCOUNTS) is None
        assert store.read("another-org", COMPANY, FISCAL_YEARS) is None  # every key carries its tenant


KILLED_BETWEEN_FETCH_AND_STORE = """
import sys
from psycopg_pool import ConnectionPool
from storage.company_facts import PostgresCompanyFacts

def fetch(kept):
    print("fetched", flush=True)
    sys.stdin.read()  # killed here: BL answered, nothing stored yet

with ConnectionPool(sys.argv[1], min_size=1, max_size=2, open=True) as pool:
    PostgresCompanyFacts(pool).fetch_once(sys.argv[2], sys.argv[3], "accounts", lambda k, m: False, fetch)
"""


def test_a_process_killed_between_fetching_and_storing_leaves_nothing_and_holds_up_nobody(database_url: str) -> None:
    doomed = subprocess.Popen(  # noqa: S603 - our own interpreter and script
        [sys.executable, "-c", textwrap.dedent(KILLED_BETWEEN_FETCH_AND_STORE), database_url, ORG, COMPANY],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert doomed.stdout is not None and doomed.stdout.readline().strip() == "fetched"
        assert row(database_url) == (None, False, False)  # its row made, nothing stored
        with pod(database_url) as survivor:
            b, got = in_background(lambda: survivor.fetch_once(ORG, COMPANY, ACCOUNTS, never, lambda kept: CHART))
            waiting_for_a_lock(database_url)  # the survivor waits for the doomed process's fetch
            doomed.kill()  # its session ends, and the lock with it
            doomed.wait(20)
            b.join(20)
    finally:
        doomed.kill()
    assert isinstance(got[0], Fetched) and got[0].fresh and got[0].kept
    assert row(database_url) == (CHART, True, False)


def test_a_fetch_that_began_before_a_forget_is_kept_for_nobody(database_url: str) -> None:
    in_bl, release = threading.Event(), threading.Event()

    def slow(kept: StoredFacts | None) -> Any:
        in_bl.set()
        assert release.wait(20)
        return CHART  # what BL said before the merchant's fix

    with pod(database_url) as first, pod(database_url) as second:
        a, got = in_background(lambda: first.fetch_once(ORG, COMPANY, ACCOUNTS, never, slow))
        assert in_bl.wait(20)
        second.forget(ORG, COMPANY, [ACCOUNTS])  # a refusal in another pod while the fetch runs
        release.set()
        a.join(20)
        assert got[0].fresh and not got[0].kept  # its caller may use it; nobody else will
        assert row(database_url) == (None, False, True)
        again = second.fetch_once(ORG, COMPANY, ACCOUNTS, lambda k, m: True, lambda kept: OTHER_CHART)
        assert again.kept and again.stored.facts == OTHER_CHART  # a fetch after the forget is kept


def test_a_saved_plan_forgets_every_company_of_its_organization_and_nothing_of_others(database_url: str) -> None:
    other = company_digest("0c9b8a7d-6e5f-4a3b-2c1d-0e9f8a7b6c5d")
    with pod(database_url) as store:
        for org, company in ((ORG, COMPANY), (ORG, other), ("org-other", COMPANY)):
            store.fetch_once(org, company, ACCOUNTS, never, lambda kept: CHART)
        with psycopg.connect(database_url) as conn:  # the plan's transaction
            forget_organization(conn, ORG)
        assert store.versions(ORG, COMPANY) == {} and store.versions(ORG, other) == {}
        assert store.versions("org-other", COMPANY).keys() == {ACCOUNTS}


def test_a_process_that_waits_too_long_asks_bl_itself(database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(company_facts, "LOCK_WAIT_S", 0.2)
    in_bl, release = threading.Event(), threading.Event()

    def hung(kept: StoredFacts | None) -> Any:
        in_bl.set()
        assert release.wait(20)
        return CHART

    with pod(database_url) as first, pod(database_url) as second:
        a, _ = in_background(lambda: first.fetch_once(ORG, COMPANY, ACCOUNTS, never, hung))
        assert in_bl.wait(20)
        got = second.fetch_once(ORG, COMPANY, ACCOUNTS, never, lambda kept: OTHER_CHART)
        release.set()
        a.join(20)
    assert got.fresh and got.stored.facts == OTHER_CHART

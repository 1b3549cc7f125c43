"""The pre-flight's facts shared by every pod through PostgreSQL, counted at the BL stand-in: a restart and another
pod ask BL nothing; a refusal (BL's or the pre-flight's, each reason code) forgets what it concerns in every pod;
kept facts the merchant has fixed since never refuse a voucher; a saved plan forgets."""

from __future__ import annotations

import dataclasses
import re
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from typing import Any

import psycopg
import pytest
from psycopg_pool import ConnectionPool

from devstack.bl_standin import BLStandIn, Company
from devstack.sampledata import SAMPLE_PLAN
from exporters.bl import BLConfig, BLExporter
from mapping.voucher import Voucher, VoucherRow
from service.company_facts import ACCOUNTS, COST_CENTRES, FISCAL_YEARS, company_digest
from service.exporter import MerchantActionRequired
from service.reasons import ReasonCode
from storage.codecs import plan_from_json
from storage.company_facts import PostgresCompanyFacts

pytestmark = pytest.mark.integration
ORG = "org-shared-facts"
BASE = "/bla-api/v1/sp"
DAY = date(2026, 3, 14)
FACTS_PATHS = {"GET /financialyear": FISCAL_YEARS, "GET /account": ACCOUNTS, "GET /costcenter": COST_CENTRES}


def asked(standin: BLStandIn) -> Counter[str]:
    """BL's requests by method and path (ids and dates as ``…``), token requests left out."""
    return Counter(
        f"{r.method} {re.sub(r'/[0-9][0-9-]*(?=/|$)', '/…', r.path.removeprefix(BASE))}"
        for r in standin.requests.all()
        if r.path.startswith(BASE)
    )


@pytest.fixture
def make_pod(database_url: str, bl_config: BLConfig) -> Iterator[Callable[[], BLExporter]]:
    """A pod: its own exporter (memory) and pool (sessions) over the one database, as ``dayclose run`` wires them."""
    made: list[tuple[ConnectionPool[Any], BLExporter]] = []

    def make() -> BLExporter:
        pool: ConnectionPool[Any] = ConnectionPool(database_url, min_size=1, max_size=4, open=True)
        exporter = BLExporter(bl_config, facts_store=PostgresCompanyFacts(pool))
        made.append((pool, exporter))
        return exporter

    yield make
    for pool, exporter in made:
        exporter.close()
        pool.close()


def kept(database_url: str, company: Company) -> dict[str, bool]:
    """kind → whether the store holds it for the company."""
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            "SELECT kind, facts IS NOT NULL FROM bl_company_facts WHERE organization_id = %s AND company_digest = %s",
            (ORG, company_digest(company.user_key)),
        ).fetchall()
    return dict(rows)


def test_a_restarted_pod_and_another_pod_ask_bl_nothing_the_first_one_learnt(
    make_pod, bl_standin, bl_company, make_voucher, database_url
):
    first = make_pod()
    first.preflight(make_voucher(), bl_company.user_key, org=ORG)
    first.close()  # the pod restarts (a deploy): its memory is gone
    bl_standin.requests.clear()

    for pod in (make_pod(), make_pod()):  # the restarted one and another
        voucher = make_voucher(DAY + timedelta(days=1))
        pod.preflight(voucher, bl_company.user_key, org=ORG)
        pod.export(voucher, bl_company.user_key, maybe_posted=False, org=ORG)

    assert asked(bl_standin) == {"POST /journal": 2}
    assert kept(database_url, bl_company) == {FISCAL_YEARS: True, ACCOUNTS: True}


def test_pods_asking_about_one_company_at_once_make_one_fetch_of_each_kind(
    make_pod, bl_standin, bl_company, make_voucher
):
    pods = [make_pod(), make_pod()]
    bl_standin.set_faults(latency_s=0.3, methods=("GET",))  # all eight ask while the first fetch is in BL
    start = threading.Barrier(8)
    failures: list[BaseException] = []

    def worker(n: int) -> None:
        try:
            start.wait(timeout=10)
            pods[n % 2].preflight(make_voucher(DAY + timedelta(days=n)), bl_company.user_key, org=ORG)
        except BaseException as exc:  # noqa: BLE001 - asserted below
            failures.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)

    assert failures == []
    assert asked(bl_standin) == {"GET /financialyear": 1, "GET /account": 1}


#: What the merchant does in BL after our facts were kept, what BL then refuses, and what the refusal concerns.
BROKEN_IN_BL: list[tuple[str, Callable[[Company], None], Callable[[Company], None], str, str]] = [
    (
        "DATE_OUTSIDE_FINANCIAL_YEAR",
        lambda c: c.remove_financial_year(DAY),
        lambda c: c.financial_years.append(type(c.financial_years[0]).calendar(DAY.year)),
        ReasonCode.FISCAL_YEAR_MISSING,
        FISCAL_YEARS,
    ),
    (
        "FINANCIAL_YEAR_IS_CLOSED",
        lambda c: c.close_financial_year(DAY),
        lambda c: c.open_financial_year(DAY),
        ReasonCode.FISCAL_YEAR_CLOSED,
        FISCAL_YEARS,
    ),
    (
        "JOURNAL_ENTRY_DATE_NOT_ALLOWED_IN_LOCKED_PERIOD",
        lambda c: c.lock_through(DAY),
        lambda c: setattr(c._year(DAY), "first_open_period", f"{DAY.year}01"),  # noqa: SLF001 - the stand-in's
        ReasonCode.PERIOD_LOCKED,
        FISCAL_YEARS,
    ),
    (
        "ACCOUNT_NOT_FOUND",
        lambda c: c.remove_account("3001"),
        lambda c: c.add_account("3001", "Försäljning 25 %", "1"),
        ReasonCode.ACCOUNT_MISSING_IN_BL,
        ACCOUNTS,
    ),
    (
        "ACCOUNT_IS_BLOCKED",
        lambda c: c.close_account("3001"),
        lambda c: c.accounts["3001"].update(closed=False),
        ReasonCode.ACCOUNT_CLOSED,
        ACCOUNTS,
    ),
    (
        "COSTCENTER_NOT_FOUND",
        lambda c: c.remove_cost_centre("S1"),
        lambda c: c.add_cost_centre("S1", "Butik 1"),
        ReasonCode.COST_CENTRE_MISSING,
        COST_CENTRES,
    ),
]


def voucher_for(kind: str, make_voucher: Callable[..., Voucher], day: date = DAY) -> Voucher:
    return make_voucher(day, cost_centre="S1") if kind == COST_CENTRES else make_voucher(day)


@pytest.mark.parametrize(
    ("exception_id", "breaks", "fixes", "reason", "kind"), BROKEN_IN_BL, ids=[b[0] for b in BROKEN_IN_BL]
)
def test_a_refusal_by_bl_forgets_what_it_concerns_in_every_pod(
    make_pod, bl_standin, bl_company, make_voucher, database_url, exception_id, breaks, fixes, reason, kind
):
    here, there = make_pod(), make_pod()
    for pod in (here, there):  # both pods keep the facts, as when a merchant's stores close together
        pod.preflight(voucher_for(kind, make_voucher), bl_company.user_key, org=ORG)
    breaks(bl_company)  # the kept facts miss it: the pre-flight lets the voucher through, BL refuses it

    with pytest.raises(MerchantActionRequired) as refused:
        here.export(voucher_for(kind, make_voucher), bl_company.user_key, maybe_posted=False, org=ORG)

    assert (refused.value.details.get("bl_exception_id"), refused.value.reason_code) == (exception_id, reason)
    assert kept(database_url, bl_company)[kind] is False
    fixes(bl_company)
    bl_standin.requests.clear()
    there.preflight(voucher_for(kind, make_voucher), bl_company.user_key, org=ORG)  # the retry lands on the other pod
    assert asked(bl_standin) == {next(p for p, k in FACTS_PATHS.items() if k == kind): 1}  # only what it concerns


#: What the merchant has wrong in BL before any fact is kept: the pre-flight refuses with each of its reason codes.
WRONG_IN_BL: list[tuple[ReasonCode, Callable[[Company], None], Callable[[Company], None], str]] = [
    (ReasonCode.FISCAL_YEAR_MISSING, BROKEN_IN_BL[0][1], BROKEN_IN_BL[0][2], FISCAL_YEARS),
    (ReasonCode.FISCAL_YEAR_CLOSED, BROKEN_IN_BL[1][1], BROKEN_IN_BL[1][2], FISCAL_YEARS),
    (ReasonCode.PERIOD_LOCKED, BROKEN_IN_BL[2][1], BROKEN_IN_BL[2][2], FISCAL_YEARS),
    (ReasonCode.ACCOUNT_MISSING_IN_BL, BROKEN_IN_BL[3][1], BROKEN_IN_BL[3][2], ACCOUNTS),
    (ReasonCode.ACCOUNT_CLOSED, BROKEN_IN_BL[4][1], BROKEN_IN_BL[4][2], ACCOUNTS),
    (
        ReasonCode.ACCOUNT_VAT_CODE_MISMATCH,
        lambda c: c.set_vat_code("3001", "2"),
        lambda c: c.set_vat_code("3001", "1"),
        ACCOUNTS,
    ),
    (ReasonCode.COST_CENTRE_MISSING, BROKEN_IN_BL[5][1], BROKEN_IN_BL[5][2], COST_CENTRES),
]


def with_sales_rate(voucher: Voucher) -> Voucher:
    """The plan books 25 % sales on 3001 (what the VAT-code check compares with the account's code in BL)."""
    return dataclasses.replace(voucher, sales_rates=(("3001", 2500),))


@pytest.mark.parametrize(("reason", "breaks", "fixes", "kind"), WRONG_IN_BL, ids=[str(w[0]) for w in WRONG_IN_BL])
def test_a_pre_flight_refusal_forgets_what_it_concerns_and_the_retry_on_another_pod_sees_the_fix(
    make_pod, bl_standin, bl_company, make_voucher, database_url, reason, breaks, fixes, kind
):
    here, there = make_pod(), make_pod()
    breaks(bl_company)
    voucher = with_sales_rate(voucher_for(kind, make_voucher))

    with pytest.raises(MerchantActionRequired) as refused:
        here.preflight(voucher, bl_company.user_key, org=ORG)

    assert refused.value.reason_code == reason  # refused before posting, with the merchant-fixable code
    assert kept(database_url, bl_company)[kind] is False  # forgotten; the other kinds stay kept
    assert all(v for k, v in kept(database_url, bl_company).items() if k != kind)
    fixes(bl_company)
    bl_standin.requests.clear()
    there.preflight(voucher, bl_company.user_key, org=ORG)
    assert asked(bl_standin) == {next(p for p, k in FACTS_PATHS.items() if k == kind): 1}
    assert "POST /journal" not in asked(bl_standin)


#: Kept facts that show a problem the merchant then fixes in BL, with nothing refused in between: what BL says,
#: a voucher the problem does not touch (learning it), and the one it would touch.
FIXED_SINCE_KEPT: list[tuple[str, Callable[[Company], None], Callable[[Company], None], date, str]] = [
    ("a period unlocked", BROKEN_IN_BL[2][1], BROKEN_IN_BL[2][2], date(2026, 4, 10), FISCAL_YEARS),
    ("a fiscal year reopened", BROKEN_IN_BL[1][1], BROKEN_IN_BL[1][2], date(2025, 6, 1), FISCAL_YEARS),
    ("an account opened", BROKEN_IN_BL[4][1], BROKEN_IN_BL[4][2], DAY, ACCOUNTS),
    ("a VAT code corrected", WRONG_IN_BL[5][1], WRONG_IN_BL[5][2], DAY, ACCOUNTS),
]


@pytest.mark.parametrize(
    ("fix", "breaks", "fixes", "other_day", "kind"), FIXED_SINCE_KEPT, ids=[f[0] for f in FIXED_SINCE_KEPT]
)
def test_kept_facts_the_merchant_has_fixed_since_never_refuse_a_voucher(
    bl_exporter, bl_standin, bl_company, make_voucher, fix, breaks, fixes, other_day, kind
):
    breaks(bl_company)
    # Learnt for another voucher of the company, which the problem does not touch: a day in another period or
    # year, or sales on 3002 (the fetch of the chart keeps the plan's accounts, 3001 among them).
    rows = (VoucherRow("1910", 100), VoucherRow("1580", 100), VoucherRow("1930", 100), VoucherRow("2611", -100))
    untouched = Voucher("K", other_day, "Kassa DC-other", "DC-other", (*rows, VoucherRow("3002", -200)))
    bl_exporter.preflight(untouched, bl_company.user_key, plan_from_json("org-kept", SAMPLE_PLAN))
    fixes(bl_company)
    bl_standin.requests.clear()

    bl_exporter.preflight(with_sales_rate(make_voucher()), bl_company.user_key)  # not refused: BL says it is fine

    assert asked(bl_standin) == {next(p for p, k in FACTS_PATHS.items() if k == kind): 1}

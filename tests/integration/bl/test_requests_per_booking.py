"""BL's requests for one booked day, counted at the stand-in: a post and an attach when nothing was sent before; the
pre-flight's fiscal years and accounts once per company for every date and every worker; and each company held to
its own limit beside the client's."""

from __future__ import annotations

import re
import threading
from collections import Counter
from datetime import date, timedelta

import pytest

from devstack.bl_standin import BLStandIn
from devstack.bl_standin.faults import RecordedRequest
from service.exporter import Attachment, VoucherLocation

pytestmark = pytest.mark.integration
PDF = b"%PDF-1.3 a day report"


BASE = "/bla-api/v1/sp"


def by_endpoint(requests: list[RecordedRequest]) -> Counter[str]:
    """BL's requests by method and path, ids and dates in the path as ``…`` (token requests left out)."""
    return Counter(
        f"{r.method} {re.sub(r'/[0-9][0-9-]*(?=/|$)', '/…', r.path.removeprefix(BASE))}"
        for r in requests
        if r.path.startswith(BASE)
    )


def test_a_first_post_and_its_first_attach_are_one_request_each(bl_exporter, bl_standin, bl_company, make_voucher):
    voucher = make_voucher()
    bl_exporter.preflight(voucher, bl_company.user_key)  # the service's pre-flight, before the lease
    bl_standin.requests.clear()

    booked = bl_exporter.export(voucher, bl_company.user_key, maybe_posted=False)
    where = VoucherLocation(booked.series, booked.number, booked.entry_date, voucher.reference, booked.entity_id)
    name = f"Dagsrapport_{voucher.reference}.pdf"
    attached = bl_exporter.attach_document(bl_company.user_key, where, Attachment(name, PDF), maybe_attached=False)

    assert [(r.method, r.path.removeprefix(BASE)) for r in bl_standin.requests.all()] == [
        ("POST", "/journal"),
        ("POST", f"/document/attachto/JOURNAL/{booked.entity_id}"),
    ]
    (entry,) = bl_standin.vouchers(bl_company.user_key)
    assert booked.entity_id == entry["entityId"] and entry["documentIds"] == [attached.document_id]


def test_without_proof_of_a_first_attempt_the_post_and_the_attach_look_first(
    bl_exporter, bl_standin, bl_company, make_voucher
):
    voucher = make_voucher()
    booked = bl_exporter.export(voucher, bl_company.user_key, maybe_posted=False)
    where = VoucherLocation(booked.series, booked.number, booked.entry_date, voucher.reference, booked.entity_id)
    bl_exporter.attach_document(bl_company.user_key, where, Attachment(f"R_{voucher.reference}.pdf", PDF))
    bl_standin.requests.clear()

    again = bl_exporter.export(voucher, bl_company.user_key)  # maybe posted: looked up, found
    attached = bl_exporter.attach_document(bl_company.user_key, where, Attachment(f"R_{voucher.reference}.pdf", PDF))

    assert again.already_existed and again.entity_id == booked.entity_id and attached.already_attached
    assert by_endpoint(bl_standin.requests.all()) == {
        "GET /journal/entry/batch": 1,
        "GET /journal/entry/K/…/…": 1,
        "GET /document": 1,
    }
    assert len(bl_standin.vouchers(bl_company.user_key)) == 1 and len(bl_standin.documents(bl_company.user_key)) == 1


def test_the_pre_flight_asks_once_per_company_for_every_date_and_every_concurrent_worker(
    bl_exporter, bl_standin, bl_company, make_voucher
):
    other = bl_standin.register_company(name="Andra AB")
    # BL answers slowly: all eight workers ask while the first fetch is still in flight (or after it is kept).
    bl_standin.set_faults(latency_s=0.3, methods=("GET",))
    start = threading.Barrier(8)
    failures: list[BaseException] = []

    def worker(n: int) -> None:
        company = bl_company if n % 4 else other
        try:
            start.wait(timeout=10)
            for d in range(3):  # three business dates, as a manual export of three days has
                bl_exporter.preflight(make_voucher(date(2026, 3, 1) + timedelta(days=n + d)), company.user_key)
        except BaseException as exc:  # noqa: BLE001 - asserted below
            failures.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)

    assert failures == []
    per_company = Counter(
        (r.user_key == other.user_key, r.method, r.path.removeprefix(BASE))
        for r in bl_standin.requests.all()
        if r.path.startswith(BASE)
    )
    assert per_company == {
        (False, "GET", "/financialyear"): 1,
        (False, "GET", "/account"): 1,
        (True, "GET", "/financialyear"): 1,
        (True, "GET", "/account"): 1,
    }


def test_a_merchant_fixable_refusal_makes_the_next_pre_flight_ask_again(
    bl_exporter, bl_standin: BLStandIn, bl_company, make_voucher
):
    from service.exporter import MerchantActionRequired

    bl_exporter.preflight(make_voucher(), bl_company.user_key)
    bl_company.close_account("3001")  # the merchant closes an account after our fetch: the kept answer misses it
    with pytest.raises(MerchantActionRequired) as refused:
        bl_exporter.export(make_voucher(), bl_company.user_key, maybe_posted=False)
    assert refused.value.details.get("bl_exception_id") == "ACCOUNT_IS_BLOCKED"  # BL refused the post itself
    bl_company.accounts["3001"]["closed"] = False  # fixed
    bl_standin.requests.clear()

    bl_exporter.preflight(make_voucher(), bl_company.user_key)

    # What the refusal concerns (the accounts) is asked again; the fiscal years, which it does not, stay kept.
    assert by_endpoint(bl_standin.requests.all()) == {"GET /account": 1}


def test_each_company_is_held_to_its_own_limit_while_the_client_books_several_at_once(
    make_bl_exporter, bl_standin, bl_company, make_voucher
):
    per_company = 10.0
    exporter = make_bl_exporter(max_requests_per_second=1000.0, max_requests_per_second_per_company=per_company)
    companies = [bl_company, bl_standin.register_company(name="B AB"), bl_standin.register_company(name="C AB")]
    failures: list[BaseException] = []

    def book(company, n: int) -> None:  # type: ignore[no-untyped-def]
        try:
            for d in range(6):
                exporter.export(make_voucher(date(2026, 5, 1) + timedelta(days=n * 10 + d)), company.user_key)
        except BaseException as exc:  # noqa: BLE001 - asserted below
            failures.append(exc)

    threads = [threading.Thread(target=book, args=(c, n)) for c in companies for n in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)

    assert failures == []
    requests = [r for r in bl_standin.requests.all() if r.user_key]
    for company in companies:
        times = sorted(r.at for r in requests if r.user_key == company.user_key)
        assert peak(times) <= per_company + 2  # burst 1 + the rate in any second; +1 for jitter at the server
    assert peak(sorted(r.at for r in requests)) > per_company + 2  # the client as a whole went faster


def peak(times: list[float], window_s: float = 1.0) -> int:
    most, start = 0, 0
    for end, t in enumerate(times):
        while t - times[start] >= window_s:
            start += 1
        most = max(most, end - start + 1)
    return most

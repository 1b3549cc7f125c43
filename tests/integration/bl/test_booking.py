"""A voucher goes into BL over real HTTP and comes back out the same, to the öre."""

from __future__ import annotations

import threading
from datetime import date
from decimal import Decimal

import pytest

from mapping.voucher import Voucher, VoucherRow
from service.exporter import Attachment, CompanyDetails, Exporter

pytestmark = pytest.mark.integration


def test_the_bl_exporter_implements_the_port(bl_exporter):
    assert isinstance(bl_exporter, Exporter)


def test_verify_returns_the_company_behind_the_key(bl_exporter, bl_company):
    assert bl_exporter.verify(bl_company.user_key) == CompanyDetails("Testkaféet AB", "5560000050")


def test_a_booked_voucher_reads_back_exactly(bl_exporter, bl_client, bl_standin, bl_company, make_voucher):
    voucher = make_voucher(cost_centre="S1")

    booked = bl_exporter.export(voucher, bl_company.user_key)

    assert (booked.series, booked.number, booked.already_existed) == ("K", 1, False)
    entry = bl_client.get_journal_entry(bl_company.user_key, booked.series, booked.number, voucher.entry_date)
    assert entry["journalEntryText"] == voucher.text
    assert entry["journalEntryDate"] == "2026-03-14"
    assert entry["financialYearId"] == "202601"
    assert [(e["accountId"], e["amount"], e.get("costCenterId")) for e in entry["ledgerEntries"]] == [
        ("1910", Decimal("125.50"), "S1"),
        ("1580", Decimal("1000.00"), "S1"),
        ("1930", Decimal("250.00"), "S1"),
        ("3001", Decimal("-1100.40"), "S1"),
        ("2611", Decimal("-275.10"), "S1"),
    ]
    assert len(bl_standin.vouchers(bl_company.user_key)) == 1


def test_amounts_are_sent_as_exact_two_place_decimals(bl_exporter, bl_standin, bl_company):
    # 0.10 + 0.20 is the classic float trap: it must arrive as 0.10 and 0.20, and -0.30.
    voucher = Voucher(
        "K",
        date(2026, 3, 2),
        "Öresprov ref-float-1",
        "ref-float-1",
        (VoucherRow("1910", 10), VoucherRow("1930", 20), VoucherRow("3740", -30)),
    )
    bl_exporter.export(voucher, bl_company.user_key)

    (post,) = [r for r in bl_standin.requests.all() if r.method == "POST" and r.path.endswith("/journal")]
    assert b'"amount":0.10' in post.body and b'"amount":0.20' in post.body and b'"amount":-0.30' in post.body


def test_numbers_run_per_series_and_fiscal_year(bl_exporter, bl_company, make_voucher):
    first = bl_exporter.export(make_voucher(date(2026, 3, 1)), bl_company.user_key)
    second = bl_exporter.export(make_voucher(date(2026, 3, 2)), bl_company.user_key)
    other_series = bl_exporter.export(make_voucher(date(2026, 3, 2), series="D"), bl_company.user_key)
    next_year = bl_exporter.export(make_voucher(date(2027, 1, 2)), bl_company.user_key)

    assert [(b.series, b.number) for b in (first, second, other_series, next_year)] == [
        ("K", 1),
        ("K", 2),
        ("D", 1),
        ("K", 1),
    ]


def test_exporting_the_same_voucher_again_finds_it_instead_of_booking_twice(
    bl_exporter, bl_standin, bl_company, make_voucher
):
    voucher = make_voucher()
    first = bl_exporter.export(voucher, bl_company.user_key)
    posts_before = bl_standin.requests.count("POST", "/journal")

    again = bl_exporter.export(voucher, bl_company.user_key)

    assert (again.series, again.number, again.already_existed) == (first.series, first.number, True)
    assert bl_standin.requests.count("POST", "/journal") == posts_before
    assert len(bl_standin.vouchers(bl_company.user_key)) == 1


def test_a_reference_is_matched_as_a_whole_token(bl_exporter, bl_standin, bl_company, make_voucher):
    bl_exporter.export(make_voucher(reference="DC-10"), bl_company.user_key)

    booked = bl_exporter.export(make_voucher(reference="DC-1"), bl_company.user_key)

    assert booked.already_existed is False
    assert len(bl_standin.vouchers(bl_company.user_key)) == 2


def test_the_z_report_is_attached(bl_exporter, bl_standin, bl_company, make_voucher):
    booked = bl_exporter.export(
        make_voucher(), bl_company.user_key, Attachment("z-17.txt", b"Z-rapport 17\n", "text/plain")
    )

    (entry,) = bl_standin.vouchers(bl_company.user_key)
    assert booked.document_id is not None
    assert entry["documentIds"] == [booked.document_id]
    assert bl_company.documents[booked.document_id]["name"] == "z-17.txt"


def test_concurrent_exports_of_different_days_each_book_once(bl_exporter, bl_standin, bl_company, make_voucher):
    vouchers = [make_voucher(date(2026, 4, d)) for d in range(1, 13)]
    errors: list[BaseException] = []

    def run(chunk: list[Voucher]) -> None:
        try:
            for v in chunk:
                bl_exporter.export(v, bl_company.user_key)
        except BaseException as exc:  # noqa: BLE001 - surfaced by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(vouchers[i::4],)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)

    assert errors == []
    booked = bl_standin.vouchers(bl_company.user_key)
    assert sorted(e["journalEntryId"] for e in booked) == list(range(1, 13))
    assert {e["journalEntryText"] for e in booked} == {v.text for v in vouchers}

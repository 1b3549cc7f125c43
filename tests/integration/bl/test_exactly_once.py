"""BL has no idempotency key: an ambiguous failure must never turn into a second voucher."""

from __future__ import annotations

import time
from datetime import date

import pytest

from service.exporter import TransientExportError

pytestmark = pytest.mark.integration


def test_timeout_after_commit_never_books_twice(bl_exporter, bl_standin, bl_company, make_voucher):
    bl_standin.set_faults(commit_then_drop=1, drop_mode="timeout", drop_hold_s=3.0)
    voucher = make_voucher()

    booked = bl_exporter.export(voucher, bl_company.user_key)

    vouchers = bl_standin.vouchers(bl_company.user_key)
    assert [e["journalEntryText"] for e in vouchers] == [voucher.text]
    assert bl_standin.requests.count("POST", "/journal") == 1, "found by look-up, not posted again"
    assert (booked.number, booked.already_existed) == (vouchers[0]["journalEntryId"], True)


def test_reset_after_commit_never_books_twice(bl_exporter, bl_standin, bl_company, make_voucher):
    bl_standin.set_faults(commit_then_drop=1, drop_mode="reset")

    bl_exporter.export(make_voucher(), bl_company.user_key)

    assert len(bl_standin.vouchers(bl_company.user_key)) == 1
    assert bl_standin.requests.count("POST", "/journal") == 1


def test_a_voucher_booked_before_a_crash_is_found_not_reposted(make_bl_exporter, bl_standin, bl_company, make_voucher):
    # Process A posts and dies before its database commits; process B retries the same export.
    voucher = make_voucher()
    make_bl_exporter().export(voucher, bl_company.user_key)
    posts = bl_standin.requests.count("POST", "/journal")

    booked = make_bl_exporter().export(voucher, bl_company.user_key)

    assert booked.already_existed is True
    assert bl_standin.requests.count("POST", "/journal") == posts
    assert len(bl_standin.vouchers(bl_company.user_key)) == 1


def test_when_the_look_up_fails_nothing_is_posted_blindly(make_bl_exporter, bl_standin, bl_company, make_voucher):
    # Committed by an earlier attempt whose answer was lost; now BL's search is failing.
    voucher = make_voucher()
    make_bl_exporter().export(voucher, bl_company.user_key)
    bl_standin.set_faults(error_rate=1.0, paths=("/journal/entry/batch",))
    retrying = make_bl_exporter()

    with pytest.raises(TransientExportError):
        retrying.export(voucher, bl_company.user_key)

    assert bl_standin.requests.count("POST", "/journal") == 1
    bl_standin.reset_faults()
    assert retrying.export(voucher, bl_company.user_key).already_existed is True
    assert len(bl_standin.vouchers(bl_company.user_key)) == 1


def test_many_dropped_responses_still_give_one_voucher_each(bl_exporter, bl_standin, bl_company, make_voucher):
    bl_standin.set_faults(commit_then_drop=6, drop_mode="reset")
    vouchers = [make_voucher(date(2026, 6, d)) for d in range(1, 7)]

    started = time.monotonic()
    for v in vouchers:
        bl_exporter.export(v, bl_company.user_key)

    assert sorted(e["journalEntryText"] for e in bl_standin.vouchers(bl_company.user_key)) == sorted(
        v.text for v in vouchers
    )
    assert bl_standin.requests.count("POST", "/journal") == 6
    assert time.monotonic() - started < 10

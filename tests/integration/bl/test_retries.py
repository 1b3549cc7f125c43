"""Transient failures are retried, boundedly, and only where a retry is safe."""

from __future__ import annotations

import time
from datetime import date

import pytest

from service.exporter import TransientExportError
from service.reasons import ReasonCode

pytestmark = pytest.mark.integration


def test_a_429_storm_is_ridden_out(bl_exporter, bl_standin, bl_company, make_voucher):
    bl_standin.set_faults(throttle_next=3, retry_after_s=0)

    booked = bl_exporter.export(make_voucher(), bl_company.user_key)

    assert booked.number == 1
    assert bl_standin.injector.remaining()["throttle_next"] == 0
    assert len(bl_standin.vouchers(bl_company.user_key)) == 1


def test_retry_after_is_honoured(bl_exporter, bl_standin, bl_company):
    bl_exporter.verify(bl_company.user_key)  # token fetched outside the timed part
    bl_standin.set_faults(throttle_next=1, retry_after_s=1)

    started = time.monotonic()
    bl_exporter.verify(bl_company.user_key)

    assert time.monotonic() - started >= 1.0


def test_an_endless_429_storm_gives_up_after_the_retry_budget(bl_exporter, bl_standin, bl_company):
    bl_exporter.verify(bl_company.user_key)
    bl_standin.requests.clear()
    bl_standin.set_faults(throttle_next=1000, retry_after_s=0)

    with pytest.raises(TransientExportError) as caught:
        bl_exporter.verify(bl_company.user_key)

    assert caught.value.reason_code == ReasonCode.BL_UNAVAILABLE
    assert bl_standin.requests.count("GET", "/details") == bl_exporter.config.max_retries + 1


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_5xx_is_retried(status, bl_exporter, bl_standin, bl_company, make_voucher):
    bl_standin.set_faults(errors_next=2, error_status=status)

    booked = bl_exporter.export(make_voucher(), bl_company.user_key)

    assert booked.number == 1
    assert len(bl_standin.vouchers(bl_company.user_key)) == 1


def test_lasting_5xx_ends_in_a_transient_error_with_bounded_requests(bl_exporter, bl_standin, bl_company, make_voucher):
    bl_standin.set_faults(error_rate=1.0, error_status=503)

    with pytest.raises(TransientExportError):
        bl_exporter.export(make_voucher(), bl_company.user_key)

    # The token fetch and the first pre-flight GET each get max_retries + 1 attempts, no more.
    assert len(bl_standin.requests.all()) <= bl_exporter.config.max_retries + 1
    assert bl_standin.vouchers(bl_company.user_key) == []


def test_connection_resets_are_retried(bl_exporter, bl_standin, bl_company, make_voucher):
    bl_exporter.verify(bl_company.user_key)
    bl_standin.set_faults(resets_next=2)

    booked = bl_exporter.export(make_voucher(), bl_company.user_key)

    assert booked.number == 1


def test_a_5xx_on_post_that_did_not_commit_is_posted_again_after_a_look_up(
    bl_exporter, bl_standin, bl_company, make_voucher
):
    bl_standin.set_faults(errors_next=1, error_status=502, methods=("POST",), paths=("/journal",))

    booked = bl_exporter.export(make_voucher(), bl_company.user_key)

    assert (booked.number, booked.already_existed) == (1, False)
    assert bl_standin.requests.count("POST", "/journal") == 2
    assert bl_standin.requests.count("GET", "/journal/entry/batch") == 2  # one look-up before each post
    assert len(bl_standin.vouchers(bl_company.user_key)) == 1


def test_a_flaky_bl_books_every_voucher_exactly_once(bl_exporter, bl_standin, bl_company, make_voucher):
    bl_standin.set_faults(error_rate=0.25, reset_rate=0.05, seed=7)
    vouchers = [make_voucher(date(2026, 5, d)) for d in range(1, 11)]

    for v in vouchers:
        for _ in range(5):  # what the consumer does with a TransientExportError: try again later
            try:
                bl_exporter.export(v, bl_company.user_key)
                break
            except TransientExportError:
                continue

    texts = [e["journalEntryText"] for e in bl_standin.vouchers(bl_company.user_key)]
    assert sorted(texts) == sorted(v.text for v in vouchers)

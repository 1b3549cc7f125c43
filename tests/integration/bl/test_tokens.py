"""One token shared by all threads, renewed before it expires, and once more on a 401."""

from __future__ import annotations

import threading
import time
from datetime import date

import pytest

pytestmark = pytest.mark.integration


class FakeClock:
    def __init__(self) -> None:
        self.now = time.monotonic()

    def __call__(self) -> float:
        return self.now


def test_the_token_is_reused_across_calls(bl_exporter, bl_standin, bl_company, make_voucher):
    issued = bl_standin.registry.tokens_issued
    for d in (1, 2, 3):
        bl_exporter.export(make_voucher(date(2026, 7, d)), bl_company.user_key)

    assert bl_standin.registry.tokens_issued - issued == 1


def test_token_expiry_mid_run_is_renewed_once_and_the_call_retried(bl_exporter, bl_standin, bl_company, make_voucher):
    bl_exporter.export(make_voucher(date(2026, 7, 1)), bl_company.user_key)
    issued = bl_standin.registry.tokens_issued

    bl_standin.expire_tokens()  # BL forgets every token before the client expected it to
    booked = bl_exporter.export(make_voucher(date(2026, 7, 2)), bl_company.user_key)

    assert booked.number == 2
    assert bl_standin.registry.tokens_issued - issued == 1
    assert [r.status for r in bl_standin.requests.all()].count(401) == 1


def test_many_threads_hitting_an_expired_token_fetch_one_new_token(bl_exporter, bl_standin, bl_company):
    bl_exporter.verify(bl_company.user_key)
    bl_standin.expire_tokens()
    issued = bl_standin.registry.tokens_issued
    barrier = threading.Barrier(8)
    failures: list[BaseException] = []

    def verify() -> None:
        barrier.wait()
        try:
            bl_exporter.verify(bl_company.user_key)
        except BaseException as exc:  # noqa: BLE001 - asserted below
            failures.append(exc)

    threads = [threading.Thread(target=verify) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=20)

    assert failures == []
    assert bl_standin.registry.tokens_issued - issued == 1


def test_the_token_is_renewed_before_it_expires(make_bl_exporter, bl_standin, bl_company):
    bl_standin.token_ttl_s = 120
    clock = FakeClock()
    exporter = make_bl_exporter(clock=clock, token_renew_margin_s=30)
    exporter.verify(bl_company.user_key)
    issued = bl_standin.registry.tokens_issued

    clock.now += 95  # still valid for 25 s at BL, but inside the 30 s renewal margin
    exporter.verify(bl_company.user_key)

    assert bl_standin.registry.tokens_issued - issued == 1
    assert [r.status for r in bl_standin.requests.all()].count(401) == 0


def test_a_short_lived_token_really_expiring_at_bl_is_survived(bl_exporter, bl_standin, bl_company):
    # The stand-in's tokens live 1 s here; the client believes what expires_in says.
    bl_standin.token_ttl_s = 1
    bl_exporter.verify(bl_company.user_key)
    bl_standin.expire_tokens()

    assert bl_exporter.verify(bl_company.user_key).name == "Testkaféet AB"

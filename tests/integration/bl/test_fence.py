"""The fence runs right before each write to BL, after the rate limits' wait: what it raises stops the request unsent
(a worker whose job was taken over, or whose database cannot say, writes nothing). Counted at the stand-in."""

from __future__ import annotations

import pytest

from service.exporter import Attachment, LeaseLost, VoucherLocation
from service.ports import StorageUnavailable

pytestmark = pytest.mark.integration
PDF = b"%PDF-1.3 a day report"


def _lost() -> None:
    raise LeaseLost("taken over")


def _database_gone() -> None:
    raise StorageUnavailable("the database cannot be reached")


@pytest.mark.parametrize("fence", [_lost, _database_gone], ids=["lease lost", "database gone"])
def test_a_post_whose_fence_raises_is_not_sent(bl_exporter, bl_standin, bl_company, make_voucher, fence) -> None:
    voucher = make_voucher()
    with pytest.raises((LeaseLost, StorageUnavailable)):
        bl_exporter.export(voucher, bl_company.user_key, maybe_posted=False, fence=fence)
    assert bl_standin.requests.count("POST", "/journal") == 0
    assert bl_standin.vouchers(bl_company.user_key) == []


def test_a_retry_s_post_is_fenced_too(bl_exporter, bl_standin, bl_company, make_voucher) -> None:
    """The first post is refused (503, not booked); the retry looks up, finds nothing, and its post is fenced."""
    calls: list[str] = []

    def second_is_lost() -> None:
        calls.append("fence")
        if len(calls) > 1:
            raise LeaseLost("taken over while waiting to retry")

    bl_standin.set_faults(errors_next=1, error_status=503, paths=("/journal",), methods=("POST",))
    with pytest.raises(LeaseLost):
        bl_exporter.export(make_voucher(), bl_company.user_key, maybe_posted=False, fence=second_is_lost)
    assert calls == ["fence", "fence"]
    assert bl_standin.requests.count("POST", "/journal") == 1  # the refused one; the retry's never left
    assert bl_standin.vouchers(bl_company.user_key) == []


def test_an_attach_whose_fence_raises_is_not_sent(bl_exporter, bl_standin, bl_company, make_voucher) -> None:
    voucher = make_voucher()
    booked = bl_exporter.export(voucher, bl_company.user_key, maybe_posted=False, fence=lambda: None)
    where = VoucherLocation(booked.series, booked.number, booked.entry_date, voucher.reference, booked.entity_id)
    with pytest.raises(LeaseLost):
        bl_exporter.attach_document(
            bl_company.user_key, where, Attachment(f"R_{voucher.reference}.pdf", PDF), maybe_attached=False, fence=_lost
        )
    assert not [r for r in bl_standin.requests.all() if "/document" in r.path]
    (entry,) = bl_standin.vouchers(bl_company.user_key)
    assert not entry.get("documentIds")


def test_the_fence_runs_after_the_rate_limits_wait(bl_exporter, bl_company, make_voucher) -> None:
    """A wait for a slot can be long at midnight: a lease checked before it could be lost by the time the post
    leaves. The fence comes after both limits let the request go."""
    order: list[str] = []
    transport = bl_exporter.transport
    client_acquire, company_acquire = transport.limiter.acquire, transport.company_limiter.acquire
    transport.limiter.acquire = lambda: (order.append("client slot"), client_acquire())[1]
    transport.company_limiter.acquire = lambda key: (order.append("company slot"), company_acquire(key))[1]
    voucher = make_voucher()
    bl_exporter.preflight(voucher, bl_company.user_key)
    order.clear()
    bl_exporter.export(voucher, bl_company.user_key, maybe_posted=False, fence=lambda: order.append("fence"))
    assert order == ["company slot", "client slot", "fence"]

"""The client's rate limit holds for the whole client, across threads, as BL measures it."""

from __future__ import annotations

import threading
import time
from datetime import date, timedelta

import pytest

pytestmark = pytest.mark.integration

LIMIT = 25.0


def _export_from_threads(exporter, company, make_voucher, threads: int, per_thread: int) -> float:
    start_day = date(2026, 8, 1)
    failures: list[BaseException] = []

    def run(offset: int) -> None:
        try:
            for i in range(per_thread):
                day = start_day + timedelta(days=offset * per_thread + i)
                exporter.export(make_voucher(day), company.user_key)
        except BaseException as exc:  # noqa: BLE001 - asserted below
            failures.append(exc)

    started = time.monotonic()
    workers = [threading.Thread(target=run, args=(n,)) for n in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=60)
    assert failures == []
    return time.monotonic() - started


def test_concurrent_exports_stay_under_the_client_rate_limit(make_bl_exporter, bl_standin, bl_company, make_voucher):
    exporter = make_bl_exporter(max_requests_per_second=LIMIT)

    elapsed = _export_from_threads(exporter, bl_company, make_voucher, threads=4, per_thread=4)

    requests = len(bl_standin.requests.all())
    assert len(bl_standin.vouchers(bl_company.user_key)) == 16
    # Token bucket with burst 1: at most LIMIT + 1 in any second; +1 for network jitter at the server.
    assert bl_standin.requests.peak_rate(1.0) <= LIMIT + 2
    assert elapsed >= (requests - 1) / LIMIT * 0.95


def test_the_measurement_can_see_a_client_that_does_not_limit(make_bl_exporter, bl_standin, bl_company, make_voucher):
    # The control for the test above: the same load without a tight limit does exceed it.
    exporter = make_bl_exporter(max_requests_per_second=10_000)

    _export_from_threads(exporter, bl_company, make_voucher, threads=4, per_thread=4)

    assert bl_standin.requests.peak_rate(1.0) > LIMIT + 2


def test_the_default_limit_is_under_bls_10_per_second(bl_config):
    from exporters.bl import BLConfig

    default = BLConfig(client_id="x", client_secret="y")  # noqa: S106
    assert default.max_requests_per_second + default.rate_limit_burst <= 10

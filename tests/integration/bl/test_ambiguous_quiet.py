"""After a post whose outcome is unknown, the exporter waits a quiet period before it looks again."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.integration


def test_a_lost_response_is_followed_by_a_quiet_period_before_the_next_look_up(
    make_bl_exporter, bl_standin, bl_company, make_voucher
) -> None:
    slept: list[float] = []
    exporter = make_bl_exporter(ambiguous_quiet_s=7.5, sleep=slept.append)
    bl_standin.set_faults(commit_then_drop=1, drop_mode="reset")
    booked = exporter.export(make_voucher(), bl_company.user_key)
    assert booked.already_existed is True  # found by its reference after the quiet period
    assert slept and max(slept) >= 7.5
    assert len(bl_standin.vouchers(bl_company.user_key)) == 1


def test_ordinary_transient_failures_keep_the_short_backoff(
    make_bl_exporter, bl_standin, bl_company, make_voucher
) -> None:
    slept: list[float] = []
    exporter = make_bl_exporter(ambiguous_quiet_s=7.5, sleep=slept.append)
    bl_standin.set_faults(throttle_next=1, retry_after_s=0, paths=("/journal",), methods=("POST",))
    exporter.export(make_voucher(), bl_company.user_key)
    assert slept and max(slept) < 7.5

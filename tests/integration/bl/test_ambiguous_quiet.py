"""After a post whose outcome is unknown, the exporter waits a quiet period before it looks again."""

from __future__ import annotations

import threading
import time

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


def _posting_in_another_process(make_bl_exporter, bl_standin, bl_company, voucher) -> threading.Thread:  # noqa: ANN001
    """A first post that BL receives and takes 0.6 s to commit (latency on ``POST /journal`` only, under the client's
    1 s timeout), as a process that then dies leaves it: the request goes on without it. Returns once BL has it."""
    bl_standin.set_faults(latency_s=0.6, methods=("POST",), paths=("/journal",))
    dying = make_bl_exporter()
    before = bl_standin.requests.count("POST", "/journal")
    posting = threading.Thread(target=dying.export, args=(voucher, bl_company.user_key), kwargs={"maybe_posted": False})
    posting.start()
    deadline = time.monotonic() + 10
    while bl_standin.requests.count("POST", "/journal") == before:  # a condition polled, not a race slept away
        assert time.monotonic() < deadline, "the first post never reached the stand-in"
        time.sleep(0.01)
    return posting


def _warmed(exporter, bl_company, make_voucher):  # noqa: ANN001, ANN202
    """The restarted process's exporter with its token and the company's facts already fetched, so that its look-up
    is the next request it makes (not seconds later, under a loaded machine)."""
    exporter.export(make_voucher(), bl_company.user_key, maybe_posted=False)
    return exporter


def test_after_a_crash_the_look_up_waits_for_a_post_bl_may_still_be_committing(
    make_bl_exporter, bl_standin, bl_company, make_voucher
) -> None:
    """The lease was taken over from a process that died with its post on its way (``last_post_s_ago=0``): the
    look-up waits the quiet period, finds the voucher BL committed meanwhile, and posts nothing (the long chaos run's
    seed 101 booked a day twice before this wait)."""
    voucher = make_voucher()
    taking_over = _warmed(make_bl_exporter(ambiguous_quiet_s=2.5), bl_company, make_voucher)
    posting = _posting_in_another_process(make_bl_exporter, bl_standin, bl_company, voucher)
    booked = taking_over.export(voucher, bl_company.user_key, maybe_posted=True, last_post_s_ago=0.0)
    posting.join(timeout=10)
    assert booked.already_existed is True
    assert len([v for v in bl_standin.vouchers(bl_company.user_key) if voucher.reference in str(v)]) == 1


def test_without_the_wait_the_same_race_books_the_voucher_twice(
    make_bl_exporter, bl_standin, bl_company, make_voucher
) -> None:
    """The race above is real: looked up at once (nothing said of the last post, as before the fix), BL has not
    committed the first post yet, and the second is booked beside it."""
    voucher = make_voucher()
    taking_over = _warmed(make_bl_exporter(ambiguous_quiet_s=2.5), bl_company, make_voucher)
    posting = _posting_in_another_process(make_bl_exporter, bl_standin, bl_company, voucher)
    booked = taking_over.export(voucher, bl_company.user_key, maybe_posted=True, last_post_s_ago=None)
    posting.join(timeout=10)
    assert booked.already_existed is False
    assert len([v for v in bl_standin.vouchers(bl_company.user_key) if voucher.reference in str(v)]) == 2


def test_an_attempt_that_ended_long_enough_ago_is_looked_up_at_once(
    make_bl_exporter, bl_standin, bl_company, make_voucher
) -> None:
    slept: list[float] = []
    exporter = make_bl_exporter(ambiguous_quiet_s=7.5, sleep=slept.append)
    exporter.export(make_voucher(), bl_company.user_key, maybe_posted=True, last_post_s_ago=60.0)
    exporter.export(make_voucher(), bl_company.user_key, maybe_posted=True, last_post_s_ago=5.0)
    assert slept == [2.5]  # only the rest of the quiet period after an attempt 5 s ago

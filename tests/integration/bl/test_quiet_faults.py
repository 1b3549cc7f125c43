"""BL misbehaving quietly (#24): answers that look like answers. Each is noticed within the client's timeouts,
and a voucher BL booked is found by its reference, never posted twice."""

from __future__ import annotations

import time

import pytest

from service.exporter import OperatorError
from service.reasons import ReasonCode

pytestmark = pytest.mark.integration
POSTS = {"paths": ("/journal",), "methods": ("POST",)}
#: How long the stand-in keeps a stalled body going: far beyond the client's deadline (1 s + 1 s in the fixture).
STALL_S = 30.0


def test_a_200_whose_body_never_finishes_is_given_up_within_the_deadline_and_booked_once(
    make_bl_exporter, bl_standin, bl_company, make_voucher
) -> None:
    slept: list[float] = []
    exporter = make_bl_exporter(ambiguous_quiet_s=4.0, sleep=slept.append)
    # A byte every 0.2 s: never a whole read timeout (1 s) of silence, so only a deadline for the whole ends it.
    bl_standin.set_faults(stall_body_next=1, stall_interval_s=0.2, drop_hold_s=STALL_S, **POSTS)
    started = time.monotonic()
    booked = exporter.export(make_voucher(), bl_company.user_key)
    assert time.monotonic() - started < STALL_S / 2, "the client waited for the trickle instead of its deadline"
    assert booked.already_existed is True and max(slept) >= 4.0  # unknown outcome: quiet period, then found
    assert len(bl_standin.vouchers(bl_company.user_key)) == 1
    assert bl_standin.requests.count("POST", "/journal") == 1


def test_a_body_cut_off_short_of_its_length_is_an_unknown_outcome_not_our_bug(
    make_bl_exporter, bl_standin, bl_company, make_voucher
) -> None:
    slept: list[float] = []
    exporter = make_bl_exporter(ambiguous_quiet_s=4.0, sleep=slept.append)
    bl_standin.set_faults(stall_body_next=1, drop_hold_s=0.0, **POSTS)  # half the body, then a reset
    booked = exporter.export(make_voucher(), bl_company.user_key)
    assert booked.already_existed is True and max(slept) >= 4.0
    assert len(bl_standin.vouchers(bl_company.user_key)) == 1


def test_truncated_json_in_a_200_to_a_post_means_booked_maybe_so_it_waits_the_quiet_period_then_finds_it(
    make_bl_exporter, bl_standin, bl_company, make_voucher
) -> None:
    slept: list[float] = []
    exporter = make_bl_exporter(ambiguous_quiet_s=4.0, sleep=slept.append)
    bl_standin.set_faults(truncate_json_next=1, **POSTS)
    booked = exporter.export(make_voucher(), bl_company.user_key)
    assert booked.already_existed is True
    assert max(slept) >= 4.0, "a post BL answered 200 was looked up again before the quiet period"
    assert len(bl_standin.vouchers(bl_company.user_key)) == 1
    assert bl_standin.requests.count("POST", "/journal") == 1


def test_truncated_json_in_a_200_to_a_get_is_retried_at_once(make_bl_exporter, bl_standin, bl_company) -> None:
    slept: list[float] = []
    exporter = make_bl_exporter(ambiguous_quiet_s=4.0, sleep=slept.append)
    bl_standin.set_faults(truncate_json_next=1, paths=("/financialyear",), methods=("GET",))
    assert exporter.fiscal_years(bl_company.user_key, fresh=True)
    assert slept and max(slept) < 4.0


@pytest.mark.parametrize("after_commit", [False, True], ids=["before", "after-commit"])
def test_a_gateways_html_502_page_is_an_outage_and_a_post_behind_it_is_booked_once(
    make_bl_exporter, bl_standin, bl_company, make_voucher, after_commit: bool
) -> None:
    exporter = make_bl_exporter(ambiguous_quiet_s=0.05)
    bl_standin.set_faults(gateway_html_next=1, gateway_after_commit=after_commit, **POSTS)
    booked = exporter.export(make_voucher(), bl_company.user_key)
    assert booked.already_existed is after_commit
    assert len(bl_standin.vouchers(bl_company.user_key)) == 1
    assert bl_standin.requests.count("POST", "/journal") == (1 if after_commit else 2)


def test_our_token_refused_mid_day_is_renewed_once_and_the_post_sent_again(
    make_bl_exporter, bl_standin, bl_company, make_voucher
) -> None:
    exporter = make_bl_exporter()
    exporter.fiscal_years(bl_company.user_key, fresh=True)  # a token in hand, as mid-day
    issued = bl_standin.registry.tokens_issued
    bl_standin.set_faults(unauthorized_next=1, **POSTS)
    booked = exporter.export(make_voucher(), bl_company.user_key)
    assert booked.already_existed is False
    assert bl_standin.registry.tokens_issued == issued + 1
    assert len(bl_standin.vouchers(bl_company.user_key)) == 1


def test_a_fresh_token_refused_too_is_our_credentials_and_nothing_is_booked(
    make_bl_exporter, bl_standin, bl_company, make_voucher
) -> None:
    exporter = make_bl_exporter()
    bl_standin.set_faults(unauthorized_next=2, **POSTS)
    with pytest.raises(OperatorError) as refused:
        exporter.export(make_voucher(), bl_company.user_key)
    assert refused.value.reason_code is ReasonCode.CLIENT_CREDENTIALS_INVALID
    assert bl_standin.vouchers(bl_company.user_key) == []
    assert exporter.export(make_voucher(), bl_company.user_key).already_existed is False  # once BL takes it again


def test_an_answer_slower_than_the_timeout_after_bl_booked_is_found_not_posted_again(
    make_bl_exporter, bl_standin, bl_company, make_voucher
) -> None:
    exporter = make_bl_exporter(ambiguous_quiet_s=0.05)
    bl_standin.set_faults(commit_then_drop=1, drop_mode="late", drop_hold_s=3.0)
    booked = exporter.export(make_voucher(), bl_company.user_key)
    assert booked.already_existed is True
    assert len(bl_standin.vouchers(bl_company.user_key)) == 1
    assert bl_standin.requests.count("POST", "/journal") == 1


def test_a_chunked_gzipped_answer_is_read_whole_and_its_connection_reused() -> None:
    """What a real gateway may send (the stand-in sends Content-Length): chunks, gzip; read whole by the deadline."""
    import gzip
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    import requests

    from exporters.bl.reading import read_body

    body = gzip.compress(b'{"data": [' + b",".join(b"%d" % i for i in range(20000)) + b"]}")
    connections: set[int] = set()

    class Chunked(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *_: object) -> None:
            pass

        def do_GET(self) -> None:
            connections.add(self.client_address[1])
            self.send_response(200)
            for name, value in (("Transfer-Encoding", "chunked"), ("Content-Encoding", "gzip")):
                self.send_header(name, value)
            self.end_headers()
            for i in range(0, len(body), 7000):
                self.wfile.write(b"%x\r\n%s\r\n" % (len(body[i : i + 7000]), body[i : i + 7000]))
            self.wfile.write(b"0\r\n\r\n")

    server = ThreadingHTTPServer(("127.0.0.1", 0), Chunked)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with requests.Session() as session:
            for _ in range(2):
                response = session.get(f"http://127.0.0.1:{server.server_address[1]}/", stream=True, timeout=(1, 2))
                read_body(response, time.monotonic() + 5)
                assert response.json()["data"][-1] == 19999
    finally:
        server.shutdown()
    assert len(connections) == 1, "the connection was not given back to the pool"

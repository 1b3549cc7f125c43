"""Pure parts of the BL adapter: exact JSON, the rate limiter, error mapping, secret hygiene."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from exporters.bl import BLConfig
from exporters.bl.errors import EXCEPTION_REASONS, BLHttpError, RetryableFailure, to_export_error
from exporters.bl.payload import dumps_exact, journal_entry, reference_pattern
from exporters.bl.ratelimit import TokenBucket
from exporters.bl.transport import parse_retry_after
from mapping.voucher import Voucher, VoucherRow
from service.exporter import ExporterBug, MerchantActionRequired, OperatorError, mask_secret
from service.reasons import ReasonCode


def test_amounts_are_written_from_decimal_text_never_float():
    voucher = Voucher(
        "K",
        date(2026, 3, 1),
        "x R1",
        "R1",
        (VoucherRow("1910", 10), VoucherRow("1930", 20), VoucherRow("3001", -30, "S1", "Sälj")),
    )

    text = dumps_exact(journal_entry(voucher, "202601", [7]))

    assert text == (
        '{"journalId":"K","journalEntryDate":"2026-03-01","journalEntryText":"x R1","ledgerEntries":['
        '{"accountId":"1910","amount":0.10},{"accountId":"1930","amount":0.20},'
        '{"accountId":"3001","amount":-0.30,"costCenterId":"S1","text":"Sälj"}],'
        '"financialYearId":"202601","documentIds":[7]}'
    )


def test_floats_are_refused():
    with pytest.raises(TypeError):
        dumps_exact({"amount": 0.1})
    with pytest.raises(ValueError):
        dumps_exact(Decimal("NaN"))


class FakeTime:
    def __init__(self) -> None:
        self.now = 100.0

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


@pytest.mark.parametrize(("rate", "burst"), [(8.0, 1), (10.0, 3), (2.5, 1)])
def test_token_bucket_never_exceeds_burst_plus_rate_per_second(rate, burst):
    t = FakeTime()
    bucket = TokenBucket(rate, burst, clock=t.clock, sleep=t.sleep)
    times = []
    for _ in range(50):
        bucket.acquire()
        times.append(t.now)

    for i, start in enumerate(times):
        in_window = [x for x in times[i:] if x - start < 1.0]
        assert len(in_window) <= burst + rate
    assert times[-1] - times[0] == pytest.approx((50 - burst) / rate)


def test_retry_after_parsing():
    assert parse_retry_after("3") == 3.0
    assert parse_retry_after(None) is None
    assert parse_retry_after("soon") is None
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0


@pytest.mark.parametrize(("exception_id", "code"), [(k, v[1]) for k, v in EXCEPTION_REASONS.items()])
def test_every_mapped_exception_id_gets_its_code(exception_id, code):
    assert to_export_error(BLHttpError(400, {"exceptionId": exception_id}, "post")).reason_code == code


def test_unmapped_answers():
    assert isinstance(to_export_error(BLHttpError(401, {}, "x")), OperatorError)
    assert to_export_error(BLHttpError(403, {}, "x")).reason_code == ReasonCode.KEY_NOT_ACTIVATED
    assert isinstance(to_export_error(BLHttpError(400, {"exceptionId": "JSON_ERROR"}, "x")), ExporterBug)
    other = to_export_error(BLHttpError(400, {"exceptionId": "VAT_NOT_SAVED", "message": "nej"}, "x"))
    assert isinstance(other, MerchantActionRequired) and other.reason_code == ReasonCode.BL_REJECTED
    assert to_export_error(RetryableFailure("boom", 503)).reason_code == ReasonCode.BL_UNAVAILABLE


def test_secrets_stay_out_of_reprs():
    config = BLConfig(client_id="ours", client_secret="s3cr3t-s3cr3t-s3cr3t")  # noqa: S106
    assert "s3cr3t" not in repr(config) and "s3cr3t" not in config.describe()
    assert mask_secret("0f8fad5b-d9cb-469f-a165-70867728950e") == "0f8f…950e"
    assert mask_secret("short") == "…"


def test_reference_matches_whole_tokens_only():
    pattern = reference_pattern("DC-1")
    assert pattern.search("Dagsavslut DC-1")
    assert not pattern.search("Dagsavslut DC-10")
    assert not pattern.search("Dagsavslut XDC-1")

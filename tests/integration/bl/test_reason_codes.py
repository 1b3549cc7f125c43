"""Every reason code the BL adapter maps, provoked against the stand-in over HTTP.

Most merchant problems are caught twice: by pre-flight (from BL's fiscal years, accounts and
cost centres) and, if BL changed after pre-flight looked, by BL's own ``ApiError`` on POST.
Both paths must give the same reason code.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date

import pytest

from devstack.bl_standin import Company
from exporters.bl.errors import BLHttpError, to_export_error
from exporters.bl.payload import journal_entry
from mapping.voucher import VoucherRow
from service.exporter import ExporterBug, MerchantActionRequired, OperatorError, TransientExportError
from service.reasons import ReasonCode

pytestmark = pytest.mark.integration

Change = Callable[[Company], None]

MERCHANT_CASES: list[tuple[str, Change, ReasonCode]] = [
    ("fiscal year missing", lambda c: c.remove_financial_year("202601"), ReasonCode.FISCAL_YEAR_MISSING),
    ("fiscal year closed", lambda c: c.close_financial_year("202601"), ReasonCode.FISCAL_YEAR_CLOSED),
    ("period locked", lambda c: c.lock_through(date(2026, 3, 31)), ReasonCode.PERIOD_LOCKED),
    ("account missing", lambda c: c.remove_account("1930"), ReasonCode.ACCOUNT_MISSING_IN_BL),
    ("account closed", lambda c: c.close_account("3001"), ReasonCode.ACCOUNT_CLOSED),
    ("cost centre missing", lambda c: c.remove_cost_centre("S1"), ReasonCode.COST_CENTRE_MISSING),
]


@pytest.mark.parametrize(("name", "change", "code"), MERCHANT_CASES, ids=[c[0] for c in MERCHANT_CASES])
def test_preflight_names_the_problem(  # noqa: PLR0917 - parametrised
    name, change, code, bl_exporter, bl_standin, bl_company, make_voucher
):
    change(bl_company)

    with pytest.raises(MerchantActionRequired) as caught:
        bl_exporter.export(make_voucher(cost_centre="S1"), bl_company.user_key)

    assert caught.value.reason_code == code
    assert bl_standin.requests.count("POST", "/journal") == 0
    assert bl_standin.vouchers(bl_company.user_key) == []


@pytest.mark.parametrize(("name", "change", "code"), MERCHANT_CASES, ids=[c[0] for c in MERCHANT_CASES])
def test_bl_rejection_after_a_stale_preflight_maps_to_the_same_code(  # noqa: PLR0917
    name, change, code, bl_exporter, bl_standin, bl_company, make_voucher
):
    voucher = make_voucher(cost_centre="S1")
    bl_exporter.preflight(voucher, bl_company.user_key)  # caches BL's facts as they were
    change(bl_company)

    with pytest.raises(MerchantActionRequired) as caught:
        bl_exporter.export(voucher, bl_company.user_key)

    assert caught.value.reason_code == code
    assert bl_standin.requests.count("POST", "/journal") == 1, "the rejection must come from BL's POST"
    assert caught.value.details["bl_exception_id"]


def test_once_the_merchant_fixes_it_the_retry_books(bl_exporter, bl_standin, bl_company, make_voucher):
    voucher = make_voucher()
    bl_company.close_account("3001")
    with pytest.raises(MerchantActionRequired):
        bl_exporter.export(voucher, bl_company.user_key)

    bl_company.accounts["3001"]["closed"] = False

    assert bl_exporter.export(voucher, bl_company.user_key).number == 1


def test_every_missing_account_is_named_at_once(bl_exporter, bl_company, make_voucher):
    bl_company.remove_account("1930")
    bl_company.remove_account("2611")

    with pytest.raises(MerchantActionRequired) as caught:
        bl_exporter.export(make_voucher(), bl_company.user_key)

    assert caught.value.details["accounts"] == ["1930", "2611"]


def test_missing_series_is_reported_from_bls_answer(bl_exporter, bl_company, make_voucher):
    # The published API has no series listing: BL's JOURNAL_SERIES_NOT_FOUND on POST is the check.
    bl_company.remove_series("K")

    with pytest.raises(MerchantActionRequired) as caught:
        bl_exporter.export(make_voucher(), bl_company.user_key)

    assert caught.value.reason_code == ReasonCode.SERIES_MISSING


@pytest.mark.parametrize("call", ["verify", "export"])
def test_key_not_activated(call, bl_exporter, bl_standin, make_voucher):
    company = bl_standin.register_company(activated=False)

    with pytest.raises(MerchantActionRequired) as caught:
        if call == "verify":
            bl_exporter.verify(company.user_key)
        else:
            bl_exporter.export(make_voucher(), company.user_key)

    assert caught.value.reason_code == ReasonCode.KEY_NOT_ACTIVATED
    assert "activate" in caught.value.message.lower()


def test_unknown_key(bl_exporter, bl_standin):
    key = "00000000-1111-2222-3333-444455556666"
    with pytest.raises(MerchantActionRequired) as caught:
        bl_exporter.verify(key)

    assert caught.value.reason_code == ReasonCode.KEY_UNKNOWN
    assert key not in str(caught.value) and key not in repr(caught.value.details)
    assert bl_standin.requests.count("GET", "/details") == 1, "a 500 for an unknown key is not retried"


def test_bad_client_credentials_are_an_operator_problem(make_bl_exporter, bl_company, make_voucher):
    exporter = make_bl_exporter(client_secret="wrong-secret-wrong-secret")  # noqa: S106

    for call in (
        lambda: exporter.verify(bl_company.user_key),
        lambda: exporter.export(make_voucher(), bl_company.user_key),
    ):
        with pytest.raises(OperatorError) as caught:
            call()
        assert caught.value.reason_code == ReasonCode.CLIENT_CREDENTIALS_INVALID
        assert "wrong-secret" not in str(caught.value)


def test_bl_down_is_transient(make_bl_exporter, bl_config, bl_company, make_voucher):
    # A port nothing listens on: connection refused, retried, then reported as BL_UNAVAILABLE.
    dead = bl_config.base_url.rsplit(":", 1)[0] + ":9"
    exporter = make_bl_exporter(base_url=dead + "/bla-api/v1/sp", token_url=dead + "/auth/oauth/v2/token")

    with pytest.raises(TransientExportError) as caught:
        exporter.verify(bl_company.user_key)

    assert caught.value.reason_code == ReasonCode.BL_UNAVAILABLE


def test_unbalanced_at_bl_is_our_bug(bl_client, bl_company, make_voucher):
    # Our Voucher cannot be unbalanced, so this can only be a serialisation bug: send one by hand.
    body = journal_entry(make_voucher(), "202601")
    body["ledgerEntries"][0]["amount"] += 1

    with pytest.raises(BLHttpError) as caught:
        bl_client.post_journal(bl_company.user_key, body)
    error = to_export_error(caught.value)

    assert isinstance(error, ExporterBug)
    assert error.reason_code == ReasonCode.UNBALANCED


def test_other_rejections_are_bl_rejected_with_bls_message(bl_client, bl_company, make_voucher):
    body = journal_entry(make_voucher(), "202601", document_ids=[987654])

    with pytest.raises(BLHttpError) as caught:
        bl_client.post_journal(bl_company.user_key, body)
    error = to_export_error(caught.value)

    assert isinstance(error, MerchantActionRequired)
    assert error.reason_code == ReasonCode.BL_REJECTED
    assert error.details["bl_exception_id"] == "DOCUMENT_NOT_FOUND"


def test_a_closed_cost_centre_row_among_others_is_caught(bl_exporter, bl_company, make_voucher):
    bl_company.cost_centres["S2"]["closed"] = True
    voucher = make_voucher(cost_centre="S1")
    voucher = replace(voucher, rows=(*voucher.rows[:-1], VoucherRow("2611", -27_510, "S2")))

    with pytest.raises(MerchantActionRequired) as caught:
        bl_exporter.export(voucher, bl_company.user_key)

    assert caught.value.reason_code == ReasonCode.COST_CENTRE_MISSING
    assert caught.value.details["cost_centres"] == ["S2"]

"""Attaching the day report to a booked voucher: exactly once, through BL's documented document calls."""

from __future__ import annotations

import threading
import time

import pytest

from devstack.bl_standin.conformance import request_problems
from devstack.pytest_fixtures.bl import REFERENCE_DOCUMENT
from service.exporter import Attachment, DocumentRefused, VoucherLocation
from service.reasons import ReasonCode

pytestmark = pytest.mark.integration
PDF = b"%PDF-1.3 a day report"


def booked(bl_exporter, bl_company, make_voucher):  # type: ignore[no-untyped-def]
    voucher = make_voucher()
    b = bl_exporter.export(voucher, bl_company.user_key)
    return voucher, VoucherLocation(b.series, b.number, b.entry_date, voucher.reference)


def test_a_lost_answer_after_bl_attached_is_found_by_name_not_attached_again(
    bl_exporter, bl_standin, bl_company, make_voucher
):
    voucher, where = booked(bl_exporter, bl_company, make_voucher)
    name = f"Dagsrapport_s1_2026-03-14_{voucher.reference}.pdf"
    bl_standin.set_faults(documents_commit_then_drop=1, drop_mode="reset")

    attached = bl_exporter.attach_document(bl_company.user_key, where, Attachment(name, PDF))

    (document,) = bl_standin.documents(bl_company.user_key)
    assert (attached.document_id, attached.already_attached) == (document["id"], True)
    assert document["content"] == PDF and document["vouchers"][0][:2] == (where.series, where.number)
    assert bl_standin.requests.count("POST", "/document/attachto") == 1
    again = bl_exporter.attach_document(bl_company.user_key, where, Attachment(name, PDF))  # a later retry
    assert again.already_attached is True and len(bl_standin.documents(bl_company.user_key)) == 1
    assert request_problems(bl_standin.requests.all(), REFERENCE_DOCUMENT) == []


def test_a_document_of_the_merchant_on_the_voucher_is_not_taken_for_ours(
    bl_exporter, bl_standin, bl_company, make_voucher
):
    voucher, where = booked(bl_exporter, bl_company, make_voucher)
    (entry,) = bl_standin.vouchers(bl_company.user_key)
    with bl_company.lock:
        bl_company.attach_new_document(entry["entityId"], "kvitto-hyra.pdf", b"%PDF theirs", "application/pdf")

    attached = bl_exporter.attach_document(bl_company.user_key, where, Attachment(f"R_{voucher.reference}.pdf", PDF))

    assert attached.already_attached is False
    assert [d["name"] for d in bl_standin.documents(bl_company.user_key)] == [
        "kvitto-hyra.pdf",
        f"R_{voucher.reference}.pdf",
    ]


def test_bl_refusing_the_document_is_its_own_error(bl_exporter, bl_standin, bl_company, make_voucher):
    voucher, where = booked(bl_exporter, bl_company, make_voucher)
    bl_standin.set_faults(refuse_documents_next=1)

    with pytest.raises(DocumentRefused) as refused:
        bl_exporter.attach_document(bl_company.user_key, where, Attachment(f"R_{voucher.reference}.pdf", PDF))

    assert refused.value.reason_code is ReasonCode.DOCUMENT_ATTACH_FAILED
    assert refused.value.details["bl_exception_id"] == "FILE_NOT_ALLOWED"
    assert bl_company.user_key not in str(refused.value.details)
    assert len(bl_standin.vouchers(bl_company.user_key)) == 1 and bl_standin.documents(bl_company.user_key) == []


def test_the_stand_in_shows_over_http_what_is_attached_to_which_voucher(
    bl_exporter, bl_standin, bl_company, make_voucher
):
    import hashlib

    import requests

    voucher, where = booked(bl_exporter, bl_company, make_voucher)
    bl_exporter.attach_document(bl_company.user_key, where, Attachment(f"R_{voucher.reference}.pdf", PDF))

    listed = requests.get(f"{bl_standin.url}/_admin/companies/{bl_company.user_key}/documents", timeout=5).json()

    assert listed == [
        {
            "id": listed[0]["id"],
            "name": f"R_{voucher.reference}.pdf",
            "content_type": "application/pdf",
            "size": len(PDF),
            "sha256": hashlib.sha256(PDF).hexdigest(),
            "vouchers": [{"series": where.series, "number": where.number, "financial_year": "202601"}],
        }
    ]


def test_after_a_crash_the_read_back_waits_for_an_attach_bl_may_still_be_committing(
    bl_exporter, make_bl_exporter, bl_standin, bl_company, make_voucher
):
    """A process sent the attach and died while BL took 0.6 s over it (latency on ``POST /document`` only); the
    restart's read-back (``last_attempt_s_ago=0``: the attempt began just now, as far as it knows) waits the quiet
    period, finds the document, and attaches nothing more."""
    voucher, where = booked(bl_exporter, bl_company, make_voucher)
    name = f"Dagsrapport_s1_2026-03-14_{voucher.reference}.pdf"
    bl_standin.set_faults(latency_s=0.6, methods=("POST",), paths=("/document",))
    dying = make_bl_exporter()
    sending = threading.Thread(target=dying.attach_document, args=(bl_company.user_key, where, Attachment(name, PDF)))
    sending.start()
    deadline = time.monotonic() + 10
    while bl_standin.requests.count("POST", "/document") == 0:  # a condition polled, not a race slept away
        assert time.monotonic() < deadline, "the first attach never reached the stand-in"
        time.sleep(0.01)
    restarted = make_bl_exporter(ambiguous_quiet_s=2.0)
    attached = restarted.attach_document(
        bl_company.user_key, where, Attachment(name, PDF), maybe_attached=True, last_attempt_s_ago=0.0
    )
    sending.join(timeout=10)
    assert attached.already_attached is True
    assert len(bl_standin.documents(bl_company.user_key)) == 1

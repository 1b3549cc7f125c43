"""Every request the client sends matches BL's published OpenAPI document.

The ``bl_standin`` fixture checks each test's recorded requests when the test ends; this module
also runs one export through every code path that sends something and checks it explicitly, and
shows the checker does reject what BL would not accept.
"""

from __future__ import annotations

from datetime import date

import pytest

from devstack.bl_standin.conformance import request_problems
from devstack.bl_standin.faults import RecordedRequest
from devstack.pytest_fixtures.bl import REFERENCE_DOCUMENT
from service.exporter import Attachment

pytestmark = pytest.mark.integration

JOURNAL = "/bla-api/v1/sp/journal"


def test_every_request_of_a_full_export_matches_the_reference_document(
    bl_exporter, bl_client, bl_standin, bl_company, make_voucher
):
    voucher = make_voucher(cost_centre="S1")
    bl_exporter.verify(bl_company.user_key)
    bl_standin.set_faults(commit_then_drop=1, drop_mode="reset")
    booked = bl_exporter.export(voucher, bl_company.user_key, Attachment("z.pdf", b"%PDF-1.4 z", "application/pdf"))
    bl_client.get_journal_entry(bl_company.user_key, booked.series, booked.number, voucher.entry_date)
    bl_exporter.export(make_voucher(date(2026, 3, 20)), bl_company.user_key)

    recorded = bl_standin.requests.all()
    kinds = {(r.method, r.path.rsplit("/sp", 1)[-1].split("/2026")[0]) for r in recorded}
    assert {
        ("POST", "/auth/oauth/v2/token"),
        ("GET", "/details"),
        ("GET", "/account"),
        ("GET", "/costcenter"),
        ("POST", "/journal"),
        ("POST", "/document"),
        ("GET", "/journal/entry/batch"),
    } <= kinds
    assert request_problems(recorded, REFERENCE_DOCUMENT) == []


def _record(
    method: str, path: str, body: bytes = b"", content_type: str = "application/json", query: str = ""
) -> RecordedRequest:
    return RecordedRequest(0.0, method, path, query, content_type, body, "key")


@pytest.mark.parametrize(
    ("record", "problem"),
    [
        (
            _record("POST", JOURNAL, b'{"journalId":"K","ledgerEntries":[{"accountId":1910,"amount":1}]}'),
            "is not of type 'string'",
        ),
        (
            _record("POST", JOURNAL, b'{"journalId":"K","ledgerEntries":[{"account":"1910","amount":1}]}'),
            "Additional properties",
        ),
        (_record("POST", JOURNAL, b'{"journalEntryDate":"14/3/2026"}'), "is not a 'date'"),
        (_record("POST", JOURNAL, b'{"journalId":"K"}', content_type="text/plain"), "content type"),
        (_record("GET", "/bla-api/v1/sp/journal/entry/batch", query="serach=x"), "undeclared query"),
        (_record("GET", "/bla-api/v1/sp/vouchers"), "no such operation"),
    ],
)
def test_the_checker_rejects_what_bl_would_not_accept(record, problem):
    problems = request_problems([record], REFERENCE_DOCUMENT)

    assert any(problem in p for p in problems), problems

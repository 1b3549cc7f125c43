"""The day report in BL: one PDF on each voucher, read back with a PDF library we did not write (pypdf)."""

from __future__ import annotations

import io
import re
from collections import Counter
from datetime import date
from typing import Any

import psycopg
import pytest
from pypdf import PdfReader

from devstack import sampledata
from devstack.bl_standin import BLStandIn, Company
from devstack.harness import Harness
from devstack.oracle import assert_balanced
from tests.integration.pipeline.conftest import ORG

pytestmark = pytest.mark.integration
DAY = date(2026, 11, 25)


def pdf_text(content: bytes) -> str:
    reader = PdfReader(io.BytesIO(content))
    return re.sub(r"[ \t]+", " ", "\n".join(page.extract_text() for page in reader.pages))


def documents_on(bl: BLStandIn, company: Company, voucher: dict[str, Any]) -> list[dict[str, Any]]:
    return bl.attachments(company.user_key, voucher["journalId"], voucher["journalEntryId"])


def document_states(h: Harness) -> list[tuple[str, str | None, int | None]]:
    with psycopg.connect(h.settings.database_url) as conn:
        return [
            (r[0], r[1], r[2])
            for r in conn.execute("SELECT reference, document_status, document_id FROM exports ORDER BY created_at")
        ]


def wait_documents(h: Harness, expected: list[str]) -> None:
    h.wait_for(lambda x: [s for _, s, _ in document_states(x)] == expected, what=f"documents {expected}")


def test_a_day_close_ends_with_one_voucher_and_one_attached_day_report(
    pipeline: Harness, bl_standin: BLStandIn, bl_company: Company
) -> None:
    day = sampledata.store_day(ORG, "s1", DAY, 30, store_name="Kafé Ängen")
    close = day.day_closed()
    pipeline.publish_sales([*day.events(), close])
    pipeline.wait_for(lambda x: len(x.outcomes_for(ORG, "SUCCEEDED")) == 1, what="the day booked")
    wait_documents(pipeline, ["attached"])

    (voucher,) = bl_standin.vouchers(bl_company.user_key)
    (document,) = documents_on(bl_standin, bl_company, voucher)
    assert len(bl_standin.documents(bl_company.user_key)) == 1
    assert voucher["documentIds"] == [document["id"]]
    assert document["content_type"] == "application/pdf"
    reference = voucher["journalEntryText"].rsplit("ref ", 1)[-1]
    assert reference in document["name"] and document["name"].endswith(".pdf")
    assert document_states(pipeline) == [(reference, "attached", document["id"])]

    text = pdf_text(document["content"])
    z = close["payload"][1]
    assert f"nr {z['z_report_number']}" in text and "Kafé Ängen" in text
    assert f"serie D nr {voucher['journalEntryId']}" in text and reference in text
    assert "000000–000029 (30 kvitton)" in text and "000000 / 000029" in text
    grand = z["grand_total_ore"]
    assert f"{grand // 100:,}".replace(",", " ") + f",{grand % 100:02d} kr" in text
    for vat in z["vat_totals"]:
        assert f"{vat['vat_rate_bp'] // 100} %" in text
    for row in voucher["ledgerEntries"]:  # every row, with the account's name from BL's chart
        assert f"{row['accountId']}\n{row['accountName'][:40]}" in text


def test_bl_refusing_the_document_leaves_the_voucher_booked_and_reports_it(
    pipeline: Harness, bl_standin: BLStandIn, bl_company: Company
) -> None:
    bl_standin.set_faults(refuse_documents=True)
    day = sampledata.store_day(ORG, "s1", DAY, 10)
    pipeline.publish_sales([*day.events(), day.day_closed()])
    pipeline.wait_for(lambda x: len(x.outcomes_for(ORG, "FAILED")) == 1, what="the document failure")
    wait_documents(pipeline, ["failed"])

    (ok,) = pipeline.outcomes_for(ORG, "SUCCEEDED")
    (failed,) = pipeline.outcomes_for(ORG, "FAILED")
    assert failed["failure"]["reason_code"] == "DOCUMENT_ATTACH_FAILED"
    assert failed["failure"]["severity"] == "WARNING" and failed["failure"]["will_retry"] is False
    assert "dagsrapport" in failed["failure"]["message_sv"].lower()
    assert failed["export_id"] == ok["export_id"] and failed["voucher"]["number"] == ok["voucher"]["number"]
    assert len(bl_standin.vouchers(bl_company.user_key)) == 1  # still booked, never undone
    assert bl_standin.documents(bl_company.user_key) == []
    with psycopg.connect(pipeline.settings.database_url) as conn:
        assert conn.execute("SELECT status FROM exports").fetchone() == ("booked",)


def test_a_transient_failure_keeps_the_document_pending_until_bl_answers(
    pipeline: Harness, bl_standin: BLStandIn, bl_company: Company
) -> None:
    bl_standin.set_faults(error_rate=1.0, paths=("/document/attachto",))
    day = sampledata.store_day(ORG, "s1", DAY, 10)
    pipeline.publish_sales([*day.events(), day.day_closed()])
    pipeline.wait_for(lambda x: len(x.outcomes_for(ORG, "SUCCEEDED")) == 1, what="the day booked")
    pipeline.wait_for(lambda x: bl_standin.requests.count("POST", "/document/attachto") >= 2, what="attach attempts")
    assert [s for _, s, _ in document_states(pipeline)] == ["pending"]
    bl_standin.reset_faults()
    wait_documents(pipeline, ["attached"])
    (voucher,) = bl_standin.vouchers(bl_company.user_key)
    assert len(documents_on(bl_standin, bl_company, voucher)) == 1
    assert pipeline.outcomes_for(ORG, "FAILED") == []


def test_a_partial_export_and_the_day_close_name_each_other(
    pipeline: Harness, bl_standin: BLStandIn, bl_company: Company
) -> None:
    day = sampledata.store_day(ORG, "s1", DAY, 20)
    events = list(day.events())
    pipeline.publish_sales(events[:8])
    pipeline.wait_stored(ORG, 8)
    pipeline.publish_command(sampledata.manual_export(ORG))
    pipeline.wait_for(lambda x: len(x.outcomes_for(ORG, "SUCCEEDED")) == 1, what="the partial export")
    pipeline.publish_sales([*events[8:], day.day_closed()])
    pipeline.wait_for(lambda x: len(x.outcomes_for(ORG, "SUCCEEDED")) == 2, what="the day close")
    wait_documents(pipeline, ["attached", "attached"])

    partial, rest = bl_standin.vouchers(bl_company.user_key)
    assert_balanced([partial, rest])
    (partial_doc,) = documents_on(bl_standin, bl_company, partial)
    (rest_doc,) = documents_on(bl_standin, bl_company, rest)
    partial_text, rest_text = pdf_text(partial_doc["content"]), pdf_text(rest_doc["content"])
    partial_ref = partial["journalEntryText"].rsplit("ref ", 1)[-1]
    assert partial["journalEntryText"].startswith("Delexport")
    assert "Delexport" in partial_text and "kompletteras av dagsavslutets" in partial_text.replace("\n", " ")
    assert "000000–000007 (8 kvitton)" in partial_text
    assert "000000, 000001, 000002, 000003, 000004, 000005, 000006, 000007" in partial_text  # short: listed
    assert "000008–000019 (12 kvitton)" in rest_text
    assert f"Kompletterar tidigare delexport: D {partial['journalEntryId']} ({partial_ref})" in rest_text


def test_a_receipt_after_the_day_close_gets_a_report_naming_the_voucher_it_complements(
    pipeline: Harness, bl_standin: BLStandIn, bl_company: Company
) -> None:
    day = sampledata.store_day(ORG, "s1", DAY, 5, with_extras=False)
    pipeline.publish_sales([*day.events(), day.day_closed()])
    pipeline.wait_for(lambda x: len(x.outcomes_for(ORG, "SUCCEEDED")) == 1, what="the day booked")
    wait_documents(pipeline, ["attached"])
    after = sampledata.store_day(ORG, "s1", DAY, 6, with_extras=False, seed=9)
    pipeline.publish_sales(after.receipts[5:])  # a receipt the POS sent after the day close
    pipeline.wait_for(lambda x: len(x.outcomes_for(ORG, "SUCCEEDED")) == 2, what="the late receipt booked")
    wait_documents(pipeline, ["attached", "attached"])

    closed, late = bl_standin.vouchers(bl_company.user_key)
    (doc,) = documents_on(bl_standin, bl_company, late)
    text = pdf_text(doc["content"]).replace("\n", " ")
    closed_ref = closed["journalEntryText"].rsplit("ref ", 1)[-1]
    assert "Komplettering" in text and f"dagsavslutet i D {closed['journalEntryId']} ({closed_ref})" in text
    assert "dagsavslutets verifikation" not in text and "000005 (1 kvitto)" in text


def test_a_merchants_day_closes_cost_bl_a_post_and_an_attach_each_and_one_pre_flight(
    pipeline: Harness, bl_standin: BLStandIn, bl_company: Company
) -> None:
    """Issue #27: three stores of one merchant close together. Nothing of theirs was sent to BL before, so no voucher
    is looked up and none is read back; the pre-flight's fiscal years and accounts are fetched once for the merchant's
    company. Every store-day still ends with one voucher and one document."""
    days = [sampledata.store_day(ORG, f"s{n}", DAY, 5) for n in (1, 2, 3)]
    bl_standin.requests.clear()
    pipeline.publish_sales([event for day in days for event in [*day.events(), day.day_closed()]])
    wait_documents(pipeline, ["attached"] * 3)

    base = "/bla-api/v1/sp"
    requests = Counter(
        f"{r.method} {re.sub(r'/[0-9][0-9-]*(?=/|$)', '/…', r.path.removeprefix(base))}"
        for r in bl_standin.requests.all()
        if r.path.startswith(base)
    )
    assert requests == {
        "GET /financialyear": 1,
        "GET /account": 1,
        "POST /journal": 3,
        "POST /document/attachto/JOURNAL/…": 3,
    }
    vouchers = bl_standin.vouchers(bl_company.user_key)
    assert len(vouchers) == 3 and all(len(documents_on(bl_standin, bl_company, v)) == 1 for v in vouchers)
    with psycopg.connect(pipeline.settings.database_url) as conn:
        kept = conn.execute("SELECT bl_entity_id FROM exports ORDER BY bl_entity_id").fetchall()
    assert [k for (k,) in kept] == sorted(v["entityId"] for v in vouchers)


def kr(amount_ore: int) -> str:
    sign = "-" if amount_ore < 0 else ""
    return f"{sign}{abs(amount_ore) // 100:,}".replace(",", " ") + f",{abs(amount_ore) % 100:02d} kr"


def test_the_day_report_is_underlag_for_every_row_and_the_audit_record_keeps_the_cash_count(
    pipeline: Harness, bl_standin: BLStandIn, bl_company: Company
) -> None:
    """Issue #21, finding 5. A day with a return, cash in and out, tips paid out and an expired gift card, closed
    5.00 short. Every row of the voucher has its underlag on the PDF: the drawer's terms (the 6990 5,00), the
    movements (the 1930 rows), the expired card (the 3990 row), payments by name tied to the gross sales. The PDF is
    our summary naming the Z-report it reconciles, with the company's organisation number and the date it was
    compiled. The seven-year audit record keeps counted and expected cash."""
    with psycopg.connect(pipeline.settings.database_url) as conn:  # as the API stores it from BL's /details
        conn.execute("UPDATE integrations SET company_name = 'Testkaféet AB', company_org_number = '556000-1234'")
    day = sampledata.store_day(ORG, "s1", DAY, 120, store_name="Kafé Ängen")
    refund = sampledata.receipt_payload("s1-back-1", [("merch", 2500, 24_900)], "cash", kind="RETURN")
    day.receipts.append(day.envelope(sampledata.RECEIPT, refund))  # 249.00 paid back in cash
    close = day.day_closed(counted_cash_delta_ore=-500)
    pipeline.publish_sales([*day.events(), close])
    pipeline.wait_for(lambda x: len(x.outcomes_for(ORG, "SUCCEEDED")) == 1, what="the day booked")
    wait_documents(pipeline, ["attached"])
    (voucher,) = bl_standin.vouchers(bl_company.user_key)
    (document,) = documents_on(bl_standin, bl_company, voucher)
    text = pdf_text(document["content"])

    # The drawer, computed here from the events (returns apart from takings), as the PDF must show it.
    receipts = [e["payload"][1] for e in day.receipts]
    cash = [(r["kind"], p["amount_ore"]) for r in receipts for p in r["payments"] if p["method"] == "cash"]
    takings, returns = sum(a for k, a in cash if k == "SALE"), sum(a for k, a in cash if k == "RETURN")
    z = close["payload"][1]
    for line in (
        f"Ingående växelkassa\n{kr(200_000)}",
        f"+ Kontant försäljning\n{kr(takings)}",
        f"- Kontant återbetalt vid returer\n{kr(returns)}",
        f"+ Insättningar i kassan\n{kr(100_000)}",
        f"- Uttag ur kassan\n{kr(50_000)}",
        f"- Dricks utbetald kontant\n{kr(15_000)}",
        f"= Förväntat i kassan\n{kr(z['expected_cash_ore'])}",
        f"Räknat i kassan\n{kr(z['counted_cash_ore'])}",
        f"Kassabrist (räknat - förväntat)\n{kr(-500)}",
        "s1-2026-11-25-gc",  # the expired gift card (the 3990 row)
        "s1-2026-11-25-dep",  # the deposit and the withdrawal (the 1930 rows)
        "s1-2026-11-25-wd",
        "Testkaféet AB (556000-1234)",
        "Sammanställning av dagsavslut",
        "Avstämd mot Z-rapport\nnr 1",
        "Kort",
        f"= Betalningar\n{kr(z['grand_total_ore'])}",
    ):
        assert line in text, line
    assert returns > 0 and "card" not in text.split("Verifikation D")[0]  # methods by name
    with psycopg.connect(pipeline.settings.database_url) as conn:
        row = conn.execute(
            "SELECT control_totals, (booked_at AT TIME ZONE 'Europe/Stockholm')::date FROM audit_vouchers "
            "JOIN exports USING (export_id)"
        ).fetchone()
    assert row is not None
    kept, booked_on = row
    assert (kept["counted_cash_ore"], kept["expected_cash_ore"]) == (z["counted_cash_ore"], z["expected_cash_ore"])
    assert f"Upprättad\n{booked_on.isoformat()}" in text  # compiled when booked, not the entry date

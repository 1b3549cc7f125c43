"""Corrections requested from BackOffice, and the audit trail's two questions over the API."""

from __future__ import annotations

import time

from devstack import sampledata
from devstack.bl_standin import BLStandIn
from devstack.harness import Harness
from tests.integration.api.conftest import Api, days_ago, set_up_active

ORG = "org-audit"


def wait(check, what: str, timeout: float = 30.0):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.1)  # deadline-bounded polling interval
    raise TimeoutError(what)


def test_a_correction_from_backoffice_records_who_and_why_and_the_audit_queries_follow_the_receipt(
    api: Api, bl_standin: BLStandIn, pipeline: Harness
) -> None:
    m, key = set_up_active(api, bl_standin, ORG)
    day = days_ago(1)
    store_day = sampledata.store_day(ORG, "s1", day, 12)
    pipeline.publish_sales([*store_day.events(), store_day.day_closed()])
    (booked,) = wait(lambda: m.get("/exports", params={"status": "booked"}).json()["items"], "the day booked")
    wait(lambda: m.get("/exports").json()["items"][0]["document_status"] == "attached", "its day report")

    bad = m.post(f"/exports/{booked['export_id']}/corrections", {"reason": "", "acting_user": "anna"})
    assert bad.status_code == 422
    r = m.post(f"/exports/{booked['export_id']}/corrections", {"reason": "fel momssats", "acting_user": "anna"})
    assert r.status_code == 202, r.text
    correction = r.json()
    assert correction["requested_by"] == "anna" and len(correction["reversal_export_ids"]) == 1
    again = m.post(f"/exports/{booked['export_id']}/corrections", {"reason": "igen", "acting_user": "bo"})
    assert again.status_code == 409 and again.json()["code"] == "NOTHING_TO_CORRECT"
    other = api.merchant("org-someone-else")
    assert (
        other.client.post(
            f"{m.base}/exports/{booked['export_id']}/corrections",
            json={"reason": "x", "acting_user": "y"},
            headers=other.headers(),
        ).status_code
        == 403
    )

    def all_booked():  # type: ignore[no-untyped-def]
        xs = m.get("/exports").json()["items"]
        return xs if len(xs) == 3 and all(x["status"] == "booked" for x in xs) else None

    items = wait(all_booked, "reversal and new voucher booked")
    corrected = [x for x in items if x["correction"]]
    assert len(corrected) == 2  # the reversal and the new voucher
    today = days_ago(0)
    assert correction["period"] == "FOUND" and correction["found_on"] == today.isoformat()
    for x in corrected:
        c = x["correction"]
        assert (c["reason"], c["requested_by"], c["requested_via"]) == ("fel momssats", "anna", "API")
        # dated the day it is made, where the error is found
        assert (c["entry_date"], c["found_on"], c["requested_period"], c["dating"]) == (
            today.isoformat(),
            today.isoformat(),
            "FOUND",
            "FOUND_DATE",
        )
        assert c["in_original_period"] is (today.month == day.month)
    assert {x["trigger"] for x in corrected} == {"CORRECTION", "DAY_CLOSE"}

    receipt_id = store_day.receipts[3]["payload"][1]["receipt_id"]
    held = m.get(f"/audit/receipts/{receipt_id}")
    assert held.status_code == 200, held.text
    body = held.json()
    assert body["receipt_number"] == "000003"
    vouchers = body["vouchers"]
    assert [v["trigger"] for v in vouchers] == ["DAY_CLOSE", "CORRECTION", "DAY_CLOSE"]
    assert vouchers[1]["reverses"] == vouchers[0]["export_id"]
    assert all(v["retain_until"] == f"{day.year + 7}-12-31" for v in vouchers)

    original = vouchers[0]
    by_number = m.get(f"/audit/vouchers/{original['series']}/{original['number']}").json()
    (match,) = [v for v in by_number if v["export_id"] == original["export_id"]]
    assert len(match["receipts"]) == 12 and {"receipt_id": receipt_id, "receipt_number": "000003"} in match["receipts"]
    assert match["control_totals"]["receipt_count"] == 12
    assert m.get("/audit/receipts/no-such-receipt").status_code == 404
    assert m.get("/audit/vouchers/D/99999").status_code == 404
    assert key not in str(body)


def test_the_original_period_is_asked_for_with_a_statement_and_only_while_bl_takes_it(
    api: Api, bl_standin: BLStandIn, pipeline: Harness
) -> None:
    m, key = set_up_active(api, bl_standin, ORG)
    day = days_ago(1)
    store_day = sampledata.store_day(ORG, "s1", day, 5)
    pipeline.publish_sales([*store_day.events(), store_day.day_closed()])
    (booked,) = wait(lambda: m.get("/exports", params={"status": "booked"}).json()["items"], "the day booked")
    path = f"/exports/{booked['export_id']}/corrections"
    body = {"reason": "fel konto", "acting_user": "revisor@byra", "period": "ORIGINAL"}
    assert m.post(path, body).status_code == 422  # no statement
    assert m.post(path, {**body, "period": "FOUND", "original_period_statement": "x"}).status_code == 422
    company = bl_standin.company(key)
    with company.lock:
        company.lock_through(day)
    statement = {**body, "original_period_statement": "perioden är inte avstämd"}
    closed = m.post(path, statement)
    assert closed.status_code == 409 and closed.json()["code"] == "ORIGINAL_PERIOD_CLOSED"
    with company.lock:
        company.financial_year_for(day).first_open_period = ""  # type: ignore[union-attr]
    r = m.post(path, statement)
    assert r.status_code == 202, r.text
    assert r.json()["period"] == "ORIGINAL"

    def both_booked():  # type: ignore[no-untyped-def]
        xs = [x for x in m.get("/exports").json()["items"] if x["correction"] and x["status"] == "booked"]
        return xs if len(xs) == 2 else None

    for x in wait(both_booked, "reversal and new voucher booked"):
        c = x["correction"]
        assert (c["entry_date"], c["requested_period"], c["period_statement"], c["dating"]) == (
            day.isoformat(),
            "ORIGINAL",
            "perioden är inte avstämd",
            "ORIGINAL_DATE",
        )

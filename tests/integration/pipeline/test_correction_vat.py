"""A correction that changes the output VAT of a period whose return is due or filed: a WARNING naming the period,
its deadline and the change per rate (VAT_RETURN_CHANGED); none when the VAT does not change or the period's
return is not due yet."""

from __future__ import annotations

from datetime import date
from typing import Any

import psycopg
import pytest

from devstack import sampledata
from devstack.bl_standin import BLStandIn, Company
from devstack.harness import Harness
from devstack.oracle import booked_totals, expected_totals
from service.reasons import REASONS, ReasonCode
from tests.integration.pipeline.conftest import ORG
from tests.integration.pipeline.test_corrections import reexport

pytestmark = pytest.mark.integration
DAY = date(2026, 11, 25)
#: A massage card redeemed like a multi-purpose gift card: VAT booked again on what it pays.
AS_MULTI_PURPOSE = {
    **sampledata.SAMPLE_PLAN,
    "payment_methods": {**sampledata.SAMPLE_PLAN["payment_methods"], "massage_card": "2421"},
}
#: The fix: it is a single-purpose card of 25 %, its VAT paid when it was sold.
AS_SINGLE_PURPOSE = {**AS_MULTI_PURPOSE, "single_purpose_methods": {"massage_card": 2500}}


def day_with_a_massage_card() -> sampledata.StoreDay:
    day = sampledata.store_day(ORG, "s1", DAY, 10, with_extras=False)
    payload = sampledata.receipt_payload("s1-massage-1", [("merch", 2500, 100_000)], "massage_card")
    day.receipts.append(day.envelope(sampledata.RECEIPT, payload, event_id="evt-s1-massage-1"))
    return day


def correct(h: Harness, bl: BLStandIn, company: Company, plan: dict[str, Any]) -> list[dict[str, Any]]:
    """Book the day, correct it through ``plan``; the outcomes written with the new voucher's booking, decoded
    from the outbox (the warning, if any, commits in the same transaction as the new voucher's SUCCEEDED)."""
    day = day_with_a_massage_card()
    h.publish_sales([*day.events(), day.day_closed()])
    h.wait_for(lambda x: len(x.outcomes_for(ORG, "SUCCEEDED")) == 1, what="the day booked")
    h.save_plan(ORG, plan)
    assert reexport(h, "s1", DAY, reason="presentkortet är ett enfunktionskort").returncode == 0
    h.wait_for(lambda x: len(x.outcomes_for(ORG, "SUCCEEDED")) == 3, what="reversal + new voucher")
    books = bl.vouchers(company.user_key)
    assert booked_totals(books) == expected_totals([*day.events(), day.day_closed()], plan)
    with psycopg.connect(h.settings.database_url) as conn:
        rows = conn.execute("SELECT value FROM outbox WHERE topic = %s ORDER BY id", (h.topics.outcomes,)).fetchall()
    return [o for o in (h.outcome_codec.decode(bytes(r[0])) for r in rows) if o["status"] == "WARNING"]


def test_a_correction_changing_a_due_periods_vat_warns_with_the_period_and_the_change_per_rate(
    make_pipeline: Any, bl_standin: BLStandIn, bl_company: Company
) -> None:
    h = make_pipeline(plan=AS_MULTI_PURPOSE)
    warnings = correct(h, bl_standin, bl_company, AS_SINGLE_PURPOSE)
    (warning,) = [w for w in warnings if w["failure"]["reason_code"] == "VAT_RETURN_CHANGED"]
    h.wait_for(lambda x: len(x.outcomes_for(ORG, "WARNING")) >= 1, what="the warning on the outcomes topic")
    assert (warning["trigger"], warning["store_id"], warning["business_date"]) == ("CORRECTION", "s1", DAY)
    details = [(d["kind"], d["code"], d["message"]) for d in warning["failure"]["details"]]
    # November's return (monthly assumed: not set) is due by 2027-01-18; the 1 000.00 card held 200.00 of VAT.
    assert details[0] == ("vat_period", "2026-11", "VAT period 2026-11: return due, deadline 2027-01-18")
    assert details[1] == ("vat_change", "2500", "output VAT at 25 % (box 10): -200.00 SEK")
    assert details[2][0] == "correction_date"
    registry = REASONS[ReasonCode.VAT_RETURN_CHANGED]
    assert warning["failure"]["title_sv"] == registry.title_sv and "rättad momsdeklaration" in registry.message_sv
    assert warning["failure"]["severity"] == "WARNING" and warning["failure"]["merchant_action_required"]


def test_no_warning_while_the_periods_return_is_not_due(
    make_pipeline: Any, bl_standin: BLStandIn, bl_company: Company
) -> None:
    h = make_pipeline(plan=AS_MULTI_PURPOSE)
    with psycopg.connect(h.settings.database_url) as conn:  # a quarterly filer: 2026Q4 has not ended
        conn.execute("UPDATE integrations SET vat_frequency = 'QUARTERLY' WHERE organization_id = %s", (ORG,))
    assert not [
        w
        for w in correct(h, bl_standin, bl_company, AS_SINGLE_PURPOSE)
        if w["failure"]["reason_code"] == "VAT_RETURN_CHANGED"
    ]


def test_no_warning_when_the_correction_changes_accounts_but_not_vat(
    make_pipeline: Any, bl_standin: BLStandIn, bl_company: Company
) -> None:
    wrong = {**AS_MULTI_PURPOSE, "product_groups": {**AS_MULTI_PURPOSE["product_groups"], "merch": {"2500": "3041"}}}
    h = make_pipeline(plan=wrong)
    with bl_company.lock:
        bl_company.add_account("3041", "Försäljning varor 25 %", vat_code="1")
    assert not [
        w
        for w in correct(h, bl_standin, bl_company, AS_MULTI_PURPOSE)
        if w["failure"]["reason_code"] == "VAT_RETURN_CHANGED"
    ]

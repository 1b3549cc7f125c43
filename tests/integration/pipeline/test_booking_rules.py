"""The booking rules through the whole pipeline (Kafka protocol, PostgreSQL, BL stand-in over HTTP): the cash
drawer holds a day whose cash does not add up, Z-number gaps are warned about, the Z_REPORT VAT policy books
the Z-report's VAT, and cash differences and tip payouts land on their own accounts."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from devstack import sampledata
from devstack.bl_standin import BLStandIn, Company
from devstack.harness import Harness
from tests.integration.pipeline.conftest import ORG
from tests.integration.pipeline.oracle import assert_balanced, booked_totals, expected_totals

pytestmark = pytest.mark.integration
DAY = date(2026, 11, 25)


def outcomes(h: Harness, status: str) -> list[dict[str, Any]]:
    return h.outcomes_for(ORG, status)


def test_a_dead_lettered_cash_withdrawal_is_caught_by_the_drawer_check(
    pipeline: Harness, bl_standin: BLStandIn, bl_company: Company
) -> None:
    """The POS took 500.00 to the bank and counted the till without it, so expected and counted cash agree and
    the cash difference is 0. The withdrawal's event is broken and dead-lettered: booking the day would leave
    1910 (kassa) 500.00 too high with no alarm. The drawer does not add up, so the day is held and reported."""
    day = sampledata.store_day(ORG, "s1", DAY, 10)
    close = day.day_closed()  # the Z-report counts the withdrawal
    withdrawal = next(e for e in day.others if e["payload"][1].get("kind") == "WITHDRAWAL")
    withdrawal["payload"] = (sampledata.CASH_MOVEMENT, {**withdrawal["payload"][1], "movement_id": ""})
    pipeline.publish_sales([*day.events(), close])

    pipeline.wait_for(lambda h: len(outcomes(h, "FAILED")) == 2, timeout=30, what="INVALID_EVENT + the mismatch")
    assert [d["error_code"] for d in pipeline.dead_letters] == ["INVALID_EVENT"]
    mismatch = next(o for o in outcomes(pipeline, "FAILED") if o["failure"]["reason_code"] == "RECONCILIATION_MISMATCH")
    (detail,) = mismatch["failure"]["details"]
    expected = close["payload"][1]["expected_cash_ore"]
    assert (detail["kind"], detail["code"]) == ("control_total", "expected cash")
    assert detail["message"].startswith(
        f"expected cash: Z-report {Decimal(expected) / 100:.2f}, received {Decimal(expected + 50000) / 100:.2f} SEK "
        f"(opening float 2000.00 + cash payments "
    )
    assert "− withdrawals 0.00" in detail["message"] and "− tip payouts 150.00" in detail["message"]
    assert bl_standin.vouchers(bl_company.user_key) == []

    # The POS re-sends the withdrawal, repaired: the drawer adds up and the day is booked as a whole.
    repaired = {
        **withdrawal,
        "event_id": withdrawal["event_id"] + "-again",
        "payload": (sampledata.CASH_MOVEMENT, {**withdrawal["payload"][1], "movement_id": "s1-wd-again"}),
    }
    pipeline.publish_sales([repaired])
    pipeline.wait_for(lambda h: len(outcomes(h, "SUCCEEDED")) == 1, timeout=30, what="the day booked")
    assert booked_totals(bl_standin.vouchers(bl_company.user_key)) == expected_totals(
        [*(e for e in day.events() if e is not withdrawal), repaired, close]
    )


def test_a_gap_in_z_numbers_is_a_warning_once_and_the_days_are_booked(
    pipeline: Harness, bl_standin: BLStandIn, bl_company: Company
) -> None:
    days = {
        n: sampledata.store_day(ORG, "s1", date(2026, 11, 20 + n), 3, with_extras=False, z_report_number=40 + n)
        for n in (1, 2, 3, 4, 5)
    }
    # Day 1 (Z 41) and day 4 (Z 44) arrive; days 2 and 3 (Z 42, 43) come late, day 5 (Z 45) last.
    for n in (1, 4):
        pipeline.publish_sales([*days[n].events(), days[n].day_closed()])
        pipeline.wait_for(lambda h, k=n: len(outcomes(h, "SUCCEEDED")) == (1 if k == 1 else 2), what=f"day {n}")
    for n in (2, 3, 5):
        pipeline.publish_sales([*days[n].events(), days[n].day_closed()])
    pipeline.wait_for(lambda h: len(outcomes(h, "SUCCEEDED")) == 5, what="every day booked")
    pipeline.poll_outcomes(timeout=0.5)

    # (The sample days open with the same float whatever the day before counted: their cash chain breaks, which is
    # warned about on its own, CASH_CHAIN_BREAK.)
    (warning,) = [o for o in outcomes(pipeline, "WARNING") if o["failure"]["reason_code"].startswith("Z_REPORT")]
    failure = warning["failure"]
    assert (warning["trigger"], warning["business_date"], failure["reason_code"]) == (
        "DAY_CLOSE",
        date(2026, 11, 24),
        "Z_REPORT_GAP",
    )
    assert (failure["severity"], failure["will_retry"]) == ("WARNING", False)
    assert failure["details"] == [
        {
            "kind": "z_report",
            "code": "44",
            "message": "Z-report 44 of 2026-11-24 follows Z-report 41 of 2026-11-21: number 42–43 missing",
        }
    ]
    assert failure["title_sv"] and failure["title_en"]
    assert outcomes(pipeline, "FAILED") == []
    assert len(bl_standin.vouchers(bl_company.user_key)) == 5


Z_REPORT_PLAN = {**sampledata.SAMPLE_PLAN, "vat_policy": "Z_REPORT"}


def _rounding_day(z: int) -> tuple[sampledata.StoreDay, dict[str, Any]]:
    """Six card receipts of two 1.03 lines at 25 %: each line holds 0.21 VAT (Σ 2.52); the POS rounds per
    receipt, 0.41 each, so its Z-report says 2.46 — 6 öre apart, within ½ öre per line (12 lines)."""
    day = sampledata.store_day(ORG, "s1", DAY, 0, with_extras=False, z_report_number=z)
    for n in range(6):
        day.receipts.append(
            day.envelope(
                sampledata.RECEIPT,
                sampledata.receipt_payload(f"s1-r{z}-{n}", [("merch", 2500, 103), ("merch", 2500, 103)], "card"),
            )
        )
    name, close = day.day_closed()["payload"]
    close = {**close, "vat_totals": [{"vat_rate_bp": 2500, "gross_ore": 1236, "vat_ore": 246}]}
    return day, day.envelope(name, close, event_id=f"dayclose-rounding-{z}")


def test_z_report_vat_policy_books_the_z_reports_vat_in_the_day_close_voucher(
    make_pipeline: Callable[..., Harness], bl_standin: BLStandIn, bl_company: Company
) -> None:
    pipeline = make_pipeline(plan=Z_REPORT_PLAN)
    day, close = _rounding_day(7)
    events = list(day.events())
    pipeline.publish_sales(events[:2])  # two receipts, then "export now": line VAT, 0.84
    pipeline.wait_stored(ORG, 2)
    pipeline.publish_command(sampledata.manual_export(ORG))
    pipeline.wait_for(lambda h: len(outcomes(h, "SUCCEEDED")) == 1, what="the manual export")
    pipeline.publish_sales([*events[2:], close])
    pipeline.wait_for(lambda h: len(outcomes(h, "SUCCEEDED")) == 2, what="the day close")

    partial, closing = bl_standin.vouchers(bl_company.user_key)
    assert_balanced([partial, closing])
    assert _rows(partial) == {"1686": "4.12", "2611": "-0.84", "3001": "-3.28"}
    # The day close books its four receipts (line VAT 1.68) and the whole day's rounding, 0.06, back to sales.
    assert _rows(closing) == {"1686": "8.24", "2611": "-1.62", "3001": "-6.62"}
    day_total = booked_totals([partial, closing])
    assert (day_total["2611"], day_total["3001"]) == (-246, -990)  # the Z-report's VAT; gross 12.36 − 2.46


def test_under_exact_the_same_day_is_held_as_a_mismatch(
    pipeline: Harness, bl_standin: BLStandIn, bl_company: Company
) -> None:
    day, close = _rounding_day(8)
    pipeline.publish_sales([*day.events(), close])
    pipeline.wait_for(lambda h: len(outcomes(h, "FAILED")) == 1, timeout=30, what="the mismatch")
    (failure,) = [o["failure"] for o in outcomes(pipeline, "FAILED")]
    assert failure["reason_code"] == "RECONCILIATION_MISMATCH"
    assert [d["message"] for d in failure["details"]] == ["VAT at 25 %: Z-report 2.46, received 2.52 SEK"]
    assert bl_standin.vouchers(bl_company.user_key) == []


def _rows(voucher: dict[str, Any]) -> dict[str, str]:
    """Net per account (a voucher has one row per account and kind of event)."""
    summed: dict[str, Decimal] = {}
    for row in voucher["ledgerEntries"]:
        summed[row["accountId"]] = summed.get(row["accountId"], Decimal(0)) + Decimal(str(row["amount"]))
    return {account: f"{amount:.2f}" for account, amount in summed.items() if amount}


def test_a_day_reopened_and_closed_again_books_only_the_vat_rounding_not_booked_yet(
    make_pipeline: Callable[..., Harness], bl_standin: BLStandIn, bl_company: Company
) -> None:
    pipeline = make_pipeline(plan=Z_REPORT_PLAN)
    day, first_close = _rounding_day(9)  # Z 9: six receipts, 0.06 of rounding
    pipeline.publish_sales([*day.events(), first_close])
    pipeline.wait_for(lambda h: len(outcomes(h, "SUCCEEDED")) == 1, what="the first close")
    # Reopened: two more receipts; Z 10 covers the whole day, 8 receipts rounded per receipt: 3.28 of VAT.
    more = [
        day.envelope(
            sampledata.RECEIPT,
            sampledata.receipt_payload(f"s1-more-{n}", [("merch", 2500, 103), ("merch", 2500, 103)], "card"),
        )
        for n in range(2)
    ]
    day.receipts += more
    day.z_report_number = 10
    name, close = day.day_closed()["payload"]
    second_close = day.envelope(
        name,
        {**close, "vat_totals": [{"vat_rate_bp": 2500, "gross_ore": 1648, "vat_ore": 328}]},
        event_id="dayclose-rounding-10",
    )
    pipeline.publish_sales([*more, second_close])
    pipeline.wait_for(lambda h: len(outcomes(h, "SUCCEEDED")) == 2, what="the second close")

    first, second = bl_standin.vouchers(bl_company.user_key)
    assert _rows(first) == {"1686": "12.36", "2611": "-2.46", "3001": "-9.90"}
    # Its two receipts hold 0.84 of line VAT; the day needs 0.08 of rounding, 0.06 is booked: 0.02 more.
    assert _rows(second) == {"1686": "4.12", "2611": "-0.82", "3001": "-3.30"}
    assert booked_totals([first, second])["2611"] == -328

"""Issue #21 through the whole pipeline (Kafka protocol, PostgreSQL, BL stand-in over HTTP): the till's cash chain
from day to day (finding 1), Z-reports and cash per register (finding 2), one voucher per Z-report however late
sales are batched (finding 3)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import psycopg
import pytest

from devstack import sampledata
from devstack.bl_standin import BLStandIn, Company
from devstack.harness import Harness
from tests.integration.pipeline.conftest import FAST_POLICY, ORG
from tests.integration.pipeline.oracle import assert_balanced, booked_totals, expected_totals

pytestmark = pytest.mark.integration
DAY, NEXT = date(2026, 11, 25), date(2026, 11, 26)
#: The test days are in the past: a grace period that is not over yet for them (late sales wait for a Z-report).
WAITING = replace(FAST_POLICY, late_sales_grace=timedelta(days=3650))
#: One that is over for them (late sales with no new Z-report are booked at once).
OVER = replace(FAST_POLICY, late_sales_grace=timedelta(0))


def outcomes(h: Harness, status: str | None = None) -> list[dict[str, Any]]:
    return h.outcomes_for(ORG, status)


def late_sale(day: sampledata.StoreDay, n: int, method: str) -> dict[str, Any]:
    return day.envelope(sampledata.RECEIPT, sampledata.receipt_payload(f"s1-late-{n}", [("merch", 2500, 5000)], method))


def idle(h: Harness) -> bool:
    """No export job is due: the late sale's check ran (here it waits, parked, until the grace period is over)."""
    with psycopg.connect(h.settings.database_url) as conn:
        row = conn.execute("SELECT count(*) FROM export_jobs WHERE not_before <= now()").fetchone()
    return row is not None and row[0] == 0


def z_status(h: Harness, z: int) -> str | None:
    with psycopg.connect(h.settings.database_url) as conn:
        row = conn.execute(
            "SELECT status FROM day_closes WHERE organization_id = %s AND z_report_number = %s", (ORG, z)
        ).fetchone()
    return str(row[0]) if row else None


def rows(voucher: dict[str, Any]) -> list[tuple[str, str, str]]:
    return [(r["accountId"], f"{Decimal(str(r['amount'])):.2f}", r.get("text") or "") for r in voucher["ledgerEntries"]]


@pytest.mark.parametrize("batching", ["one batch", "each event alone, its job run in between"])
def test_a_reopened_day_books_one_voucher_for_its_second_z_report_however_it_is_batched(
    make_pipeline: Callable[..., Harness], bl_standin: BLStandIn, bl_company: Company, batching: str
) -> None:
    """Finding 3: Z 1 booked; the day reopened; a cash sale, a card sale, then Z 2 (cumulative, 5.00 short where Z 1
    was 3.00 short). One voucher for Z 2, reconciled against it, holding both sales and the 2.00 not booked yet. On
    main every late batch booked its own "Delexport" (a RETRY success with no failure behind it) before Z 2 booked a
    voucher of the shortage alone: 2, 3 or 4 vouchers depending on the batching."""
    pipeline = make_pipeline(policy=WAITING)
    day = sampledata.store_day(ORG, "s1", DAY, 10, with_extras=False, store_name="Kafé Ängen")
    first = [*day.events(), day.day_closed(counted_cash_delta_ore=-300)]
    pipeline.publish_sales(first)
    pipeline.wait_for(lambda h: len(outcomes(h, "SUCCEEDED")) == 1, what="Z 1 booked")
    late = [late_sale(day, 1, "cash"), late_sale(day, 2, "card")]
    day.receipts += late
    day.z_report_number = 2
    z2 = {**day.day_closed(counted_cash_delta_ore=-500), "event_id": "dayclose-s1-z2"}
    if batching == "one batch":
        pipeline.publish_sales([*late, z2])
    else:
        for n, event in enumerate(late, start=1):
            pipeline.publish_sales([event])
            pipeline.wait_stored(ORG, 10 + n)
            pipeline.wait_for(idle, what="the late sale's check run")
        pipeline.publish_sales([z2])
    pipeline.wait_for(lambda h: len(outcomes(h, "SUCCEEDED")) == 2, what="Z 2 booked")
    pipeline.poll_outcomes(timeout=1.0)

    books = bl_standin.vouchers(bl_company.user_key)
    assert_balanced(books)
    assert [v["journalEntryText"].split(" ref ")[0] for v in books] == [
        "Dagsavslut Kafé Ängen 2026-11-25 Z 1",
        "Dagsavslut Kafé Ängen 2026-11-25 Z 2",
    ]
    assert rows(books[1]) == [
        ("1686", "50.00", "Kortbetalningar"),
        ("1910", "50.00", "Kontantbetalningar"),
        ("1910", "-2.00", "Kassabrist"),
        ("2611", "-20.00", "Utgående moms 25 %"),
        ("3001", "-80.00", "Försäljning 25 % moms"),
        ("6990", "2.00", "Kassabrist"),
    ]
    assert [(o["status"], o["trigger"]) for o in outcomes(pipeline)] == [("SUCCEEDED", "DAY_CLOSE")] * 2
    assert booked_totals(books) == expected_totals([*day.events(), z2])


def test_late_sales_with_no_new_z_report_are_booked_after_the_grace_period_as_a_complement_that_says_so(
    make_pipeline: Callable[..., Harness], bl_standin: BLStandIn, bl_company: Company
) -> None:
    """An offline till catching up: a sale of the closed day and no Z-report after it. Once the grace period is over
    it is booked as one complement voucher naming the Z-report it follows (on main: a "Delexport")."""
    pipeline = make_pipeline(policy=OVER)
    day = sampledata.store_day(ORG, "s1", DAY, 5, with_extras=False, store_name="Kafé Ängen")
    pipeline.publish_sales([*day.events(), day.day_closed()])
    pipeline.wait_for(lambda h: len(outcomes(h, "SUCCEEDED")) == 1, what="Z 1 booked")
    pipeline.publish_sales([late_sale(day, 1, "card")])
    pipeline.wait_for(lambda h: len(outcomes(h, "SUCCEEDED")) == 2, what="the complement booked")
    complement = bl_standin.vouchers(bl_company.user_key)[1]
    assert complement["journalEntryText"].startswith("Komplettering Kafé Ängen 2026-11-25 efter Z 1 ref DC-")
    assert rows(complement) == [
        ("1686", "50.00", "Kortbetalningar"),
        ("2611", "-10.00", "Utgående moms 25 %"),
        ("3001", "-40.00", "Försäljning 25 % moms"),
    ]


def banked(day: sampledata.StoreDay) -> sampledata.StoreDay:
    """The day's takings taken to the bank before the close, so the till holds its float again: counted = float."""
    expected = day.day_closed()["payload"][1]["expected_cash_ore"]
    payload = {"movement_id": f"{day.store_id}-{day.register_id}-{day.business_date}-bank", "kind": "WITHDRAWAL",
               "amount_ore": expected - day.opening_float_ore, "note": "till bank"}  # fmt: skip
    day.others.append(day.envelope(sampledata.CASH_MOVEMENT, payload))
    return day


REGISTER_PLAN = {**sampledata.SAMPLE_PLAN, "register_cash_accounts": {"1": "1911", "2": "1912"}}


def test_two_registers_number_their_z_reports_and_count_their_cash_each(
    make_pipeline: Callable[..., Harness], bl_standin: BLStandIn, bl_company: Company
) -> None:
    """Finding 2: a store with registers 1 and 2, two days; each register numbers its own Z-reports (both have Z 1
    and Z 2) and counts its own cash, each day banking its takings so the next day opens with the float. Every
    register-day is reconciled against its own Z-report and booked in a voucher of its own, its cash on its own
    account (1911, 1912). No Z-number warning, no cash chain break. On main the register was unknown: both
    registers' Z 1 of a day were one Z-report twice (a conflict) and their cash one drawer."""
    pipeline = make_pipeline(plan=REGISTER_PLAN)
    records: list[dict[str, Any]] = []
    for z, business_date in ((1, DAY), (2, NEXT)):
        for register in ("1", "2"):
            day = banked(sampledata.store_day(ORG, "s1", business_date, 8, store_name="Kafé Ängen", seed=z,
                                              register_id=register, z_report_number=z))  # fmt: skip
            short = -100 if (register, z) == ("2", 2) else 0  # (a shortage on day 1 would break day 2's chain)
            records += [*day.events(), day.day_closed(counted_cash_delta_ore=short)]
    pipeline.publish_sales(records)
    pipeline.wait_for(lambda h: len(outcomes(h, "SUCCEEDED")) == 4, timeout=60, what="four register-days booked")
    pipeline.poll_outcomes(timeout=1.0)

    assert [o["status"] for o in outcomes(pipeline)] == ["SUCCEEDED"] * 4  # no WARNING, no FAILED
    books = bl_standin.vouchers(bl_company.user_key)
    assert_balanced(books)
    assert sorted(v["journalEntryText"].split(" ref ")[0] for v in books) == [
        "Dagsavslut Kafé Ängen kassa 1 2026-11-25 Z 1",
        "Dagsavslut Kafé Ängen kassa 1 2026-11-26 Z 2",
        "Dagsavslut Kafé Ängen kassa 2 2026-11-25 Z 1",
        "Dagsavslut Kafé Ängen kassa 2 2026-11-26 Z 2",
    ]
    for voucher in books:
        till = voucher["journalEntryText"].split(" kassa ")[1][0]
        cash = {r["accountId"] for r in voucher["ledgerEntries"] if r["accountId"].startswith("191")}
        assert cash == {f"191{till}"}, voucher["journalEntryText"]
    booked = booked_totals(books)
    assert (booked["1911"], booked["1912"]) == (0, -100)  # banked every day; register 2 short 1.00 on day 2
    assert booked == expected_totals(records, REGISTER_PLAN)


def test_a_break_in_the_tills_cash_chain_is_a_warning_naming_both_figures_and_a_recorded_withdrawal_closes_it(
    pipeline: Harness, bl_standin: BLStandIn, bl_company: Company
) -> None:
    """Finding 1: day 1 closes with its takings in the till; day 2 opens with the 2 000.00 float. What left the till
    was never recorded: a CASH_CHAIN_BREAK warning with both figures, the amount and the two Z numbers, and both
    days booked (nothing is absorbed). The POS then records day 1's bank deposit: day 3 chains to day 2 cleanly,
    and the next break is only what really went missing."""
    day1 = sampledata.store_day(ORG, "s1", DAY, 12, with_extras=False, store_name="Kafé Ängen", z_report_number=1)
    close1 = day1.day_closed()
    counted = close1["payload"][1]["counted_cash_ore"]
    day2 = sampledata.store_day(ORG, "s1", NEXT, 6, with_extras=False, store_name="Kafé Ängen", z_report_number=2)
    day2.receipts.append(late_sale(day2, 2, "cash"))  # some cash to take to the bank
    pipeline.publish_sales([*day1.events(), close1, *day2.events(), day2.day_closed()])
    pipeline.wait_for(lambda h: len(outcomes(h, "SUCCEEDED")) == 2 and len(outcomes(h, "WARNING")) == 1,
                      what="both days booked, one warning")  # fmt: skip
    (warning,) = outcomes(pipeline, "WARNING")
    failure = warning["failure"]
    assert (failure["reason_code"], warning["business_date"], failure["severity"]) == (
        "CASH_CHAIN_BREAK",
        NEXT,
        "WARNING",
    )
    missing = counted - 200_000
    assert failure["details"] == [
        {
            "kind": "cash_chain",
            "code": "2",
            "message": f"Z-report 2 of 2026-11-26 opened with 2000.00; Z-report 1 of 2026-11-25 counted "
            f"{Decimal(counted) / 100:.2f}, 0.00 moved on record since: expected {Decimal(counted) / 100:.2f}, "
            f"{Decimal(missing) / 100:.2f} missing",
        }
    ]
    assert len(bl_standin.vouchers(bl_company.user_key)) == 2  # the break is not booked

    # Day 2's takings banked and recorded (a withdrawal of day 2, after its close): day 3 opens with the float.
    counted2 = day2.day_closed()["payload"][1]["counted_cash_ore"]
    bank = day2.envelope(sampledata.CASH_MOVEMENT, {"movement_id": "s1-bank-2", "kind": "WITHDRAWAL",
                                                    "amount_ore": counted2 - 200_000, "note": None})  # fmt: skip
    day3 = sampledata.store_day(ORG, "s1", NEXT + timedelta(days=1), 4, with_extras=False, store_name="Kafé Ängen",
                                z_report_number=3)  # fmt: skip
    pipeline.publish_sales([bank])
    pipeline.wait_stored(ORG, 12 + 7 + 1)
    pipeline.publish_sales([*day3.events(), day3.day_closed()])
    pipeline.wait_for(lambda h: len(outcomes(h, "SUCCEEDED")) >= 4, what="the bank deposit and day 3 booked")
    pipeline.poll_outcomes(timeout=1.0)
    assert len(outcomes(pipeline, "WARNING")) == 1  # no new break
    with psycopg.connect(pipeline.settings.database_url) as conn:
        chain = conn.execute(
            "SELECT z_report_number, cash_chain->>'holds' FROM day_closes WHERE cash_chain IS NOT NULL ORDER BY 1"
        ).fetchall()
    assert chain == [(2, "false"), (3, "true")]


def _invoice_day() -> tuple[sampledata.StoreDay, dict[str, Any]]:
    """Eight receipts and catering for Bygg AB paid by invoice 10234 (1 250.00 at 12 %); the Z-report counts all."""
    day = sampledata.store_day(ORG, "s1", DAY, 8, with_extras=False, store_name="Kafé Ängen")
    catering = sampledata.receipt_payload(
        "s1-inv-1", [("lunch", 1200, 125_000)], "invoice", invoice=("10234", "Bygg AB")
    )
    day.receipts.append(day.envelope(sampledata.RECEIPT, catering))
    return day, day.day_closed()


@pytest.mark.parametrize("invoice_sales", ["OWN_VOUCHER", "BOOKED_ELSEWHERE"])
def test_a_sale_paid_by_invoice_is_its_own_voucher_or_left_to_the_invoicing_never_in_the_days_voucher(
    make_pipeline: Callable[..., Harness], bl_standin: BLStandIn, bl_company: Company, invoice_sales: str
) -> None:
    """Finding 8: the invoice, not the day's joint voucher, is an invoice sale's verifikation. The day (all nine
    receipts) reconciles against its Z-report; the joint voucher books the eight; the invoice is a voucher of its
    own naming the invoice and the customer (the default), or, when the plan says the invoicing books invoices,
    none of ours. On main it was a share of the day's voucher."""
    plan = {**sampledata.SAMPLE_PLAN, "invoice_sales": invoice_sales}
    pipeline = make_pipeline(plan=plan)
    day, close = _invoice_day()
    pipeline.publish_sales([*day.events(), close])
    vouchers = 2 if invoice_sales == "OWN_VOUCHER" else 1
    pipeline.wait_for(lambda h: len(outcomes(h, "SUCCEEDED")) == vouchers, what="the day and its invoice booked")
    pipeline.poll_outcomes(timeout=1.0)

    books = bl_standin.vouchers(bl_company.user_key)
    assert_balanced(books)
    texts = [v["journalEntryText"].split(" ref ")[0] for v in books]
    joint = next(v for v in books if v["journalEntryText"].startswith("Dagsavslut"))
    assert "1510" not in {r["accountId"] for r in joint["ledgerEntries"]}  # the invoice is not in the joint voucher
    if invoice_sales == "OWN_VOUCHER":
        assert sorted(texts) == ["Dagsavslut Kafé Ängen 2026-11-25 Z 1", "Faktura 10234 Bygg AB 2026-11-25"]
        invoice = next(v for v in books if v["journalEntryText"].startswith("Faktura"))
        assert rows(invoice) == [
            ("1510", "1250.00", "Fakturabetalningar"),
            ("2621", "-133.93", "Utgående moms 12 %"),
            ("3002", "-1116.07", "Försäljning 12 % moms"),
        ]
    else:
        assert texts == ["Dagsavslut Kafé Ängen 2026-11-25 Z 1"]
        with psycopg.connect(pipeline.settings.database_url) as conn:
            row = conn.execute("SELECT status, reason_code, invoice->>'number' FROM exports WHERE invoice IS NOT NULL")
            assert row.fetchall() == [("booked", "BOOKED_ELSEWHERE", "10234")]
    assert booked_totals(books) == expected_totals([*day.events(), close], plan)
    assert outcomes(pipeline, "FAILED") == []


@pytest.mark.parametrize("delta_ore", [0, -300, 500])
def test_a_reopened_day_whose_late_sales_were_booked_as_a_complement_before_its_second_z_report_adds_up(
    make_pipeline: Callable[..., Harness], bl_standin: BLStandIn, bl_company: Company, delta_ore: int
) -> None:
    """The order the soak found (seed 24): the grace period is over, so the reopened day's late sales are booked as a
    complement of Z 1 before Z 2 arrives; Z 2 then books only what is left (its cash difference). BL's books for
    the day must equal what was sold, to the öre, per account."""
    pipeline = make_pipeline(policy=OVER)
    day = sampledata.store_day(ORG, "s1", DAY, 6, with_extras=True, store_name="Kafé Ängen")
    pipeline.publish_sales([*day.events(), day.day_closed()])
    pipeline.wait_for(lambda h: len(outcomes(h, "SUCCEEDED")) == 1, what="Z 1 booked")
    late = [late_sale(day, 1, "cash"), late_sale(day, 2, "card")]
    day.receipts += late
    pipeline.publish_sales(late)
    pipeline.wait_for(lambda h: len(outcomes(h, "SUCCEEDED")) == 2, what="the complement booked")
    day.z_report_number = 2
    z2 = {**day.day_closed(counted_cash_delta_ore=delta_ore), "event_id": "dayclose-s1-z2"}
    pipeline.publish_sales([z2])
    pipeline.wait_for(lambda h: z_status(h, 2) not in (None, "open") and idle(h), what="Z 2 handled")
    pipeline.poll_outcomes(timeout=1.0)
    books = bl_standin.vouchers(bl_company.user_key)
    assert_balanced(books)
    assert booked_totals(books) == expected_totals([*day.events(), z2])

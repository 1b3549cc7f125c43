"""Worked examples for the booking rules an auditor checks (docs/booking-rules.md), as an accountant
writes them: the day's facts, then every row of the expected voucher in kronor, written out by hand.

Rows are (account, signed SEK, cost centre); debit +, credit −; sorted by account. The plan is the BAS
one of tests.builders unless a test says otherwise: cash 1910, card 1580, gift card 2421; VAT 25/12/6 %
→ 2611/2621/2631; tips 2890; rounding 3740; cash shortage 6990, overage 3999; expired gift cards 3990.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest
from msgspec.structs import replace as replace_struct

from mapping.errors import SinglePurposeRedemptionError, UnmappedItemsError
from mapping.plan_checks import plan_problems
from mapping.reconcile import ControlTotals, differences
from mapping.register_day import DayClose
from mapping.zsequence import GAP, REPEATED, z_sequence_findings
from tests.builders import (
    DAY,
    amount,
    batch,
    cash_movement,
    day_close,
    entries_of,
    gift_card_expiry,
    line,
    pay,
    plan,
    receipt,
    returned,
    rows_of,
)
from tests.unit.mapping.receipts_path import (
    adjustment_rows,
    build_voucher,
    drawer_differences,
    target_adjustment,
    totals_of,
    vat_tolerance,
)


def book(*items, close=None, the_plan=None, adjustment=(), texts=False):  # type: ignore[no-untyped-def]
    voucher = build_voucher(
        batch(*items, close=close),
        the_plan or plan(),
        store_name="Kafé Centrum",
        reference="DC-0001",
        vat_adjustment=adjustment,
    )
    return entries_of(voucher) if texts else rows_of(voucher)


# --- sales per (product group, VAT rate) --------------------------------------------------------------------


def test_a_cafe_day_with_the_same_product_group_at_6_and_12_percent() -> None:
    """Since 2026-04-01 food is 6 % (take-away included) while eat-in restaurant service stays 12 %
    (prop. 2025/26:55; ML 9 kap. 5 §): the same coffee is both. BAS gives each rate its own sales account
    (3002 12 %, 3003 6 %), so each account's net × its rate is the VAT of that rate.

    Plan: coffee has its own accounts per rate (an override); pastry uses the rates' default accounts.
    Day: coffee to go 42.40 (VAT 2.40) by card; coffee 44.80 (VAT 4.80) and pastry 39.20 (VAT 4.20) at a
    table, by card; pastry to go 37.10 (VAT 2.10) in cash, rounded down to 37.00.
    """
    cafe = plan(product_groups={"coffee": {600: "3003", 1200: "3002"}}, sales_defaults={600: "3003", 1200: "3002"})
    rows = book(
        receipt(line("coffee", 600, gross="42.40", vat="2.40")),
        receipt(line("coffee", 1200, gross="44.80", vat="4.80"), line("pastry", 1200, gross="39.20", vat="4.20")),
        receipt(line("pastry", 600, gross="37.10", vat="2.10"), payments=(pay("cash", "37.00"),), rounding="-0.10"),
        the_plan=cafe,
    )
    assert rows == [
        ("1580", "126.40", None),  # card
        ("1910", "37.00", None),  # cash
        ("2621", "-9.00", None),  # output VAT 12 %  = 12 % × 75.00
        ("2631", "-4.50", None),  # output VAT 6 %   =  6 % × 75.00
        ("3002", "-75.00", None),  # sales 12 %: coffee 40.00 + pastry 35.00
        ("3003", "-75.00", None),  # sales 6 %:  coffee 40.00 + pastry 35.00
        ("3740", "0.10", None),  # öre rounding, no VAT
    ]


# --- one row per account and kind of event --------------------------------------------------------------------


def test_each_kind_of_event_has_its_own_row_so_every_account_reconciles_against_its_statement() -> None:
    """Issue #21, finding 4. Swish takings 10 096.55 (goods at 25 %); 1 000.00 put into the till from the bank and
    500.00 taken from the till to the bank (both against 1930); a gift card sold for 1 000.00 by card, one redeemed
    for a 300.00 meal at 12 %, and a 250.00 balance expired. Netted per account, 1930 showed one row of 9 596.55
    that matches no bank statement line, and 2421 one row of −450.00 that matches nothing in the gift-card ledger.
    One row per (account, kind of event), each with its text; the voucher still balances as a whole."""
    rows = book(
        receipt(line(gross="10096.55"), method="swish"),
        receipt(line("gift_card", 0, gross="1000.00"), method="card"),
        receipt(line("restaurant", 1200, gross="300.00"), method="gift_card"),
        cash_movement("deposit", "1000.00"),
        cash_movement("withdrawal", "500.00"),
        gift_card_expiry("250.00"),
        texts=True,
    )
    assert rows == [
        ("1580", "1000.00", "Kortbetalningar"),
        ("1910", "1000.00", "Insättning i kassan"),
        ("1910", "-500.00", "Uttag ur kassan"),
        ("1930", "10096.55", "Swishbetalningar"),  # = the Swish settlement on the bank statement
        ("1930", "-1000.00", "Insättning i kassan"),  # = the bank withdrawal that filled the till
        ("1930", "500.00", "Uttag ur kassan"),  # = the cash deposited at the bank
        ("2421", "300.00", "Presentkort inlösta"),  # = the gift-card ledger's redemptions …
        ("2421", "-1000.00", "Presentkort sålda"),  # … its cards sold …
        ("2421", "250.00", "Presentkort förfallna"),  # … and its expiries
        ("2611", "-2019.31", "Utgående moms 25 %"),
        ("2621", "-32.14", "Utgående moms 12 %"),  # 300.00 × 12/112
        ("3001", "-8077.24", "Försäljning 25 % moms"),
        ("3002", "-267.86", "Försäljning 12 % moms"),
        ("3990", "-250.00", "Presentkort förfallna"),
    ]


# --- a sale paid by invoice (issue #21, finding 8) ---------------------------------------------------------------


def test_a_sale_paid_by_invoice_is_a_voucher_of_its_own_naming_the_invoice_and_the_customer() -> None:
    """Catering for Bygg AB, 1 250.00 at 12 % (VAT 133.93), paid by invoice 10234. The customer is known: the invoice
    is the sale's verifikation (BFNAR 2013:2 p. 6.4–6.6), so it is booked as a voucher of its own, with the invoice
    and the customer in its text, and the day's joint voucher books the rest of the day. (That split happens when
    the day is claimed: the receipt carries an ``invoice`` bucket naming it; see storage/invoices.py.)"""
    from mapping.sales import Invoice
    from mapping.totals import DayTotals
    from mapping.totals_booking import build_voucher_from_totals

    invoice = Invoice("10234", "c-77", "Bygg AB")
    sale = replace_struct(receipt(line("restaurant", 1200, gross="1250.00"), method="invoice"), invoice=invoice)
    totals = DayTotals.of("store-1", DAY, [sale])
    assert totals.of_kind("invoice") == [(sale.receipt_id, 0, (125_000, 0, 1, 0))]
    voucher = build_voucher_from_totals(totals, plan(), store_name="Kafé", reference="DC-0001", invoice=invoice)
    assert voucher.text == "Faktura 10234 Bygg AB 2026-04-01 ref DC-0001"
    assert entries_of(voucher) == [
        ("1510", "1250.00", "Fakturabetalningar"),  # kundfordran on Bygg AB
        ("2621", "-133.93", "Utgående moms 12 %"),  # 1 250.00 × 12/112
        ("3002", "-1116.07", "Försäljning 12 % moms"),
    ]


# --- cash differences ---------------------------------------------------------------------------------------


def test_a_shortage_day_debits_a_cost_account() -> None:
    """Counted 1 085.00 where 1 100.00 was expected: 15.00 short. A kassabrist is a cost without VAT, on
    its own account (the sales and VAT the Z-report shows are not touched)."""
    rows = book(
        receipt(line(gross="100.00", vat="20.00"), method="cash", z=17),
        close=day_close(counted="1085.00", expected="1100.00", z=17),
    )
    assert rows == [
        ("1910", "100.00", None),  # 100.00 sold in cash …
        ("1910", "-15.00", None),  # … and 15.00 missing from the till: two kinds of event, two rows
        ("2611", "-20.00", None),
        ("3001", "-80.00", None),
        ("6990", "15.00", None),  # kassabrist: Övriga externa kostnader
    ]


def test_an_overage_day_credits_an_income_account() -> None:
    """Counted 1 103.50 where 1 100.00 was expected: 3.50 over, income without VAT on another account."""
    rows = book(
        receipt(line(gross="100.00", vat="20.00"), method="cash", z=18),
        close=day_close(counted="1103.50", expected="1100.00", z=18),
    )
    assert rows == [
        ("1910", "100.00", None),
        ("1910", "3.50", None),
        ("2611", "-20.00", None),
        ("3001", "-80.00", None),
        ("3999", "-3.50", None),  # kassaöverskott: Övriga rörelseintäkter
    ]


def test_a_migrated_plan_keeps_booking_both_directions_on_its_old_account_until_the_two_are_set() -> None:
    legacy = plan(events={"CASH_DIFFERENCE": "3990"})
    assert book(close=day_close(counted="95.00", expected="100.00"), the_plan=legacy) == [
        ("1910", "-5.00", None),
        ("3990", "5.00", None),
    ]
    assert book(close=day_close(counted="102.00", expected="100.00"), the_plan=legacy) == [
        ("1910", "2.00", None),
        ("3990", "-2.00", None),
    ]


def test_a_new_plan_refuses_one_account_for_both_signs_and_a_shortage_on_income() -> None:
    problems = {
        p.field: p.message for p in plan_problems(plan(events={"CASH_SHORTAGE": "3590", "CASH_OVERAGE": "3590"}))
    }
    assert "cost" in problems["events.CASH_SHORTAGE"]
    assert "never one account with both signs" in problems["events.CASH_OVERAGE"]


# --- the cash drawer ----------------------------------------------------------------------------------------


def test_the_drawer_catches_a_cash_withdrawal_that_never_reached_us() -> None:
    """Opening float 2 000.00; cash sales 1 500.00; a return of 100.00 paid back in cash; 500.00 deposited;
    1 000.00 taken to the bank; the float raised by 200.00; 150.00 of card tips paid out to staff.
    The till should hold 2 000 + 1 500 − 100 + 500 − 1 000 + 200 − 150 = 2 950.00, and the Z-report says
    so. The withdrawal was dead-lettered, so our events add up to 3 950.00: the day must not be booked."""
    sale = receipt(line(gross="1500.00"), method="cash")
    refund = returned(receipt(line(gross="100.00"), method="cash"))
    movements = [
        cash_movement("deposit", "500.00"),
        cash_movement("float_change", "200.00"),
        cash_movement("tip_payout", "150.00"),
    ]
    close = DayClose("store-1", DAY, 31, counted_cash_ore=295_000, expected_cash_ore=295_000, opening_float_ore=200_000)
    (diff,) = drawer_differences(close, [sale, refund], movements, [])
    assert (diff.what, diff.expected, diff.actual) == ("expected cash", 295_000, 395_000)
    assert diff.describe() == (
        "expected cash: Z-report 2950.00, received 3950.00 SEK (opening float 2000.00 + cash payments 1400.00 "
        "+ deposits 500.00 − withdrawals 0.00 + float changes 200.00 − tip payouts 150.00)"
    )
    with_it = [*movements, cash_movement("withdrawal", "1000.00")]
    assert drawer_differences(close, [sale, refund], with_it, []) == ()


def test_a_z_report_without_a_cash_count_skips_the_drawer_and_expired_cards_are_reconciled() -> None:
    no_count = DayClose("store-1", DAY, 1, 0, 0, cash_reported=False, gift_card_expired_total_ore=25_000)
    (diff,) = drawer_differences(no_count, [receipt(method="cash")], [], [gift_card_expiry("200.00")])
    assert diff.describe() == "expired gift cards: Z-report 250.00, received 200.00 SEK"
    assert drawer_differences(no_count, [], [], [gift_card_expiry("250.00")]) == ()


# --- VAT rounded per receipt by the POS ---------------------------------------------------------------------


def _receipts_rounding_per_line() -> list:  # type: ignore[type-arg]
    # Two receipts of two 1.03 lines at 25 %: each line holds 0.206 → 0.21 VAT, so Σ line VAT = 0.84.
    return [receipt(line(gross="1.03"), line(gross="1.03")) for _ in range(2)]


def _z_report_rounding_per_receipt() -> ControlTotals:
    # The POS computes VAT per receipt: 2.06 holds 0.412 → 0.41, so 0.82 for the day. Gross agrees exactly.
    return ControlTotals(receipt_count=2, grand_total_ore=412, vat=((2500, 412, 82),), payments=(("card", 412),))


def test_pos_vat_rounded_per_receipt_under_exact_is_a_mismatch() -> None:
    receipts = _receipts_rounding_per_line()
    found = differences(_z_report_rounding_per_receipt(), totals_of(receipts), vat_tolerance("EXACT", receipts))
    assert [d.describe() for d in found] == ["VAT at 25 %: Z-report 0.82, received 0.84 SEK"]


def test_pos_vat_rounded_per_receipt_under_z_report_books_the_z_reports_vat() -> None:
    """Within ½ öre per line at the rate (4 lines: 2 öre here), so the Z-report's VAT is booked: the 0.02
    moves from VAT back to net sales of the same rate, never to another account."""
    receipts = _receipts_rounding_per_line()
    control = _z_report_rounding_per_receipt()
    assert differences(control, totals_of(receipts), vat_tolerance("Z_REPORT", receipts)) == ()
    delta = target_adjustment("Z_REPORT", control, receipts)
    assert delta == {2500: -2}
    rows = book(*receipts, adjustment=adjustment_rows(delta, receipts, plan()), texts=True)
    assert rows == [
        ("1580", "4.12", "Kortbetalningar"),
        ("2611", "-0.84", "Utgående moms 25 %"),  # Σ line VAT …
        ("2611", "0.02", "Momsavrundning enligt Z-rapport"),  # … less the rounding: 0.82, the Z-report's VAT
        ("3001", "-3.28", "Försäljning 25 % moms"),
        ("3001", "-0.02", "Momsavrundning enligt Z-rapport"),  # 3.30 in all
    ]


def test_under_z_report_a_difference_beyond_half_an_ore_per_line_is_still_a_mismatch() -> None:
    receipts = _receipts_rounding_per_line()
    control = ControlTotals(2, 412, ((2500, 412, 81),), (("card", 412),))
    (diff,) = differences(control, totals_of(receipts), vat_tolerance("Z_REPORT", receipts))
    assert diff.describe() == (
        "VAT at 25 %: Z-report 0.81, received 0.84 SEK (more than the 0.02 SEK of "
        "rounding the Z_REPORT VAT policy allows)"
    )


def test_one_receipt_of_four_lines_rounded_per_receipt_is_rounding_not_a_mismatch() -> None:
    """Issue #21, finding 7. One card receipt of four 1.03 lines at 25 %: each line holds 0.206 → 0.21 VAT, so
    Σ line VAT = 0.84 and net 3.28. The POS computes VAT once for the receipt: 4.12 × 25/125 = 0.824 → 0.82.
    Two öre apart on one receipt: each line's VAT was rounded by up to ½ öre, so 4 lines allow 2 öre
    (the rule was 1 öre per receipt, which held this correct day). The Z-report's VAT is booked."""
    receipts = [receipt(*(line(gross="1.03") for _ in range(4)))]
    control = ControlTotals(receipt_count=1, grand_total_ore=412, vat=((2500, 412, 82),), payments=(("card", 412),))
    assert vat_tolerance("Z_REPORT", receipts) == {2500: 2}  # ½ öre × 4 lines
    assert differences(control, totals_of(receipts), vat_tolerance("Z_REPORT", receipts)) == ()
    adjustment = adjustment_rows(target_adjustment("Z_REPORT", control, receipts), receipts, plan())
    assert book(*receipts, adjustment=adjustment) == [
        ("1580", "4.12", None),
        ("2611", "-0.84", None),
        ("2611", "0.02", None),  # 2611 holds 0.82, the Z-report's VAT
        ("3001", "-3.28", None),
        ("3001", "-0.02", None),  # 3001 holds 3.30: 3.28 of line net + the 0.02 of rounding
    ]
    # Three öre would be more than 4 lines can round by.
    beyond = ControlTotals(1, 412, ((2500, 412, 81),), (("card", 412),))
    (diff,) = differences(beyond, totals_of(receipts), vat_tolerance("Z_REPORT", receipts))
    assert diff.what == "VAT at 25 %"


def test_the_rounding_is_split_over_the_rates_sales_accounts_by_largest_remainder() -> None:
    cafe = plan(product_groups={"coffee": {1200: "3002"}, "lunch": {1200: "3050"}})
    receipts = [receipt(line("coffee", 1200, gross="100.00")), receipt(line("lunch", 1200, gross="200.00"))]
    # 3 öre more VAT at 12 %: 2621 credited 0.03; 3002 (net 89.29) and 3050 (net 178.57) debited 0.01 and 0.02.
    assert adjustment_rows({1200: 3}, receipts, cafe) == (("2621", -3), ("3002", 1), ("3050", 2))


# --- the till's cash chain (issue #21, finding 1) --------------------------------------------------------------


def test_the_tills_cash_chain_from_one_close_to_the_next_day_and_its_break() -> None:
    """Day 1 (Z 7, 2026-11-24) counts 19 097.00 in the till; day 2 (Z 8) opens with the 2 000.00 float. Unless
    17 097.00 left the till on record, 1910 holds 17 097.00 the till does not have, while each day's own drawer
    reconciles. The POS recorded the bank deposit as a withdrawal after the close: the chain holds. Without it,
    the break is a warning naming both figures, the amount and the two Z numbers (nothing is booked for it)."""
    from mapping.cashchain import CashChainLink

    def link(moved: str) -> CashChainLink:
        return CashChainLink("", 7, date(2026, 11, 24), amount("19097.00"), amount("2000.00"), amount(moved), 8,
                             date(2026, 11, 25), amount("2000.00"))  # fmt: skip

    recorded = link("-17097.00")  # the withdrawal to the bank, recorded after Z 7's count
    assert (recorded.expected_opening_ore, recorded.missing_ore, recorded.holds) == (200_000, 0, True)
    broken = link("0.00")
    assert (broken.expected_opening_ore, broken.missing_ore) == (1_909_700, 1_709_700)
    assert broken.describe() == (
        "Z-report 8 of 2026-11-25 opened with 2000.00; Z-report 7 of 2026-11-24 counted 19097.00, 0.00 moved on record "
        "since: expected 19097.00, 17097.00 missing"
    )
    assert broken.describe_sv() == (
        "Ingående kassa 2 000,00 kr; Z-rapport 7 (2026-11-24) räknade 19 097,00 kr, därefter in/ut ur kassan 0,00 kr: "
        "väntat 19 097,00 kr. AVVIKELSE: 17 097,00 kr saknas utan bokföring (ej bokförd, varning skickad)."
    )
    # A day reopened and closed again (Z 9 the same day) opened once: its opening float is Z 8's.
    reopened = CashChainLink("", 8, date(2026, 11, 25), amount("5300.00"), amount("2000.00"), 0, 9,
                             date(2026, 11, 25), amount("2000.00"))  # fmt: skip
    assert reopened.holds


# --- Z-report numbers ---------------------------------------------------------------------------------------


def test_a_z_number_gap_and_a_repeat_are_found_and_a_reopened_day_is_normal() -> None:
    history = [(date(2026, 4, 1), 41), (date(2026, 4, 2), 42)]
    assert z_sequence_findings(date(2026, 4, 3), 43, history) == ()
    (gap,) = z_sequence_findings(date(2026, 4, 3), 45, history)
    assert gap.reason == GAP
    assert gap.message == "Z-report 45 of 2026-04-03 follows Z-report 42 of 2026-04-02: number 43–44 missing"
    (repeat,) = z_sequence_findings(date(2026, 4, 3), 42, history)
    assert repeat.reason == REPEATED and "2026-04-02" in repeat.message
    # The day reopened and closed again: same date, the next number.
    assert z_sequence_findings(date(2026, 4, 2), 43, history) == ()


def test_a_late_z_report_fits_between_its_neighbours_and_later_days_compare_with_it() -> None:
    day1, day2, day3, day4 = (date(2026, 4, d) for d in (1, 2, 3, 4))
    assert [f.reason for f in z_sequence_findings(day3, 3, [(day1, 1)])] == [GAP]  # day 2 not here yet
    assert z_sequence_findings(day2, 2, [(day1, 1), (day3, 3)]) == ()  # it arrives: no alarm
    assert z_sequence_findings(day4, 4, [(day1, 1), (day3, 3), (day2, 2)]) == ()


# --- gift cards ---------------------------------------------------------------------------------------------


def test_a_single_purpose_gift_card_books_vat_when_sold_and_not_again_when_redeemed() -> None:
    """Enfunktionsvoucher (ML 2 kap. 27 §, 5 kap. 40–42 §§): a 1 000.00 card for a massage (25 %) is the
    supply itself, so VAT is due at sale; redeeming it is not a second taxable sale. The card's group is
    flagged single-purpose and sold at 25 % to the liability 2421; its payment method "massage_card"
    debits 2421 with the payment less the VAT it holds (1 000.00 × 25/125 = 200.00)."""
    spa = plan(
        product_groups={"massage_card": {2500: "2421"}, "massage": {2500: "3001"}},
        payment_methods={"card": "1580", "cash": "1910", "massage_card": "2421"},
        single_purpose_groups=("massage_card",),
        single_purpose_methods={"massage_card": 2500},
    )
    sold = book(receipt(line("massage_card", 2500, gross="1000.00", vat="200.00"), method="cash"), the_plan=spa)
    assert sold == [
        ("1910", "1000.00", None),
        ("2421", "-800.00", None),  # the liability, net of the VAT already due
        ("2611", "-200.00", None),  # VAT at issue
    ]
    redeemed = book(
        receipt(line("massage", 2500, gross="1000.00", vat="200.00"), method="massage_card"), the_plan=spa, texts=True
    )
    assert redeemed == [
        ("2421", "800.00", "Enfunktionspresentkort inlösta (massage_card)"),  # the liability is settled
        ("2611", "200.00", "Moms 25 % i inlösta enfunktionspresentkort"),  # the VAT paid when the card was sold …
        ("2611", "-200.00", "Utgående moms 25 %"),  # … is the massage's VAT: 2611 nets to 0, nothing is due twice
        ("3001", "-800.00", "Försäljning 25 % moms"),  # the massage is income
    ]
    # A 1 200.00 massage paid with the card and 200.00 by card: only the part not paid by the card carries VAT.
    topped_up = book(
        receipt(
            line("massage", 2500, gross="1200.00", vat="240.00"),
            payments=(pay("massage_card", "1000.00"), pay("card", "200.00")),
        ),
        the_plan=spa,
    )
    assert topped_up == [
        ("1580", "200.00", None),
        ("2421", "800.00", None),
        ("2611", "200.00", None),
        ("2611", "-240.00", None),  # 2611 nets to 40.00: 25 % of the 160.00 paid for in money
        ("3001", "-960.00", None),
    ]


def test_an_expired_single_purpose_card_leaves_its_liability_net_of_the_vat_paid_at_issue() -> None:
    """Issue #21, finding 6. The 1 000.00 massage card (25 %) above: sold (2421 C 800.00, 2611 C 200.00), 400.00
    of it redeemed for a massage (2421 D 320.00), then the 600.00 left expires. Its VAT, 600.00 × 25/125 = 120.00,
    was output VAT when the card was sold, so the liability holds 480.00 of it: 2421 D 480.00. That is revenue of a
    supply taxed at 25 %, so it goes to the rate's sales account as a redemption's massage would (3001 C 480.00),
    with no VAT now: 3001's net × 25 % stays 2611's VAT. Debiting 600.00 (as a multi-purpose card's balance) left
    2421 120.00 short. The expiry event names the card's type (its payment method, whose account is the
    liability) and the rate it was sold at."""
    spa = plan(
        product_groups={"massage_card": {2500: "2421"}, "massage": {2500: "3001"}},
        payment_methods={"card": "1580", "cash": "1910", "massage_card": "2421"},
        single_purpose_groups=("massage_card",),
        single_purpose_methods={"massage_card": 2500},
        sales_defaults={2500: "3001"},
    )
    expired = book(gift_card_expiry("600.00", method="massage_card", rate=2500), the_plan=spa, texts=True)
    assert expired == [
        ("2421", "480.00", "Enfunktionspresentkort förfallna"),
        ("3001", "-480.00", "Förfallna enfunktionspresentkort, 25 %"),
    ]
    # The card's whole life on 2421 and 2611: sold, 400.00 redeemed, the rest expired.
    life = [
        build_voucher(batch(item), spa, store_name="Spa", reference=f"DC-{n}")
        for n, item in enumerate(
            [
                receipt(line("massage_card", 2500, gross="1000.00"), method="cash"),
                receipt(line("massage", 2500, gross="400.00"), method="massage_card"),
                gift_card_expiry("600.00", method="massage_card", rate=2500),
            ]
        )
    ]
    on = {a: sum(r.amount_ore for v in life for r in v.rows if r.account == a) for a in ("2421", "2611", "3001")}
    # The liability is gone; the VAT due is the 200.00 of the sale; 3001 holds 800.00, and 800.00 × 25 % = 200.00.
    assert on == {"2421": 0, "2611": -20_000, "3001": -80_000}
    # Without a default sales account at 25 % the day names what is missing.
    with pytest.raises(UnmappedItemsError, match="a default sales account at 25 % VAT"):
        book(
            gift_card_expiry("600.00", method="massage_card", rate=2500),
            the_plan=replace(spa, sales_default_by_rate={}),
        )


def test_a_single_purpose_card_cannot_pay_for_goods_of_another_rate() -> None:
    spa = plan(payment_methods={"card": "1580", "massage_card": "2421"}, single_purpose_methods={"massage_card": 2500})
    with pytest.raises(SinglePurposeRedemptionError) as caught:
        book(receipt(line("food", 600, gross="100.00"), method="massage_card", receipt_id="r-food"), the_plan=spa)
    assert caught.value.receipts[0].receipt_id == "r-food" and caught.value.receipts[0].residual_ore == 10_000


def test_a_multi_purpose_gift_card_is_sold_without_vat_and_the_goods_carry_theirs() -> None:
    """Flerfunktionsvoucher (ML 5 kap. 43 §): the sale is no taxable supply, the redemption is. Sold for
    1 000.00 in cash to 2421 at 0 %; redeemed for a 1 000.00 meal at 12 % (VAT 1 000 × 12/112 = 107.14);
    a 250.00 balance left on another card expires and becomes income without VAT."""
    assert book(receipt(line("gift_card", 0, gross="1000.00", vat="0.00"), method="cash")) == [
        ("1910", "1000.00", None),
        ("2421", "-1000.00", None),
    ]
    assert book(receipt(line("restaurant", 1200, gross="1000.00"), method="gift_card")) == [
        ("2421", "1000.00", None),
        ("2621", "-107.14", None),
        ("3002", "-892.86", None),
    ]
    assert book(gift_card_expiry("250.00")) == [("2421", "250.00", None), ("3990", "-250.00", None)]


# --- tips -----------------------------------------------------------------------------------------------------


def test_a_tip_paid_out_of_the_till_settles_the_tip_liability() -> None:
    """A 30.00 card tip is a debt to staff (2890), not income. Paying it out in cash from the till settles
    the debt and takes the cash out of 1910: no income, no cost, no VAT."""
    assert book(receipt(line(gross="200.00", vat="40.00"), payments=(pay("card", "230.00"),), tip="30.00")) == [
        ("1580", "230.00", None),
        ("2611", "-40.00", None),
        ("2890", "-30.00", None),
        ("3001", "-160.00", None),
    ]
    assert book(cash_movement("tip_payout", "30.00")) == [
        ("1910", "-30.00", None),
        ("2890", "30.00", None),
    ]

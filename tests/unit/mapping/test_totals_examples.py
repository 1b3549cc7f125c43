"""The bucket form of :mod:`mapping.totals` on examples written out by hand: what the ingest stages per event
and what a claim subtracts, so the SQL that upserts and reads these rows has a fixed target."""

from __future__ import annotations

import pytest

from mapping.buckets import item_rows
from mapping.errors import SinglePurposeRedemptionError
from mapping.totals import DayTotals
from mapping.totals_booking import StaleTotalsError, build_voucher_from_totals
from mapping.totals_closing import control_totals
from tests.builders import DAY, STORE, cash_movement, line, pay, plan, receipt, returned, rows_of


def test_a_receipt_becomes_one_row_per_group_and_rate_and_per_method() -> None:
    """Coffee to go 42.40 (VAT 2.40) and eaten in 44.80 (VAT 4.80), pastry to go 37.10 (VAT 2.10): 124.30, paid
    100.00 by card and 24.40 in cash, the cash total rounded up by 0.10. Then the same receipt returned."""
    sale = receipt(
        line("coffee", 600, "42.40", "2.40"),
        line("coffee", 1200, "44.80", "4.80"),
        line("pastry", 600, "37.10", "2.10"),
        payments=(pay("card", "100.00"), pay("cash", "24.40")),
        rounding="0.10",
        receipt_id="r-1",
    )
    assert sorted(item_rows(sale)) == [
        # kind, key, rate, a = Σ gross or amount, b = Σ VAT, n = lines or payments, m = receipts counted here
        ("line", "coffee", 600, 4240, 240, 1, 1),  # the receipt's first group at 6 % counts it for the 6 % rate
        ("line", "coffee", 1200, 4480, 480, 1, 1),
        ("line", "pastry", 600, 3710, 210, 1, 0),
        ("payment", "card", 0, 10000, 0, 1, 1),  # the receipt's first payment counts the receipt
        ("payment", "cash", 0, 2440, 0, 1, 0),
        ("rounding", "", 0, 10, 0, 1, 0),
    ]
    back = returned(sale, receipt_id="r-2")
    assert ("line", "coffee", 600, -4240, -240, 1, 1) in item_rows(back)
    day = DayTotals.of(STORE, DAY, [sale, back])
    assert [(k, key, rate, n) for k, key, rate, a, b, n, m in day.rows()] == [
        ("line", "coffee", 600, 2),
        ("line", "coffee", 1200, 2),
        ("line", "pastry", 600, 2),
        ("payment", "card", 0, 2),
        ("payment", "cash", 0, 2),
        ("refund", "card", 0, 1),  # what the return paid back, per method (the day report's returns)
        ("refund", "cash", 0, 1),
        ("rounding", "", 0, 2),
    ]
    assert all(a == b == 0 for kind, _, _, a, b, _, _ in day.rows() if kind != "refund")  # a sale and its return net
    assert control_totals(day).receipt_count == 2


def test_a_day_close_claims_what_is_new_since_the_manual_export() -> None:
    """A manual export books 125.00 by card at 25 %; the day close books a later 62.50 and a 100.00 deposit."""
    first = receipt(line(gross="125.00"), receipt_id="r-1")
    later = [receipt(line(gross="62.50"), receipt_id="r-2"), cash_movement("deposit", "100.00")]
    snapshot = DayTotals.of(STORE, DAY, [first])
    cumulative = DayTotals.of(STORE, DAY, [first, *later])
    voucher = build_voucher_from_totals(cumulative - snapshot, plan(), store_name="Kafé", reference="DC-2")
    assert rows_of(voucher) == [
        ("1580", "62.50", None),
        ("1910", "100.00", None),
        ("1930", "-100.00", None),
        ("2611", "-12.50", None),
        ("3001", "-50.00", None),
    ]


def test_single_purpose_cards_are_summed_for_the_plan_they_were_summed_for() -> None:
    """A spa voucher (single-purpose at 25 %) pays 125.00 of a 25 % massage: 25.00 of its VAT comes off the
    day's VAT. Summed before the merchant flagged the method, the totals are stale, not wrong."""
    spa_plan = plan(
        payment_methods={"card": "1580", "spa": "2420"},
        product_groups={"massage": {2500: "3001", 1200: "3002"}},
        single_purpose_methods={"spa": 2500},
    )
    sale = receipt(line("massage", 2500, "125.00"), method="spa", receipt_id="r-1")
    with pytest.raises(StaleTotalsError) as stale:
        build_voucher_from_totals(DayTotals.of(STORE, DAY, [sale]), spa_plan, store_name="Spa", reference="DC-1")
    assert stale.value.methods == ("spa",)
    day = DayTotals.of(STORE, DAY, [sale], spa_plan.single_purpose_methods)
    assert ("redemption", "spa", 2500, 12500, 2500, 1, 0) in day.rows()
    voucher = build_voucher_from_totals(day, spa_plan, store_name="Spa", reference="DC-1")
    assert rows_of(voucher) == [
        ("2420", "100.00", None),
        ("2611", "25.00", None),  # the card's VAT, booked when it was sold …
        ("2611", "-25.00", None),  # … is the massage's: nothing due twice
        ("3001", "-100.00", None),
    ]
    wrong = receipt(line("massage", 1200, "112.00"), method="spa", receipt_id="r-2")
    with pytest.raises(SinglePurposeRedemptionError, match="r-2"):
        build_voucher_from_totals(
            DayTotals.of(STORE, DAY, [sale, wrong], spa_plan.single_purpose_methods),
            spa_plan,
            store_name="Spa",
            reference="DC-1",
        )

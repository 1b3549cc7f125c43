"""Worked examples: each day's expected voucher is written out by hand, as an accountant would.

Rows are (account, signed SEK, cost centre); debit +, credit −; sorted by account.
Plan (tests.builders.plan): cash 1910, card 1580, Swish 1930, gift card 2421, invoice 1510;
VAT 25/12/6 % → 2611/2621/2631; sales per (group, rate): 25/12/6/0 % → 3001/3002/3003/3004,
gift_card (sold at 0 %) 2421; tips 2890, rounding 3740, cash shortage 6990, cash overage 3999,
cash deposit/withdrawal/float 1930, expired gift card 3990.
"""

from __future__ import annotations

from datetime import date

import pytest

from mapping.errors import MissingItem, NothingToBookError, UnmappedItemsError
from tests.builders import (
    DAY,
    batch,
    cash_movement,
    day_close,
    gift_card_expiry,
    line,
    pay,
    plan,
    receipt,
    returned,
    rows_of,
)
from tests.unit.mapping.receipts_path import build_voucher


def book(*items, close=None, the_plan=None, store="store-1", day=DAY):  # type: ignore[no-untyped-def]
    voucher = build_voucher(
        batch(*items, close=close, store=store, day=day),
        the_plan or plan(),
        store_name="Butik Centrum",
        reference="DC-0001",
    )
    return rows_of(voucher)


def test_plain_cash_and_card_day_at_25_percent() -> None:
    rows = book(
        receipt(line(gross="125.00", vat="25.00"), method="cash"),
        receipt(line(gross="250.00", vat="50.00"), method="card"),
        receipt(line(gross="62.50", vat="12.50"), method="card"),
    )
    assert rows == [
        ("1580", "312.50", None),
        ("1910", "125.00", None),
        ("2611", "-87.50", None),
        ("3001", "-350.00", None),
    ]


def test_cafe_take_away_6_and_eat_in_12_percent_on_the_same_product_group() -> None:
    # The VAT rate is the line's: the same sandwich is 6 % to go and 12 % at a table.
    rows = book(
        receipt(line("cafe", 600, gross="53.00", vat="3.00")),
        receipt(line("cafe", 1200, gross="56.00", vat="6.00"), line("cafe", 600, gross="10.60", vat="0.60")),
    )
    # Each rate's sales on its own account: 3002 × 12 % = 6.00 = 2621, 3003 × 6 % = 3.60 = 2631.
    assert rows == [
        ("1580", "119.60", None),
        ("2621", "-6.00", None),
        ("2631", "-3.60", None),
        ("3002", "-50.00", None),
        ("3003", "-60.00", None),
    ]


def test_card_tip_is_a_debt_to_staff_not_income() -> None:
    # Receipt 200.00 incl. 40.00 VAT; the customer paid 230.00 by card, 30.00 of it tip.
    rows = book(receipt(line(gross="200.00", vat="40.00"), payments=(pay("card", "230.00"),), tip="30.00"))
    assert rows == [
        ("1580", "230.00", None),
        ("2611", "-40.00", None),
        ("2890", "-30.00", None),
        ("3001", "-160.00", None),
    ]


def test_a_return_mirrors_a_sale() -> None:
    sale = receipt(line(gross="125.00", vat="25.00"), method="card")
    rows = book(returned(sale))
    assert rows == [
        ("1580", "-125.00", None),
        ("2611", "25.00", None),
        ("3001", "100.00", None),
    ]


def test_a_day_with_sales_and_a_return_books_the_net() -> None:
    sale = receipt(line(gross="125.00", vat="25.00"), method="card")
    rows = book(receipt(line(gross="500.00", vat="100.00"), method="card"), sale, returned(sale))
    assert rows == [
        ("1580", "500.00", None),
        ("2611", "-100.00", None),
        ("3001", "-400.00", None),
    ]


def test_a_discount_is_already_in_the_gross_and_not_booked_separately() -> None:
    # List price 100.00, 20.00 off: the customer pays 80.00 incl. 16.00 VAT.
    rows = book(receipt(line(gross="80.00", vat="16.00", discount="20.00"), method="card"))
    assert rows == [
        ("1580", "80.00", None),
        ("2611", "-16.00", None),
        ("3001", "-64.00", None),
    ]


def test_ore_rounding_on_cash_goes_to_the_rounding_account() -> None:
    rows = book(
        # 99.60 rounded up to 100.00 (+0.40) and 49.20 rounded down to 49.00 (−0.20).
        receipt(line(gross="99.60", vat="19.92"), payments=(pay("cash", "100.00"),), rounding="0.40"),
        receipt(line(gross="49.20", vat="9.84"), payments=(pay("cash", "49.00"),), rounding="-0.20"),
    )
    assert rows == [
        ("1910", "149.00", None),
        ("2611", "-29.76", None),
        ("3001", "-119.04", None),
        ("3740", "-0.20", None),
    ]


def test_swish_debits_its_own_account() -> None:
    rows = book(receipt(line(gross="150.00", vat="30.00"), method="swish"))
    assert rows == [
        ("1930", "150.00", None),
        ("2611", "-30.00", None),
        ("3001", "-120.00", None),
    ]


def test_gift_card_sold_one_day_and_redeemed_another() -> None:
    # Sold: a 0 % product group on the liability 2421, no VAT (multi-purpose voucher).
    sold = book(receipt(line("gift_card", 0, gross="500.00", vat="0.00"), method="card"))
    assert sold == [
        ("1580", "500.00", None),
        ("2421", "-500.00", None),
    ]
    # Redeemed ten days later for 400.00 of goods + 100.00 more by card: payment method gift_card.
    redeemed = book(
        receipt(
            line(gross="500.00", vat="100.00"),
            payments=(pay("gift_card", "400.00"), pay("card", "100.00")),
            day=date(2026, 4, 11),
        ),
        day=date(2026, 4, 11),
    )
    assert redeemed == [
        ("1580", "100.00", None),
        ("2421", "400.00", None),
        ("2611", "-100.00", None),
        ("3001", "-400.00", None),
    ]


def test_expired_gift_card_leaves_the_liability_as_revenue() -> None:
    assert book(gift_card_expiry("100.00")) == [
        ("2421", "100.00", None),
        ("3990", "-100.00", None),
    ]


def test_cash_deposit_and_withdrawal() -> None:
    assert book(cash_movement("deposit", "500.00")) == [("1910", "500.00", None), ("1930", "-500.00", None)]
    assert book(cash_movement("withdrawal", "2000.00")) == [("1910", "-2000.00", None), ("1930", "2000.00", None)]
    # With separate counter accounts, on one voucher, including a float change.
    events = {"CASH_DEPOSIT": "1930", "CASH_WITHDRAWAL": "1940", "FLOAT_CHANGE": "1950"}
    rows = book(
        cash_movement("deposit", "500.00"),
        cash_movement("withdrawal", "2000.00"),
        cash_movement("float_change", "-300.00"),
        the_plan=plan(events=events),
    )
    assert rows == [
        ("1910", "500.00", None),  # the deposit …
        ("1910", "-2000.00", None),  # … the withdrawal and the float change, each on its own row of 1910
        ("1910", "-300.00", None),
        ("1930", "-500.00", None),
        ("1940", "2000.00", None),
        ("1950", "300.00", None),
    ]


def test_cash_shortage_at_day_close() -> None:
    # Counted 1090.00 where 1100.00 was expected: 10.00 short.
    rows = book(
        receipt(line(gross="100.00", vat="20.00"), method="cash", z=17),
        close=day_close(counted="1090.00", expected="1100.00", z=17),
    )
    assert rows == [
        ("1910", "100.00", None),
        ("1910", "-10.00", None),
        ("2611", "-20.00", None),
        ("3001", "-80.00", None),
        ("6990", "10.00", None),
    ]


def test_cash_surplus_at_day_close() -> None:
    rows = book(close=day_close(counted="1000.50", expected="1000.00"))
    assert rows == [("1910", "0.50", None), ("3999", "-0.50", None)]


def test_two_stores_with_cost_centres_on_result_rows() -> None:
    centres = {"store-1": "100", "store-2": "200"}
    the_plan = plan(cost_centres=centres)
    one = book(receipt(line(gross="125.00", vat="25.00"), store="store-1"), the_plan=the_plan, store="store-1")
    two = book(
        receipt(line(gross="250.00", vat="50.00"), method="cash", store="store-2"),
        the_plan=the_plan,
        store="store-2",
    )
    assert one == [("1580", "125.00", None), ("2611", "-25.00", None), ("3001", "-100.00", "100")]
    assert two == [("1910", "250.00", None), ("2611", "-50.00", None), ("3001", "-200.00", "200")]


def test_cost_centres_on_every_row_when_the_plan_says_so() -> None:
    the_plan = plan(cost_centres={"store-2": "200"}, cost_centre_on_balance_accounts=True)
    rows = book(receipt(line(gross="125.00", vat="25.00"), store="store-2"), the_plan=the_plan, store="store-2")
    assert rows == [("1580", "125.00", "200"), ("2611", "-25.00", "200"), ("3001", "-100.00", "200")]


def test_a_store_without_a_cost_centre_books_without_one() -> None:
    rows = book(receipt(line(gross="125.00", vat="25.00")), the_plan=plan(cost_centres={"store-2": "200"}))
    assert [cc for _, _, cc in rows] == [None, None, None]


def test_unmapped_payment_method_and_product_group_are_named_in_one_error() -> None:
    the_plan = plan(without=(("payment_methods", "swish"), ("product_groups", "books")))
    with pytest.raises(UnmappedItemsError) as caught:
        book(
            receipt(line(gross="125.00", vat="25.00"), method="swish"),
            receipt(line("books", 600, gross="106.00", vat="6.00"), method="card"),
            receipt(line("flowers", 2500, gross="50.00", vat="10.00"), method="klarna"),
            the_plan=the_plan,
        )
    assert caught.value.reason == "UNMAPPED_ITEMS"
    assert caught.value.missing == (
        MissingItem("payment_method", "klarna"),
        MissingItem("payment_method", "swish"),
        MissingItem("product_group", "books@600"),
        MissingItem("product_group", "flowers@2500"),
    )
    assert "swish" in str(caught.value) and "product group 'flowers' at 25 % VAT" in str(caught.value)


def test_unmapped_vat_rate_and_events_are_named_too() -> None:
    the_plan = plan(without=(("vat_rates", 600), ("events", "TIPS"), ("events", "CASH_OVERAGE")))
    with pytest.raises(UnmappedItemsError) as caught:
        book(
            receipt(line("food", 600, gross="106.00", vat="6.00"), payments=(pay("card", "116.00"),), tip="10.00"),
            close=day_close(counted="1.00", expected="0.00"),
            the_plan=the_plan,
        )
    assert caught.value.missing == (
        MissingItem("vat_rate", "600"),
        MissingItem("event", "CASH_OVERAGE"),
        MissingItem("event", "TIPS"),
    )


def test_zero_percent_needs_no_vat_account() -> None:
    rows = book(receipt(line("books", 0, gross="200.00", vat="0.00")), the_plan=plan(vat_rates={2500: "2611"}))
    assert rows == [("1580", "200.00", None), ("3004", "-200.00", None)]


def test_a_sale_returned_the_same_day_leaves_nothing_to_book() -> None:
    sale = receipt(line(gross="125.00", vat="25.00"))
    with pytest.raises(NothingToBookError) as caught:
        book(sale, returned(sale))
    assert caught.value.reason == "NOTHING_TO_BOOK"

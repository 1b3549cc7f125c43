"""Issue #27, ingest at the lean peer's cost: the receipt is a msgspec Struct whose common case passes one fast check,
and its row JSON is written by msgspec. Neither may change what is accepted or what is stored: the fast checks accept
exactly what the reasoned checks accept, and the row JSON is the value the stored form always had."""

from __future__ import annotations

import json
from copy import copy
from datetime import date
from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from msgspec.structs import force_setattr

from consumer import records
from mapping.errors import InvalidSalesDataError
from mapping.fields import MAX_AMOUNT_ORE
from mapping.register_day import CashMovement, GiftCardExpiry
from mapping.sales import Invoice, Payment, Receipt, ReceiptLine
from service.messages import DayClosed
from storage import codecs
from tests.unit.consumer.samples import sales_records

DAY = date(2026, 4, 1)
#: Values at and around every bound the checks draw, and the types a wire or a caller could hand over.
AMOUNTS = st.sampled_from(
    [0, 1, 50, 51, -1, -50, -51, 2500, 10_000, 10_001, MAX_AMOUNT_ORE, MAX_AMOUNT_ORE + 1, -MAX_AMOUNT_ORE - 1]
) | st.sampled_from([True, False, 1.0, "1", None])
CODES = st.sampled_from(["g", "cash", "card", "", " ", "\t", 7, None])


def _unchecked(prototype: Any, **values: Any) -> Any:
    """A value with these fields that went through no check (the reasoned checks are then run by hand)."""
    obj = copy(prototype)
    for name, value in values.items():
        force_setattr(obj, name, value)
    return obj


def _accepted(make: Any) -> bool:
    try:
        make()
    except InvalidSalesDataError:
        return False
    return True


@given(CODES, AMOUNTS, AMOUNTS, AMOUNTS, AMOUNTS)
def test_a_line_is_accepted_exactly_when_the_reasoned_checks_accept_it(
    group: Any, rate: Any, gross: Any, vat: Any, discount: Any
) -> None:
    fields = {"product_group": group, "vat_rate": rate, "gross_ore": gross, "vat_ore": vat, "discount_ore": discount}
    reasoned = _unchecked(ReceiptLine("g", 0, 0, 0), **fields)
    assert _accepted(lambda: ReceiptLine(group, rate, gross, vat, discount)) == _accepted(reasoned._check)


@given(
    CODES,
    CODES,
    st.sampled_from(["", "k2", " ", 5]),
    st.sampled_from(["sale", "return", "SALE", "", None]),
    AMOUNTS,
    AMOUNTS,
    st.sampled_from([DAY, "2026-04-01", None]),
    st.booleans(),
)
def test_a_receipt_is_accepted_exactly_when_the_reasoned_checks_accept_it(
    receipt_id: Any, store: Any, register: Any, kind: Any, tip: Any, rounding: Any, day: Any, cash: bool
) -> None:
    payments = (Payment("cash" if cash else "card", 100),)
    fields = {
        "receipt_id": receipt_id,
        "store_id": store,
        "business_date": day,
        "kind": kind,
        "lines": (),
        "payments": payments,
        "tip_ore": tip,
        "rounding_ore": rounding,
        "register_id": register,
    }
    reasoned = _unchecked(Receipt("r", "s", DAY, "sale", (), ()), **fields)
    made = _accepted(lambda: Receipt(receipt_id, store, day, kind, (), payments, tip, rounding, register_id=register))
    assert made == _accepted(reasoned._check)


def _items() -> list[Any]:
    sample = [records.sales_envelope(r).item for r in sales_records()]
    invoiced = Receipt(
        "r-ä 1",
        "s1",
        DAY,
        "sale",
        (ReceiptLine("kaffe", 1200, 4500, 482, 500), ReceiptLine("bröd", 600, 3000, 170)),
        (Payment("invoice", 7500),),
        receipt_number=None,
        invoice=Invoice("F-7", None, 'Café Ängen "AB" \\ 𝄞'),
    )
    single = GiftCardExpiry("g9", "s1", DAY, 10_000, method="presentkort", vat_rate=2500, register_id="k2")
    return [
        *(i for i in sample if not isinstance(i, DayClosed)),
        invoiced,
        single,
        CashMovement("m", "s", DAY, "deposit", 5),
    ]


def test_the_row_json_is_the_stored_form_it_always_was() -> None:
    """The stored form (item_to_json) written by msgspec is the same JSON value as the stdlib's text of it, which is
    what PostgreSQL's jsonb keeps (the texts differ only in how non-ASCII characters are escaped)."""
    items = _items()
    assert {type(i) for i in items} == {Receipt, CashMovement, GiftCardExpiry}
    for item in items:
        row = codecs.item_row_json(item)
        assert json.loads(row) == json.loads(json.dumps(codecs.item_to_json(item), separators=(",", ":")))
        stored = json.loads(row)
        assert codecs.item_from_json(_kind(item), item.store_id, DAY, stored, item.register_id) == item


def _kind(item: Any) -> str:
    return {Receipt: "receipt", CashMovement: "cash_movement", GiftCardExpiry: "gift_card_expired"}[type(item)]

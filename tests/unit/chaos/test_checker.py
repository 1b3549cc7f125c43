"""The soak's independent checker (#24) can fail: each rule, broken on purpose, is reported; and it reads nothing of
the product."""

from __future__ import annotations

import ast
import sys
from collections import Counter
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from tests.chaos.books import expected_books
from tests.chaos.checker import History, judge

CHAOS = Path(__file__).resolve().parents[2] / "chaos"
PRODUCT = {"mapping", "service", "storage", "consumer", "exporters", "backoffice", "dayclose", "schemas", "devstack"}
ALLOWED = {"requests", "confluent_kafka", "tests.avro_spec", "tests.chaos.books"}
DAY = date(2026, 10, 25)
PLAN: dict[str, Any] = {
    "payment_methods": {"cash": "1910", "card": "1686"},
    "vat_rates": {"600": "2631"},
    "sales_default_by_rate": {"600": "3003"},
    "events": {"TIPS": "2829", "ROUNDING": "3740", "CASH_SHORTAGE": "6990", "CASH_OVERAGE": "3999"},
}


def test_the_checker_imports_nothing_of_the_product() -> None:
    for name in ("checker.py", "books.py"):
        tree = ast.parse((CHAOS / name).read_text())
        for node in ast.walk(tree):
            modules = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            for module in modules:
                top = module.split(".")[0]
                assert top not in PRODUCT, f"{name} imports {module}"
                assert top in sys.stdlib_module_names or top == "__future__" or module in ALLOWED, (name, module)


def envelope(name: str, payload: dict[str, Any], event_id: str, store: str = "s1") -> dict[str, Any]:
    return {
        "event_id": event_id,
        "organization_id": "org",
        "store_id": store,
        "business_date": DAY,
        "occurred_at": datetime(2026, 10, 25, 0, 30, tzinfo=UTC),
        "payload": (f"dayclose.pos.v1.{name}", payload),
    }


def coffee(receipt_id: str = "r1") -> dict[str, Any]:
    """Coffee to go, 39.00 at 6 % (2.21 VAT), paid by card with a 5.00 tip."""
    line = {"product_group": "coffee", "vat_rate_bp": 600, "gross_ore": 3900, "vat_ore": 221}
    payment = {"method": "card", "amount_ore": 4400}
    body = {"receipt_id": receipt_id, "kind": "SALE", "lines": [line], "payments": [payment], "tip_ore": 500}
    return envelope("Receipt", {**body, "rounding_ore": 0}, f"evt-{receipt_id}")


def close(z: int, expected: int, counted: int) -> dict[str, Any]:
    return envelope(
        "DayClosed", {"z_report_number": z, "expected_cash_ore": expected, "counted_cash_ore": counted}, f"z{z}"
    )


def test_the_oracle_books_a_worked_example_and_a_reopened_days_latest_cash_difference() -> None:
    """Card 44.00 debits 1686; 36.79 net sales credit 3003, 2.21 VAT 2631, the 5.00 tip the staff liability 2829.
    Closed 3.00 short (Z 7), reopened and closed 5.00 over (Z 8): the day books the 5.00 overage only."""
    books = expected_books([coffee(), close(7, 200_000, 199_700), close(8, 200_000, 200_500)], {"org": PLAN})
    assert books == {
        ("org", "s1", DAY): Counter(
            {"1686": 4400, "3003": -3679, "2631": -221, "2829": -500, "1910": 500, "3999": -500}
        )
    }


def voucher(number: int, text: str, rows: dict[str, int]) -> dict[str, Any]:
    entries = [{"accountId": a, "amount": str(Decimal(v) / 100)} for a, v in rows.items()]
    return {
        "journalId": "D",
        "journalEntryId": number,
        "journalEntryDate": str(DAY),
        "journalEntryText": text,
        "ledgerEntries": entries,
    }


def succeeded(event_id: str, number: int, store: str = "s1") -> dict[str, Any]:
    return {
        "event_id": event_id,
        "organization_id": "org",
        "store_id": store,
        "business_date": DAY,
        "status": "SUCCEEDED",
        "voucher": {"series": "D", "number": number, "entry_date": DAY},
        "failure": None,
    }


DAY_BOOKED = {"1686": 4400, "3003": -3679, "2631": -221, "2829": -500, "1910": -300, "6990": 300}


def history(**changes: Any) -> History:
    base: dict[str, Any] = {
        "records": [coffee(), close(7, 200_000, 199_700)],
        "plans": {"org": PLAN},
        "companies": {"org": "key"},
        "stores": {"org": {"Butik 1": "s1"}},
        "poison": set(),
        "dead_lettered_content": [],
        "manual_days": set(),
        "allowed_failures": {"BL_UNAVAILABLE"},
    }
    return History(**{**base, **changes})


def judged(
    vouchers: list[dict[str, Any]],
    outcomes: list[dict[str, Any]],
    dead: list[Any] | None = None,
    *,
    strict: bool = False,
    **changes: Any,
) -> list[str]:
    return judge(history(**changes), {"org": vouchers}, outcomes, dead or [], one_voucher_per_z=strict).problems


def test_a_day_booked_once_and_reported_once_passes() -> None:
    booked = voucher(1, f"Dagsavslut Butik 1 {DAY} Z 7 ref DC-a", DAY_BOOKED)
    assert judged([booked], [succeeded("e1", 1), succeeded("e1", 1)]) == []  # a redelivered copy is one event


def test_a_day_booked_twice_is_caught_three_ways() -> None:
    once = voucher(1, f"Dagsavslut Butik 1 {DAY} Z 7 ref DC-a", DAY_BOOKED)
    again = voucher(2, f"Dagsavslut Butik 1 {DAY} Z 7 ref DC-b", DAY_BOOKED)
    problems = judged([once, again], [succeeded("e1", 1), succeeded("e2", 2)])
    assert any("booked − expected" in p for p in problems)
    assert any("Z 7 booked by 2 standing vouchers" in p for p in problems)


def test_an_unbalanced_voucher_a_missing_and_a_doubled_outcome_are_caught() -> None:
    lopsided = voucher(1, f"Dagsavslut Butik 1 {DAY} Z 7 ref DC-a", {**DAY_BOOKED, "1910": -299})
    problems = judged([lopsided], [])
    assert any("does not balance" in p for p in problems)
    assert any("reported by 0 SUCCEEDED" in p for p in problems)
    fine = voucher(1, f"Dagsavslut Butik 1 {DAY} Z 7 ref DC-a", DAY_BOOKED)
    assert any("reported by 2 SUCCEEDED" in p for p in judged([fine], [succeeded("e1", 1), succeeded("e2", 1)]))
    assert any("does not hold" in p for p in judged([fine], [succeeded("e1", 1), succeeded("e3", 9)]))


def test_a_reversed_and_rebooked_day_stands_once() -> None:
    original = voucher(1, f"Dagsavslut Butik 1 {DAY} Z 7 ref DC-a", DAY_BOOKED)
    reversal = voucher(
        2, f"Återföring av DC-a (D 1, {DAY}) ref RV-b: Dagsavslut Butik 1", {k: -v for k, v in DAY_BOOKED.items()}
    )
    anew = voucher(3, f"Rättelse av D 1 DC-a {DAY} ref DC-c: Butik 1", DAY_BOOKED)
    outcomes = [succeeded("e1", 1), succeeded("e2", 2), succeeded("e3", 3)]
    assert judged([original, reversal, anew], outcomes, strict=True) == []


def test_late_receipts_on_a_voucher_of_their_own_pass_unless_one_voucher_per_z_report_is_asked() -> None:
    late = coffee("r2")
    first = voucher(1, f"Dagsavslut Butik 1 {DAY} Z 7 ref DC-a", DAY_BOOKED)
    extra = voucher(2, f"Delexport Butik 1 {DAY} ref DC-b", {"1686": 4400, "3003": -3679, "2631": -221, "2829": -500})
    outcomes = [succeeded("e1", 1), succeeded("e2", 2)]
    records = [coffee(), close(7, 200_000, 199_700), late]
    assert judged([first, extra], outcomes, records=records) == []
    assert any(
        "not one voucher per Z-report" in p for p in judged([first, extra], outcomes, records=records, strict=True)
    )


def test_a_complement_after_a_booked_z_report_books_its_store_day() -> None:
    """Late sales booked after Z 7 (the grace period over, no new Z-report yet), then Z 8 books the rest: the
    complement's text names the store-day like the others do (the soak's seed 24 once read it as no store-day's)."""
    late = coffee("r2")
    first = voucher(1, f"Dagsavslut Butik 1 {DAY} Z 7 ref DC-a", DAY_BOOKED)
    sale = {"1686": 4400, "3003": -3679, "2631": -221, "2829": -500}
    extra = voucher(2, f"Komplettering Butik 1 {DAY} efter Z 7 ref DC-b", sale)
    outcomes = [succeeded("e1", 1), succeeded("e2", 2)]
    records = [coffee(), close(7, 200_000, 199_700), late]
    assert judged([first, extra], outcomes, records=records) == []
    assert any(
        "not one voucher per Z-report" in p for p in judged([first, extra], outcomes, records=records, strict=True)
    )


def test_dead_letters_once_each_and_never_a_booked_sale() -> None:
    booked = voucher(1, f"Dagsavslut Butik 1 {DAY} Z 7 ref DC-a", DAY_BOOKED)
    poison = {("sales", 0, 5)}

    def letter(dead_letter_id: str, offset: int, value: bytes = b"\x00junk") -> dict[str, Any]:
        return {
            "dead_letter_id": dead_letter_id,
            "source_topic": "sales",
            "source_partition": 0,
            "source_offset": offset,
            "original_value": value,
        }

    assert judged([booked], [succeeded("e1", 1)], [letter("d1", 5), letter("d1", 5)], poison=poison) == []
    assert any(
        "dead-lettered 2 times" in p
        for p in judged([booked], [succeeded("e1", 1)], [letter("d1", 5), letter("d2", 5)], poison=poison)
    )
    assert any("never dead-lettered" in p for p in judged([booked], [succeeded("e1", 1)], [], poison=poison))
    assert any("never poison" in p for p in judged([booked], [succeeded("e1", 1)], [letter("d3", 6)], poison=poison))


def test_a_sale_both_dead_lettered_and_booked_is_caught() -> None:
    from tests.avro_spec import apache_single_object, plain

    schema = (Path(__file__).resolve().parents[3] / "schemas" / "sales_event.avsc").read_text()
    sale = _wire(coffee())
    booked = voucher(1, f"Dagsavslut Butik 1 {DAY} Z 7 ref DC-a", DAY_BOOKED)
    value = apache_single_object(schema, plain(sale))
    letter = {
        "dead_letter_id": "d1",
        "source_topic": "sales",
        "source_partition": 0,
        "source_offset": 5,
        "original_value": value,
    }
    records = [sale, close(7, 200_000, 199_700)]
    problems = judged([booked], [succeeded("e1", 1)], [letter], poison={("sales", 0, 5)}, records=records)
    assert any("both dead-lettered and among the events booked" in p for p in problems)


def _wire(sale: dict[str, Any]) -> dict[str, Any]:
    """A whole sales event as the schema wants it (the checker's examples leave optional fields out)."""
    from devstack.sampledata import receipt_payload

    full = receipt_payload("r1", [("coffee", 600, 3900)], "card", tip_ore=500)
    name, _ = sale["payload"]
    return {**sale, "payload": (name, full)}

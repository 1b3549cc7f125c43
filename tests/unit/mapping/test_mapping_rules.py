"""Rules around the worked examples: bad data, bad plans, texts, reversal, purity of the core."""

from __future__ import annotations

import ast
from datetime import date
from pathlib import Path

import pytest

from mapping.errors import (
    InvalidPlanError,
    InvalidSalesDataError,
    PlanProblem,
    ReceiptImbalanceError,
    ReceiptResidual,
    VoucherTextError,
)
from mapping.plan import AccountPlan
from mapping.plan_checks import plan_problems
from mapping.register_day import CashMovement, GiftCardExpiry
from mapping.reversal import reverse
from mapping.sales import Payment, Receipt, ReceiptLine
from mapping.text import day_voucher_text
from mapping.voucher import MAX_TEXT_LENGTH, UnbalancedVoucherError, Voucher, VoucherRow
from tests.builders import DAY, batch, day_close, line, pay, plan, receipt, rows_of
from tests.unit.mapping.receipts_path import SalesBatch, build_voucher, missing_for

MAPPING_DIR = Path(__file__).resolve().parents[3] / "mapping"


def voucher_for(*items: Receipt, reference: str = "DC-0001", store_name: str = "Butik Centrum") -> Voucher:
    return build_voucher(batch(*items), plan(), store_name=store_name, reference=reference)


# --- sales data ---------------------------------------------------------------------------------


def test_every_receipt_that_does_not_add_up_is_reported_with_its_residual() -> None:
    good = receipt(line(gross="100.00"))
    short = receipt(line(gross="100.00"), payments=(pay("card", "99.99"),), receipt_id="r-short")
    over = receipt(line(gross="50.00"), payments=(pay("cash", "52.00"),), receipt_id="r-over")
    with pytest.raises(ReceiptImbalanceError) as caught:
        voucher_for(good, short, over)
    assert caught.value.reason == "RECEIPT_IMBALANCE"
    assert caught.value.receipts == (ReceiptResidual("r-short", -1), ReceiptResidual("r-over", 200))


def test_an_imbalance_is_never_plugged_to_the_rounding_account() -> None:
    # 0.40 paid extra in cash but not declared as rounding: a data error, not 3740.
    with pytest.raises(ReceiptImbalanceError):
        voucher_for(receipt(line(gross="99.60"), payments=(pay("cash", "100.00"),)))


@pytest.mark.parametrize(
    "make",
    [
        lambda: ReceiptLine("goods", 2500, -100, -20),
        lambda: ReceiptLine("goods", 2500, 100, 120),
        lambda: ReceiptLine("goods", 0, 100, 1),
        lambda: ReceiptLine("goods", 12.0, 100, 12),
        lambda: ReceiptLine("goods", 2500, 100.0, 20),
        lambda: ReceiptLine("", 2500, 100, 20),
        lambda: ReceiptLine("goods", 10_001, 100, 20),
        lambda: Payment("card", 1.5),
        lambda: receipt(kind="refund"),
        lambda: receipt(line(gross="10.00"), tip=-1),
        lambda: receipt(line(gross="10.00"), rounding=51, method="cash"),
        lambda: receipt(line(gross="10.00"), rounding=20, method="card"),
        lambda: CashMovement("m1", "store-1", DAY, "deposit", 0),
        lambda: CashMovement("m1", "store-1", DAY, "theft", 100),
        lambda: GiftCardExpiry("g1", "store-1", DAY, -100),
        lambda: Receipt("r1", "store-1", "2026-04-01", "sale", (), ()),  # type: ignore[arg-type]
    ],
)
def test_malformed_sales_data_cannot_be_built(make) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidSalesDataError) as caught:
        make()
    assert caught.value.reason == "INVALID_SALES_DATA"


def test_a_batch_refuses_other_stores_other_days_and_duplicates() -> None:
    twice = receipt(receipt_id="r-1")
    with pytest.raises(InvalidSalesDataError) as caught:
        SalesBatch(
            "store-1",
            DAY,
            receipts=(twice, twice, receipt(store="store-2"), receipt(day=date(2026, 4, 2))),
            day_close=day_close(store="store-2"),
        )
    problems = caught.value.problems
    assert len(problems) == 4
    assert any("r-1 appears 2 times" in p for p in problems)
    assert sum("store-2" in p for p in problems) == 2
    assert any("2026-04-02" in p for p in problems)


# --- the account plan ---------------------------------------------------------------------------


def test_a_complete_plan_has_no_problems() -> None:
    assert plan_problems(plan()) == ()


def test_plan_problems_are_listed_per_field() -> None:
    bad = AccountPlan(
        organization_id="org-1",
        series="AB",
        payment_methods={"cash": "19100", "card": "1580"},
        vat_rates={2500: "26x1", 1250.0: "2621"},  # type: ignore[dict-item]
        product_groups={"goods": {2500: "0301"}},
        events={"TIPS": "2890", "BONUS": "3999"},
        store_cost_centres={"store-1": " "},
    )
    problems = plan_problems(bad)
    fields = [p.field for p in problems]
    assert fields == [
        "series",
        "payment_methods.cash",
        "vat_rates.1250.0",
        "vat_rates.2500",
        "product_groups.goods.2500",
        "events.BONUS",
        "store_cost_centres.store-1",
    ]
    with pytest.raises(InvalidPlanError) as caught:
        build_voucher(batch(receipt()), bad, store_name="X", reference="DC-1")
    assert caught.value.reason == "INVALID_PLAN"
    assert caught.value.problems == problems
    assert PlanProblem("series", "must be one capital letter or digit") in problems


def test_missing_for_lists_only_what_the_batch_uses() -> None:
    empty = AccountPlan(organization_id="org-1", series="A")
    assert missing_for(empty, batch()) == ()
    needed = missing_for(empty, batch(receipt(line("food", 600, gross="10.60")), close=day_close("1", "0")))
    assert [(m.kind, m.code) for m in needed] == [
        ("payment_method", "card"),
        ("payment_method", "cash"),
        ("vat_rate", "600"),
        ("product_group", "food@600"),
        ("event", "CASH_OVERAGE"),
    ]


def test_the_plan_cannot_change_under_an_aggregation() -> None:
    methods = {"cash": "1910"}
    the_plan = AccountPlan(organization_id="org-1", series="A", payment_methods=methods)
    methods["cash"] = "9999"
    assert the_plan.payment_methods["cash"] == "1910"
    with pytest.raises(TypeError):
        the_plan.payment_methods["card"] = "1580"  # type: ignore[index]


# --- texts ----------------------------------------------------------------------------------------


def test_voucher_text_names_store_date_z_report_and_reference() -> None:
    voucher = build_voucher(
        batch(receipt(), close=day_close(z=1234)), plan(), store_name="Butik Centrum", reference="DC-9f3a"
    )
    assert voucher.text == "Dagsavslut Butik Centrum 2026-04-01 Z 1234 ref DC-9f3a"
    assert voucher.entry_date == DAY and voucher.series == "K" and voucher.reference == "DC-9f3a"


def test_a_partial_export_says_so() -> None:
    assert day_voucher_text("Butik", DAY, None, "DC-1") == "Delexport Butik 2026-04-01 ref DC-1"


def test_a_long_store_name_is_shortened_never_the_reference() -> None:
    reference = "DC-" + "a" * 40
    text = day_voucher_text("Butiken\n med ett  mycket " + "långt namn " * 20, DAY, 99, reference)
    assert len(text) == MAX_TEXT_LENGTH
    assert text == f"Dagsavslut Butiken med ett mycket lå 2026-04-01 Z 99 ref {reference}"


def test_a_reference_that_cannot_fit_or_has_spaces_is_refused() -> None:
    with pytest.raises(VoucherTextError):
        day_voucher_text("Butik", DAY, 1, "x" * 90)
    with pytest.raises(VoucherTextError):
        day_voucher_text("Butik", DAY, 1, "DC 1")
    with pytest.raises(VoucherTextError):
        day_voucher_text("Butik", DAY, 1, "")


# --- voucher and reversal -----------------------------------------------------------------------


def test_an_unbalanced_voucher_cannot_be_constructed() -> None:
    with pytest.raises(UnbalancedVoucherError) as caught:
        Voucher("K", DAY, "ref DC-1", "DC-1", (VoucherRow("1910", 100), VoucherRow("3001", -99)))
    assert caught.value.residual_ore == 1


def test_reversal_negates_every_row_and_names_the_original() -> None:
    the_plan = plan(cost_centres={"store-1": "100"})
    original = build_voucher(
        batch(receipt(line(gross="125.00", vat="25.00"), tip="5.00"), close=day_close(z=7)),
        the_plan,
        store_name="Butik Centrum",
        reference="DC-0001",
    )
    reversal = reverse(original, reference="DC-0002")
    assert rows_of(reversal) == [
        ("1580", "-130.00", None),
        ("2611", "25.00", None),
        ("2890", "5.00", None),
        ("3001", "100.00", "100"),
    ]
    assert reversal.series == original.series and reversal.entry_date == original.entry_date
    assert reversal.reference == "DC-0002"
    assert reversal.text.startswith("Återföring av DC-0001 ref DC-0002: Dagsavslut Butik Centrum")
    assert reverse(original, reference="DC-3", entry_date=date(2026, 5, 2)).entry_date == date(2026, 5, 2)


def test_a_reversal_needs_its_own_reference() -> None:
    original = voucher_for(receipt())
    with pytest.raises(ValueError, match="own reference"):
        reverse(original, reference=original.reference)


def test_reversal_text_keeps_both_references_when_the_original_text_is_long() -> None:
    original = voucher_for(receipt(), reference="DC-" + "1" * 36, store_name="S" * 200)
    reversal = reverse(original, reference="DC-" + "2" * 36)
    assert len(reversal.text) <= MAX_TEXT_LENGTH
    assert original.reference in reversal.text and reversal.reference in reversal.text


# --- purity ---------------------------------------------------------------------------------------

ALLOWED_IMPORTS = {
    "__future__", "collections", "collections.abc", "dataclasses", "datetime", "decimal", "enum",
    "itertools", "re", "types", "typing", "unicodedata", "mapping",
    # The receipt's Structs (issue #27): typed values built in C, no I/O.
    "msgspec",
}  # fmt: skip


def _modules() -> list[Path]:
    modules = sorted(MAPPING_DIR.glob("*.py"))
    assert len(modules) >= 8
    return modules


@pytest.mark.parametrize("path", _modules(), ids=lambda p: p.name)
def test_mapping_imports_nothing_but_the_standard_library_basics(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    imported: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module)
    outside = {m for m in imported if m not in ALLOWED_IMPORTS and m.split(".")[0] != "mapping"}
    assert not outside, f"{path.name} imports {outside}"


@pytest.mark.parametrize("path", _modules(), ids=lambda p: p.name)
def test_no_float_arithmetic_in_mapping(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    float_literals = [n.lineno for n in ast.walk(tree) if isinstance(n, ast.Constant) and type(n.value) is float]
    float_calls = [
        n.lineno
        for n in ast.walk(tree)
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == "float"
    ]
    true_division = [n.lineno for n in ast.walk(tree) if isinstance(n, ast.BinOp) and isinstance(n.op, ast.Div)]
    assert not float_literals and not float_calls, f"{path.name}: float at lines {float_literals + float_calls}"
    # `/` is only allowed where both sides are Decimals (money.to_sek); ints use `//`.
    assert path.name == "money.py" or not true_division, f"{path.name}: true division at {true_division}"


@pytest.mark.parametrize(
    "build",
    [
        lambda big: ReceiptLine("merch", 2500, big, big // 5),
        lambda big: Payment("card", big),
        lambda big: Payment("card", -big),
        lambda big: CashMovement("m1", "s1", date(2026, 4, 1), "deposit", big),
    ],
)
def test_amounts_beyond_any_plausible_pos_amount_are_refused(build) -> None:
    from mapping.errors import InvalidSalesDataError
    from mapping.fields import MAX_AMOUNT_ORE

    build(MAX_AMOUNT_ORE)  # the limit itself is accepted
    with pytest.raises(InvalidSalesDataError, match="beyond any plausible"):
        build(MAX_AMOUNT_ORE + 1)

"""Property-based tests: a store-day's running totals book exactly what its receipts book (hypothesis).

For any generated day (sales, returns, groups at several rates, tips, rounding, cash movements with tip
payouts, gift card expiries, single- and multi-purpose gift cards, receipts that fail the checks) and any
plan, and for any split of the day into a manual export and a day close or into k exports claimed by
watermark: the voucher (or the error) built from the totals equals the one built from the receipts, the
totals add and subtract like the sets of items they sum, their stored forms read back exactly, and the
Z-report reconciliation, the cash drawer and the VAT policy give the same figures from either.

"From the receipts" is an independent computation (``receipts_reference.py``, the receipts path as it was before
``mapping`` booked everything through the totals), so these properties still compare two definitions.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from msgspec.structs import replace as replace_struct

from mapping.buckets import item_rows
from mapping.errors import MappingError
from mapping.plan import AccountPlan
from mapping.reconcile import ControlTotals
from mapping.register_day import CashMovement, DayClose, GiftCardExpiry
from mapping.sales import Payment, Receipt, ReceiptLine
from mapping.totals import DayTotals
from mapping.totals_booking import StaleTotalsError, build_voucher_from_totals
from mapping.totals_closing import adjustment_rows as adjustment_rows_of_totals
from mapping.totals_closing import cash_drawer as cash_drawer_of_totals
from mapping.totals_closing import closing_differences as closing_differences_of_totals
from mapping.totals_closing import control_totals, receipts_per_rate, vat_tolerance
from mapping.totals_closing import drawer_differences as drawer_differences_of_totals
from mapping.totals_closing import vat_adjustment_to_book as vat_adjustment_of_totals
from mapping.voucher import Voucher, VoucherRow
from tests.builders import line, plan
from tests.unit.mapping.receipts_path import SalesBatch
from tests.unit.mapping.receipts_reference import (
    adjustment_rows,
    build_voucher,
    cash_drawer,
    closing_differences,
    drawer_differences,
    totals_of,
    vat_adjustment_to_book,
)
from tests.unit.mapping.receipts_reference import receipts_per_rate as receipts_per_rate_of_receipts
from tests.unit.mapping.receipts_reference import vat_tolerance as vat_tolerance_of_receipts
from tests.unit.mapping.test_mapping_properties import (
    DAY,
    EVENTS,
    EXPIRED_CARD_TYPES,
    GROUPS,
    METHODS,
    PAIRS,
    SALES_DEFAULTS,
    SINGLE_PURPOSE,
    STORE,
    VAT,
    _movement,
    receipts,
)

Item = Receipt | CashMovement | GiftCardExpiry

# --- generators: the mapping properties' days, extended with what the checks must catch ----------------------


@st.composite
def odd_receipts(draw: st.DrawFn, receipt_id: str) -> Receipt:
    """Receipts the checks refuse or that carry no payment: a single-purpose card paying for goods of
    another rate, a receipt that does not add up, a free item with no payment at all."""
    shape = draw(st.sampled_from(["card_too_much", "imbalance", "no_payment"]))
    lines = tuple(
        line(g, r, draw(st.integers(0, 500_000)))
        for g, r in draw(st.lists(st.sampled_from(PAIRS), min_size=1, max_size=3))
    )
    kind = draw(st.sampled_from(["sale", "return"]))
    gross = sum(x.gross_ore for x in lines)
    if shape == "no_payment":
        lines = tuple(ReceiptLine(x.product_group, x.vat_rate, 0, 0) for x in lines)
        return Receipt(receipt_id, STORE, DAY, kind, lines, ())
    if shape == "imbalance":
        off = draw(st.integers(-10_000, 10_000).filter(bool))
        return Receipt(receipt_id, STORE, DAY, kind, lines, (Payment("card", gross + off),))
    spa = draw(st.integers(0, gross + 10_000))
    return Receipt(receipt_id, STORE, DAY, kind, lines, (Payment("spa", spa), Payment("card", gross - spa)))


@st.composite
def day_closes(draw: st.DrawFn) -> DayClose | None:
    if not draw(st.booleans()):
        return None
    reported = draw(st.booleans())
    return DayClose(
        STORE,
        DAY,
        draw(st.integers(1, 9999)),
        draw(st.integers(0, 2_000_000)) if reported else 0,
        draw(st.integers(0, 2_000_000)) if reported else 0,
        opening_float_ore=draw(st.integers(0, 500_000)),
        cash_reported=reported,
        gift_card_expired_total_ore=draw(st.one_of(st.none(), st.integers(0, 200_000))),
    )


@st.composite
def days(draw: st.DrawFn, *, odd: bool = True) -> SalesBatch:
    """A day of up to 10 receipts (now and then one the checks refuse), cash movements of every kind
    (tip payouts included), gift card expiries and maybe a Z-report, its items in a random order."""
    n = draw(st.integers(0, 10))
    odd_at = draw(st.integers(0, 4 * max(n, 1))) if odd else -1
    found = tuple(draw(odd_receipts(f"r{i}") if i == odd_at else receipts(f"r{i}")) for i in range(n))
    kinds = draw(st.lists(st.sampled_from(["deposit", "withdrawal", "float_change", "tip_payout"]), max_size=4))
    movements = tuple(_movement(draw, i, kind) for i, kind in enumerate(kinds))
    expiries = tuple(
        GiftCardExpiry(f"g{i}", STORE, DAY, draw(st.integers(1, 100_000)), *draw(EXPIRED_CARD_TYPES))
        for i in range(draw(st.integers(0, 2)))
    )
    return SalesBatch(STORE, DAY, found, movements, expiries, draw(day_closes()))


def make_plan(
    centre: str | None = None,
    on_all: bool = False,
    policy: str = "EXACT",
    single_purpose: dict[str, int] | None = None,
    without: tuple[tuple[str, str | int], ...] = (),
    defaults: bool = False,
) -> AccountPlan:
    return plan(
        payment_methods=METHODS,
        vat_rates=VAT,
        product_groups=GROUPS,
        events=EVENTS,
        cost_centres={STORE: centre} if centre else None,
        cost_centre_on_balance_accounts=on_all,
        single_purpose_groups=("spa",),
        single_purpose_methods=SINGLE_PURPOSE if single_purpose is None else single_purpose,
        vat_policy=policy,
        without=without,
        sales_defaults=SALES_DEFAULTS if defaults else None,
    )


#: Entries a plan may lack, so unmapped items show up; most plans lack none.
DROPPABLE = (
    [("payment_methods", k) for k in METHODS]
    + [("vat_rates", k) for k in VAT]
    + [("product_groups", f"{g}@{r}") for g, r in PAIRS]
    + [("events", k) for k in EVENTS]
)
plans = st.builds(
    make_plan,
    st.sampled_from([None, "100"]),
    st.booleans(),
    st.sampled_from(["EXACT", "Z_REPORT"]),
    st.sampled_from([None, None, {"spa": 2500}, {"spa": 1200}, {"spa": 0}, {"spa": 2500, "invoice": 600}]),
    st.one_of(st.just(()), st.just(()), st.lists(st.sampled_from(DROPPABLE), max_size=2, unique=True).map(tuple)),
    # Without default sales accounts a dropped (group, rate) is missing; with them, expired single-purpose cards book.
    st.booleans(),
)


def items_of(batch: SalesBatch) -> list[Item]:
    return [*batch.receipts, *batch.cash_movements, *batch.gift_card_expiries]


def batch_of(items: Sequence[Item], close: DayClose | None = None) -> SalesBatch:
    return SalesBatch(
        STORE,
        DAY,
        tuple(i for i in items if isinstance(i, Receipt)),
        tuple(i for i in items if isinstance(i, CashMovement)),
        tuple(i for i in items if isinstance(i, GiftCardExpiry)),
        close,
    )


def totals(items: Sequence[Item], the_plan: AccountPlan | None = None) -> DayTotals:
    return DayTotals.of(STORE, DAY, items, the_plan.single_purpose_methods if the_plan else SINGLE_PURPOSE)


# --- comparing outcomes: a voucher, or an error with what it names ----------------------------------------------


def netted(voucher: Voucher) -> Voucher:
    """The voucher with its rows summed per (account, cost centre): the reference books the same amounts per account,
    but one row per account (rows per kind of event are the worked examples' to check, issue #21). Its own rows must
    be one per (account, kind, cost centre), each with a text."""
    keys = [(r.account, r.text, r.cost_centre) for r in voucher.rows]
    assert len(keys) == len(set(keys))
    summed: dict[tuple[str, str | None], int] = {}
    for r in voucher.rows:
        summed[(r.account, r.cost_centre)] = summed.get((r.account, r.cost_centre), 0) + r.amount_ore
    rows = tuple(
        VoucherRow(a, v, cc) for (a, cc), v in sorted(summed.items(), key=lambda kv: (kv[0][0], kv[0][1] or "")) if v
    )
    return replace(voucher, rows=rows) if rows else voucher


def outcome(build: Callable[[], Any]) -> tuple[str, Any]:
    try:
        built = build()
        return "voucher", netted(built) if isinstance(built, Voucher) else built
    except MappingError as exc:
        named = [getattr(exc, name) for name in ("missing", "problems") if hasattr(exc, name)]
        if hasattr(exc, "receipts"):  # the receipts path names them in day order, the totals in id order
            named.append(sorted(exc.receipts))
        return type(exc).__name__, (named, str(exc) if not hasattr(exc, "receipts") else "")


def from_receipts(
    batch: SalesBatch, the_plan: AccountPlan, reference: str = "DC-1", adjustment: Sequence[tuple[str, int]] = ()
) -> tuple[str, Any]:
    return outcome(
        lambda: build_voucher(batch, the_plan, store_name="Butik", reference=reference, vat_adjustment=adjustment)
    )


def from_totals(
    day: DayTotals,
    close: DayClose | None,
    the_plan: AccountPlan,
    reference: str = "DC-1",
    adjustment: Sequence[tuple[str, int]] = (),
) -> tuple[str, Any]:
    def build() -> Voucher:
        voucher = build_voucher_from_totals(
            day, the_plan, close, store_name="Butik", reference=reference, vat_adjustment=adjustment
        )
        assert all(r.text for r in voucher.rows), "every row says what it books"
        return voucher

    return outcome(build)


def cuts(data: st.DataObject, n: int, k: int) -> list[int]:
    return sorted(data.draw(st.lists(st.integers(0, n), min_size=k - 1, max_size=k - 1)))


# --- the voucher ----------------------------------------------------------------------------------------------


@settings(max_examples=400, deadline=None)
@given(days(), plans)
def test_the_voucher_or_error_from_totals_is_the_one_from_the_receipts(
    batch: SalesBatch, the_plan: AccountPlan
) -> None:
    got = from_totals(totals(items_of(batch), the_plan), batch.day_close, the_plan)
    assert got == from_receipts(batch, the_plan)


@settings(max_examples=300, deadline=None)
@given(days(), plans, st.data())
def test_a_manual_export_then_the_day_close_book_from_totals_what_they_book_from_receipts(
    batch: SalesBatch, the_plan: AccountPlan, data: st.DataObject
) -> None:
    """The manual export books the totals so far; the day close books the cumulative totals at its claim less
    the snapshot the manual export took (a watermark claim), with the Z_REPORT VAT rounding of the whole day."""
    items = data.draw(st.permutations(items_of(batch)))
    cut = data.draw(st.integers(0, len(items)))
    first, rest = items[:cut], items[cut:]
    snapshot, cumulative = totals(first, the_plan), totals(items, the_plan)
    assert from_totals(snapshot, None, the_plan, "DC-1") == from_receipts(batch_of(first), the_plan, "DC-1")
    adjustment: tuple[tuple[str, int], ...] = ()
    close = batch.day_close
    if close is not None and the_plan.vat_policy == "Z_REPORT":
        control = perturbed(totals_of(batch.receipts), data)
        try:
            delta = vat_adjustment_to_book(the_plan.vat_policy, control, items, {})
            adjustment = adjustment_rows(delta, batch.receipts, the_plan)
        except MappingError:
            adjustment = ()
        else:
            assert vat_adjustment_of_totals(the_plan.vat_policy, control, cumulative, {}) == delta
            assert adjustment_rows_of_totals(delta, cumulative, the_plan) == adjustment
    expected = from_receipts(batch_of(rest, close), the_plan, "DC-2", adjustment)
    assert from_totals(cumulative - snapshot, close, the_plan, "DC-2", adjustment) == expected
    assert from_totals(totals(rest, the_plan), close, the_plan, "DC-2", adjustment) == expected


@settings(max_examples=200, deadline=None)
@given(days(), plans, st.integers(1, 6), st.data())
def test_k_exports_claimed_by_watermark_each_book_what_their_receipts_book(
    batch: SalesBatch, the_plan: AccountPlan, k: int, data: st.DataObject
) -> None:
    items = data.draw(st.permutations(items_of(batch)))
    bounds = [0, *cuts(data, len(items), k), len(items)]
    previous = DayTotals.empty(STORE, DAY)
    running = DayTotals.empty(STORE, DAY)
    for i, (lo, hi) in enumerate(zip(bounds, bounds[1:], strict=False)):
        part = items[lo:hi]
        staged = [row for item in part for row in item_rows(item, the_plan.single_purpose_methods)]
        running = running + DayTotals.from_rows(STORE, DAY, staged)
        close = batch.day_close if i == k - 1 else None
        claimed = running - previous
        assert claimed == totals(part, the_plan)
        assert from_totals(claimed, close, the_plan, f"DC-{i}") == from_receipts(
            batch_of(part, close), the_plan, f"DC-{i}"
        )
        previous = running
    assert running == totals(items, the_plan)


@settings(max_examples=200, deadline=None)
@given(days(), plans, st.sampled_from([{}, {"spa": 2500}, {"spa": 1200}, {"spa": 2500, "card": 600}]))
def test_totals_summed_for_other_single_purpose_methods_are_refused_or_book_the_same(
    batch: SalesBatch, the_plan: AccountPlan, summed_for: dict[str, int]
) -> None:
    """A plan whose single-purpose methods changed after the day was summed: either nothing paid with differs
    (same voucher), or the totals say they are stale and the day summed again books what the receipts book."""
    day = DayTotals.of(STORE, DAY, items_of(batch), summed_for)
    expected = from_receipts(batch, the_plan)
    try:
        got = from_totals(day, batch.day_close, the_plan)
    except StaleTotalsError as exc:
        paid = {p.method for r in batch.receipts for p in r.payments}
        assert exc.methods and set(exc.methods) <= paid
        assert all(summed_for.get(m) != the_plan.single_purpose_methods.get(m) for m in exc.methods)
        assert from_totals(totals(items_of(batch), the_plan), batch.day_close, the_plan) == expected
    else:
        assert got == expected


# --- the totals as values -----------------------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(days(), st.data())
def test_totals_add_and_subtract_like_the_items_they_sum(batch: SalesBatch, data: st.DataObject) -> None:
    items = data.draw(st.permutations(items_of(batch)))
    cut = data.draw(st.integers(0, len(items)))
    a, b, whole = totals(items[:cut]), totals(items[cut:]), totals(items)
    empty = DayTotals.empty(STORE, DAY)
    assert a + b == whole == b + a == totals(items_of(batch))
    assert whole - a == b and whole - b == a
    assert whole - whole == empty and whole + empty == whole and (whole - whole).is_empty
    assert DayTotals.from_rows(STORE, DAY, [r for i in items for r in item_rows(i, SINGLE_PURPOSE)]) == whole
    if not b.is_empty:
        with pytest.raises(ValueError, match="earlier snapshot|counts below zero"):
            _ = a - whole


@settings(max_examples=200, deadline=None)
@given(days())
def test_the_stored_forms_read_back_exactly(batch: SalesBatch) -> None:
    day = totals(items_of(batch))
    stored = json.dumps(day.to_json(), sort_keys=True, separators=(",", ":"))
    assert DayTotals.from_json(json.loads(stored)) == day
    again = DayTotals.from_json(json.loads(stored)).to_json()
    assert json.dumps(again, sort_keys=True, separators=(",", ":")) == stored
    assert DayTotals.from_rows(STORE, DAY, day.rows()) == day
    assert all(len(row) == 7 and all(type(x) is int for x in row[2:]) for row in day.rows())


def test_totals_of_other_store_days_do_not_combine_and_stored_forms_are_checked() -> None:
    ours = DayTotals.of(STORE, DAY, [CashMovement("m1", STORE, DAY, "deposit", 100)])
    other = DayTotals.of("store-2", DAY, [CashMovement("m1", "store-2", DAY, "deposit", 100)])
    with pytest.raises(ValueError, match="do not combine"):
        _ = ours + other
    stored = ours.to_json()
    with pytest.raises(ValueError, match="canonical"):
        DayTotals.from_json({**stored, "buckets": stored["buckets"] * 2})
    with pytest.raises(ValueError):
        DayTotals.from_json({**stored, "buckets": [["movement", "deposit", 0, 1.5, 0, 1, 0]]})
    with pytest.raises(ValueError, match="unknown"):
        DayTotals.from_json({**stored, "buckets": [["movement", "robbery", 0, 100, 0, 1, 0]]})
    with pytest.raises(ValueError, match="format"):
        DayTotals.from_json({**stored, "format": 99})


# --- reconciliation, drawer and VAT policy from totals -------------------------------------------------------------


def perturbed(control: ControlTotals, data: st.DataObject) -> ControlTotals:
    """A Z-report whose VAT per rate is off by a few öre now and then (a POS rounding per receipt or per day)."""
    vat = tuple(
        (rate, gross, vat + data.draw(st.sampled_from([0, 0, 1, -1, 2, -3, 40]))) for rate, gross, vat in control.vat
    )
    return replace(control, vat=vat, receipt_count=control.receipt_count + data.draw(st.sampled_from([0, 0, 0, 1])))


@settings(max_examples=300, deadline=None)
@given(days(), st.sampled_from(["EXACT", "Z_REPORT"]), st.data())
def test_control_totals_drawer_and_vat_policy_from_totals_are_those_from_the_receipts(
    batch: SalesBatch, policy: str, data: st.DataObject
) -> None:
    day = totals(items_of(batch))
    assert control_totals(day) == totals_of(batch.receipts)
    assert receipts_per_rate(day) == receipts_per_rate_of_receipts(batch.receipts)
    assert vat_tolerance(policy, day) == vat_tolerance_of_receipts(policy, batch.receipts)
    close = batch.day_close or data.draw(day_closes().filter(lambda c: c is not None))
    assert cash_drawer_of_totals(close, day) == cash_drawer(close, batch.receipts, batch.cash_movements)
    assert drawer_differences_of_totals(close, day) == drawer_differences(
        close, batch.receipts, batch.cash_movements, batch.gift_card_expiries
    )
    control = perturbed(totals_of(batch.receipts), data)
    assert closing_differences_of_totals(close, control, policy, day) == closing_differences(
        close, control, policy, items_of(batch)
    )
    booked = data.draw(st.dictionaries(st.sampled_from([2500, 1200, 600]), st.integers(-3, 3), max_size=2))
    assert vat_adjustment_of_totals(policy, control, day, booked) == vat_adjustment_to_book(
        policy, control, items_of(batch), booked
    )


@settings(max_examples=200, deadline=None)
@given(days(odd=False), plans, st.dictionaries(st.sampled_from([2500, 1200, 600, 0]), st.integers(-9, 9), max_size=3))
def test_the_z_report_vat_rounding_rows_from_totals_are_those_from_the_receipts(
    batch: SalesBatch, the_plan: AccountPlan, delta: dict[int, int]
) -> None:
    day = totals(items_of(batch), the_plan)
    assert outcome(lambda: adjustment_rows_of_totals(delta, day, the_plan)) == outcome(
        lambda: adjustment_rows(delta, batch.receipts, the_plan)
    )


@settings(max_examples=100, deadline=None)
@given(days(), st.data())
def test_the_same_items_in_any_order_have_the_same_totals(batch: SalesBatch, data: st.DataObject) -> None:
    items = items_of(batch)
    assume(len(items) > 1)
    assert totals(data.draw(st.permutations(items))) == totals(items)


@settings(max_examples=100, deadline=None)
@given(days(odd=False))
def test_a_day_returned_in_full_nets_to_zero_yet_needs_every_mapping_it_used(batch: SalesBatch) -> None:
    """Every receipt returned the same day: every sum is zero, but the day still used its groups, rates, methods,
    tips and rounding, so a plan lacking any one of them is told so, from the totals as from the receipts."""
    returns = tuple(
        replace_struct(r, receipt_id=f"{r.receipt_id}-back", kind="return" if r.kind == "sale" else "sale")
        for r in batch.receipts
    )
    both = SalesBatch(STORE, DAY, batch.receipts + returns)
    for dropped in [(), *((entry,) for entry in DROPPABLE)]:
        the_plan = make_plan(without=dropped)
        expected = from_receipts(both, the_plan)
        assert from_totals(totals(items_of(both), the_plan), None, the_plan) == expected
        if batch.receipts and not dropped:
            assert expected[0] == "NothingToBookError"

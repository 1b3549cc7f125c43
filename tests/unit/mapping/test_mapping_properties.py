"""Property-based tests over random valid days (hypothesis).

The plan here gives every role its own account, so a voucher's rows can be traced back to
what caused them: payment methods on 15xx–19xx/2420/2421, VAT on 26xx, sales per (group, rate)
on 3xxx accounts of their rate, single-purpose gift cards on 2420, and each other event on an
account of its own.
"""

from __future__ import annotations

from collections import Counter
from datetime import date

from hypothesis import given, settings
from hypothesis import strategies as st

from mapping.errors import NothingToBookError, UnmappedItemsError
from mapping.money import vat_included
from mapping.plan import AccountPlan
from mapping.register_day import CashMovement, DayClose, GiftCardExpiry
from mapping.reversal import reverse
from mapping.sales import CASH_MOVEMENT_KINDS, Payment, Receipt
from mapping.voucher import Voucher
from tests.builders import line, plan
from tests.unit.mapping.receipts_path import SalesBatch, account_totals, build_voucher, missing_for

STORE = "store-1"
DAY = date(2026, 4, 1)
RATES = (2500, 1200, 600, 0)
METHODS = {"cash": "1910", "card": "1580", "swish": "1940", "gift_card": "2421", "invoice": "1510", "spa": "2420"}
VAT = {2500: "2611", 1200: "2621", 600: "2631"}
#: Sales per (group, rate), each pair on an account of its own rate; "spa" is a single-purpose gift card sold at
#: 25 % to the liability 2420 and redeemed by payment method "spa"; "giftcard" a multi-purpose one sold at 0 %.
GROUPS: dict[str, dict[int, str]] = {
    **{
        group: {rate: f"3{n}{i}0" for i, rate in enumerate(RATES, start=1)}
        for n, group in enumerate(("goods", "restaurant", "food", "books"), start=1)
    },
    "spa": {2500: "2420"},
    "giftcard": {0: "2421"},
}
#: Each rate's default sales account (where an expired single-purpose card's revenue goes): goods' at that rate.
SALES_DEFAULTS = dict(GROUPS["goods"])
PAIRS = sorted((group, rate) for group, rates in GROUPS.items() for rate in rates)
ACCOUNTS_AT = {rate: {acc for rates in GROUPS.values() for r, acc in rates.items() if r == rate} for rate in RATES}
SINGLE_PURPOSE = {"spa": 2500}
EVENTS = {
    "TIPS": "2890",
    "ROUNDING": "3740",
    "CASH_SHORTAGE": "6990",
    "CASH_OVERAGE": "3999",
    "CASH_DEPOSIT": "1930",
    "CASH_WITHDRAWAL": "1931",
    "FLOAT_CHANGE": "1932",
    "EXPIRED_GIFT_CARD": "3990",
}
PAYMENT_ACCOUNTS = set(METHODS.values())

amounts = st.integers(min_value=0, max_value=2_000_000)
#: An expired card: multi-purpose (gift_card, no VAT at issue) or the single-purpose "spa" card sold at 25 %.
EXPIRED_CARD_TYPES = st.sampled_from([("gift_card", None), ("spa", 2500)])


def _split(draw: st.DrawFn, total: int, methods: list[str]) -> list[Payment]:
    """Split ``total`` over ``methods`` at random cut points; the last method takes the rest."""
    cuts = sorted(draw(st.integers(min(0, total), max(0, total))) for _ in methods[:-1])
    parts = [b - a for a, b in zip([0, *cuts], [*cuts, total], strict=True)]
    return [Payment(m, p) for m, p in zip(methods, parts, strict=True)]


@st.composite
def receipts(draw: st.DrawFn, receipt_id: str) -> Receipt:
    lines = tuple(
        line(group, rate, draw(amounts))
        for group, rate in draw(st.lists(st.sampled_from(PAIRS), min_size=1, max_size=4))
    )
    others = sorted(m for m in METHODS if m != "spa")
    methods = draw(st.lists(st.sampled_from(others), min_size=1, max_size=3, unique=True))
    rounding = draw(st.integers(-50, 50)) if "cash" in methods else 0
    tip = draw(st.sampled_from([0, 0, draw(st.integers(1, 50_000))]))
    total = sum(x.gross_ore for x in lines) + tip + rounding
    # A single-purpose card pays at most for the receipt's goods of its own rate (25 %).
    at_25 = sum(x.gross_ore for x in lines if x.vat_rate == 2500)
    spa = draw(st.integers(0, at_25)) if at_25 and draw(st.booleans()) else 0
    payments = _split(draw, total - spa, methods) + ([Payment("spa", spa)] if spa else [])
    return Receipt(
        receipt_id=receipt_id,
        store_id=STORE,
        business_date=DAY,
        kind=draw(st.sampled_from(["sale", "sale", "return"])),
        lines=lines,
        payments=tuple(payments),
        tip_ore=tip,
        rounding_ore=rounding,
    )


def _movement(draw: st.DrawFn, i: int, kind: str) -> CashMovement:
    low = -500_000 if kind == "float_change" else 1
    return CashMovement(f"m{i}", STORE, DAY, kind, draw(st.integers(low, 500_000).filter(bool)))


@st.composite
def days(draw: st.DrawFn, *, other_events: bool = True) -> SalesBatch:
    n = draw(st.integers(0, 8))
    movements: tuple[CashMovement, ...] = ()
    expiries: tuple[GiftCardExpiry, ...] = ()
    close = None
    if other_events:
        kinds = draw(st.lists(st.sampled_from(CASH_MOVEMENT_KINDS), max_size=3))
        movements = tuple(_movement(draw, i, kind) for i, kind in enumerate(kinds))
        expiries = tuple(
            GiftCardExpiry(f"g{i}", STORE, DAY, draw(st.integers(1, 100_000)), *draw(EXPIRED_CARD_TYPES))
            for i in range(draw(st.integers(0, 2)))
        )
        if draw(st.booleans()):
            close = DayClose(STORE, DAY, draw(st.integers(1, 9999)), draw(amounts), draw(amounts))
    return SalesBatch(
        store_id=STORE,
        business_date=DAY,
        receipts=tuple(draw(receipts(f"r{i}")) for i in range(n)),
        cash_movements=movements,
        gift_card_expiries=expiries,
        day_close=close,
    )


plans = st.builds(
    lambda centre, on_all: plan(
        payment_methods=METHODS,
        vat_rates=VAT,
        product_groups=GROUPS,
        events=EVENTS,
        cost_centres={STORE: centre} if centre else None,
        cost_centre_on_balance_accounts=on_all,
        single_purpose_groups=("spa",),
        single_purpose_methods=SINGLE_PURPOSE,
        sales_defaults=SALES_DEFAULTS,
    ),
    st.sampled_from([None, "100"]),
    st.booleans(),
)


def redeemed_vat(batch: SalesBatch, rate: int) -> int:
    """The VAT single-purpose cards of ``rate`` take off the day's output VAT (signed like the receipts)."""
    return sum(
        r.sign * vat_included(p.amount_ore, rate)
        for r in batch.receipts
        for p in r.payments
        if SINGLE_PURPOSE.get(p.method) == rate
    )


def book(batch: SalesBatch, the_plan: AccountPlan, reference: str = "DC-1") -> Voucher | None:
    try:
        return build_voucher(batch, the_plan, store_name="Butik", reference=reference)
    except NothingToBookError:
        return None


def per_account(voucher: Voucher | None) -> Counter[tuple[str, str | None]]:
    totals: Counter[tuple[str, str | None]] = Counter()
    if voucher is not None:
        totals.update(voucher.balance_by_account())
    return totals


def on_accounts(voucher: Voucher | None, accounts: set[str]) -> int:
    return 0 if voucher is None else sum(r.amount_ore for r in voucher.rows if r.account in accounts)


@settings(max_examples=300, deadline=None)
@given(days(), plans)
def test_every_voucher_balances_exactly(batch: SalesBatch, the_plan: AccountPlan) -> None:
    voucher = book(batch, the_plan)
    if voucher is None:
        assert all(v == 0 for v in account_totals(batch, the_plan).values())
        return
    assert sum(r.amount_ore for r in voucher.rows) == 0
    assert all(r.amount_ore != 0 for r in voucher.rows)
    keys = [(r.account, r.text, r.cost_centre or "") for r in voucher.rows]
    assert len(keys) == len(set(keys)), "one row per (account, kind of event, cost centre)"
    assert [r.account for r in voucher.rows] == sorted(r.account for r in voucher.rows), "rows in account order"
    assert all(r.text for r in voucher.rows), "every row says what it books"


@settings(max_examples=200, deadline=None)
@given(days(), plans)
def test_a_voucher_books_only_accounts_its_plan_maps(batch: SalesBatch, the_plan: AccountPlan) -> None:
    # What the BL pre-flight keeps of a company's chart after one fetch (issue #27): every voucher's accounts.
    voucher = book(batch, the_plan)
    assert voucher is None or {r.account for r in voucher.rows} <= the_plan.mapped_accounts()


@settings(max_examples=200, deadline=None)
@given(days(other_events=False), plans)
def test_payment_accounts_carry_exactly_the_payments(batch: SalesBatch, the_plan: AccountPlan) -> None:
    voucher = book(batch, the_plan)
    for method, account in METHODS.items():
        if method in ("gift_card", "spa"):
            continue  # liabilities that the sale of their own cards credits too (below)
        paid = sum(r.sign * p.amount_ore for r in batch.receipts for p in r.payments if p.method == method)
        assert on_accounts(voucher, {account}) == paid
    sold = {
        group: sum(r.sign * x.net_ore for r in batch.receipts for x in r.lines if x.product_group == group)
        for group in ("spa", "giftcard")
    }
    gift = sum(r.sign * p.amount_ore for r in batch.receipts for p in r.payments if p.method == "gift_card")
    assert on_accounts(voucher, {"2421"}) == gift - sold["giftcard"]
    spa = sum(r.sign * p.amount_ore for r in batch.receipts for p in r.payments if p.method == "spa")
    # A single-purpose card's redemption debits its liability with the payment less the VAT it holds.
    assert on_accounts(voucher, {"2420"}) == spa - redeemed_vat(batch, 2500) - sold["spa"]


@settings(max_examples=200, deadline=None)
@given(days(), plans)
def test_payment_accounts_with_cash_movements_gift_card_expiry_and_cash_difference(
    batch: SalesBatch, the_plan: AccountPlan
) -> None:
    voucher = book(batch, the_plan)
    cash_difference = batch.day_close.cash_difference_ore if batch.day_close else 0
    cash_in = sum(m.cash_effect_ore for m in batch.cash_movements) + cash_difference
    cash_paid = sum(r.sign * p.amount_ore for r in batch.receipts for p in r.payments if p.method == "cash")
    assert on_accounts(voucher, {"1910"}) == cash_paid + cash_in
    gift_paid = sum(r.sign * p.amount_ore for r in batch.receipts for p in r.payments if p.method == "gift_card")
    gift_sold = sum(r.sign * x.net_ore for r in batch.receipts for x in r.lines if x.product_group == "giftcard")
    expired = sum(e.amount_ore for e in batch.gift_card_expiries if e.method == "gift_card")
    assert on_accounts(voucher, {"2421"}) == gift_paid - gift_sold + expired
    # A shortage is a cost on its own account, an overage income on another: never one account with both signs.
    assert on_accounts(voucher, {"6990"}) == max(0, -cash_difference)
    assert on_accounts(voucher, {"3999"}) == min(0, -cash_difference)
    tips = sum(r.sign * r.tip_ore for r in batch.receipts)
    paid_out = sum(m.amount_ore for m in batch.cash_movements if m.kind == "tip_payout")
    assert on_accounts(voucher, {"2890"}) == paid_out - tips


@settings(max_examples=200, deadline=None)
@given(days(), plans)
def test_vat_per_rate_is_the_receipts_vat_per_rate(batch: SalesBatch, the_plan: AccountPlan) -> None:
    voucher = book(batch, the_plan)
    for rate, account in VAT.items():
        receipt_vat = sum(r.sign * x.vat_ore for r in batch.receipts for x in r.lines if x.vat_rate == rate)
        assert -on_accounts(voucher, {account}) == receipt_vat - redeemed_vat(batch, rate)
    net = sum(r.sign * x.net_ore for r in batch.receipts for x in r.lines if x.product_group not in ("spa", "giftcard"))
    # An expired single-purpose card's balance net of its VAT is revenue of its rate (issue #21).
    net += sum(e.amount_ore - e.vat_ore for e in batch.gift_card_expiries if e.vat_rate)
    assert -on_accounts(voucher, {a for a in set().union(*ACCOUNTS_AT.values()) if a[0] == "3"}) == net


@settings(max_examples=300, deadline=None)
@given(days(), plans)
def test_each_rates_vat_is_the_rate_applied_to_the_net_on_its_accounts(
    batch: SalesBatch, the_plan: AccountPlan
) -> None:
    """For every rate r: VAT on r's account = r × net on the accounts mapped at r (single-purpose liability
    included: its sale credits it net of VAT, its redemption and its expiry debit it net of the VAT it holds, and
    an expiry's net is revenue on the rate's sales account), within the
    rounding of each line's and each redemption's VAT to whole öre: |VAT − r·net| ≤ (1 + r) · ½ öre each."""
    voucher = book(batch, the_plan)
    for rate, vat_account in VAT.items():
        vat = -on_accounts(voucher, {vat_account})
        net = -on_accounts(voucher, ACCOUNTS_AT[rate])
        roundings = sum(1 for r in batch.receipts for x in r.lines if x.vat_rate == rate)
        roundings += sum(1 for r in batch.receipts for p in r.payments if SINGLE_PURPOSE.get(p.method) == rate)
        roundings += sum(1 for e in batch.gift_card_expiries if e.vat_rate == rate)  # the VAT it held, rounded
        # In basis points to stay in integers: |10000·VAT − r·net| ≤ (10000 + r) · roundings / 2.
        assert 2 * abs(10_000 * vat - rate * net) <= (10_000 + rate) * roundings


@settings(max_examples=300, deadline=None)
@given(days(), plans, st.data())
def test_a_manual_export_then_the_day_close_books_what_one_export_would(
    batch: SalesBatch, the_plan: AccountPlan, data: st.DataObject
) -> None:
    def cut(items: tuple[object, ...]) -> int:
        return data.draw(st.integers(0, len(items)))

    r, m, e = cut(batch.receipts), cut(batch.cash_movements), cut(batch.gift_card_expiries)
    mid_day = SalesBatch(STORE, DAY, batch.receipts[:r], batch.cash_movements[:m], batch.gift_card_expiries[:e], None)
    rest = SalesBatch(
        STORE, DAY, batch.receipts[r:], batch.cash_movements[m:], batch.gift_card_expiries[e:], batch.day_close
    )
    # Counter.update, not +: the + operator would silently drop the (negative) credits.
    split = per_account(book(mid_day, the_plan, "DC-1"))
    split.update(per_account(book(rest, the_plan, "DC-2")))
    whole = per_account(book(batch, the_plan, "DC-3"))
    assert {k: v for k, v in split.items() if v} == {k: v for k, v in whole.items() if v}


@settings(max_examples=200, deadline=None)
@given(days(), plans)
def test_a_voucher_and_its_reversal_net_to_zero_on_every_account(batch: SalesBatch, the_plan: AccountPlan) -> None:
    voucher = book(batch, the_plan)
    if voucher is None:
        return
    reversal = reverse(voucher, reference="DC-R")
    combined = per_account(voucher)
    combined.update(reversal.balance_by_account())
    assert set(combined.values()) == {0}
    assert len(reversal.rows) == len(voucher.rows)


@settings(max_examples=200, deadline=None)
@given(days(other_events=False), plans)
def test_returns_mirror_sales(batch: SalesBatch, the_plan: AccountPlan) -> None:
    flipped = SalesBatch(
        STORE,
        DAY,
        tuple(
            Receipt(r.receipt_id, STORE, DAY, "return" if r.kind == "sale" else "sale", r.lines, r.payments,
                    r.tip_ore, r.rounding_ore)
            for r in batch.receipts
        ),
    )  # fmt: skip
    mirrored = per_account(book(flipped, the_plan))
    original = per_account(book(batch, the_plan))
    assert mirrored == Counter({key: -v for key, v in original.items()})


@settings(max_examples=200, deadline=None)
@given(days(), st.data())
def test_every_missing_mapping_is_named_at_once(batch: SalesBatch, data: st.DataObject) -> None:
    entries = (
        [("payment_methods", k) for k in METHODS]
        + [("vat_rates", k) for k in VAT]
        + [("product_groups", f"{g}@{r}") for g, r in PAIRS]
        + [("events", k) for k in EVENTS]
        + [("sales_defaults", k) for k in SALES_DEFAULTS]
    )
    dropped = data.draw(st.lists(st.sampled_from(entries), unique=True))
    the_plan = plan(payment_methods=METHODS, vat_rates=VAT, product_groups=GROUPS, events=EVENTS,
                    single_purpose_groups=("spa",), single_purpose_methods=SINGLE_PURPOSE,
                    sales_defaults=SALES_DEFAULTS, without=tuple(dropped))  # fmt: skip
    needed = set(missing_for(the_plan, batch))
    kinds = {"payment_methods": "payment_method", "vat_rates": "vat_rate", "product_groups": "product_group",
             "events": "event", "sales_defaults": "product_group"}  # fmt: skip
    used = plan(
        payment_methods=METHODS,
        vat_rates=VAT,
        product_groups=GROUPS,
        events=EVENTS,
        single_purpose_groups=("spa",),
        single_purpose_methods=SINGLE_PURPOSE,
        sales_defaults=SALES_DEFAULTS,
    )
    assert missing_for(used, batch) == ()
    everything_needed = set(missing_for(AccountPlan(organization_id="o", series="A"), batch))
    # A dropped default sales account is missing as the rate's default ("*@<rate>"), for expired single-purpose cards.
    # A dropped (group, rate) falls back to the rate's default sales account: missing only when that is dropped too.
    defaults_dropped = {str(code) for section, code in dropped if section == "sales_defaults"}
    codes = {
        (kinds[section], f"*@{code}" if section == "sales_defaults" else str(code))
        for section, code in dropped
        if section != "product_groups" or str(code).rsplit("@", 1)[1] in defaults_dropped
    }
    expected = codes & everything_needed
    assert needed == expected
    if expected:
        try:
            build_voucher(batch, the_plan, store_name="Butik", reference="DC-1")
        except UnmappedItemsError as exc:
            assert set(exc.missing) == expected
        else:
            raise AssertionError("an unmapped batch was booked")


@given(
    st.lists(
        st.lists(st.tuples(st.sampled_from([2500, 1200, 600]), st.integers(1, 2_000_000)), min_size=1, max_size=8),
        min_size=1,
        max_size=12,
    ),
    st.booleans(),
)
def test_a_pos_rounding_vat_per_receipt_or_per_day_is_within_half_an_ore_per_line(
    receipt_lines: list[list[tuple[int, int]]], per_day: bool
) -> None:
    """The Z_REPORT tolerance (issue #21, finding 7) holds every legal rounding: Σ of VAT rounded per line (half up)
    and the same VAT rounded once per receipt, or once for the day, differ by at most ½ öre per line at the rate."""
    from mapping.totals_closing import day_totals, vat_tolerance

    day = [
        Receipt(f"r{i}", STORE, DAY, "sale", tuple(line("goods", r, g) for r, g in ls), ())
        for i, ls in enumerate(receipt_lines)
    ]
    allowed = vat_tolerance("Z_REPORT", day_totals(day))
    assert allowed is not None
    for rate in {r for ls in receipt_lines for r, _ in ls}:
        per_line = sum(vat_included(g, rate) for ls in receipt_lines for r, g in ls if r == rate)
        grosses = [sum(g for r, g in ls if r == rate) for ls in receipt_lines]
        once = vat_included(sum(grosses), rate) if per_day else sum(vat_included(g, rate) for g in grosses)
        assert abs(once - per_line) <= allowed[rate]

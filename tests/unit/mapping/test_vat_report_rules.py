"""The VAT-period report's arithmetic: per-rate amounts, boxes, the difference split into causes that add up to
it exactly, and BL's balances against dayclose's vouchers."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from mapping.ledger import LedgerVoucher, compare, explained, references_in
from mapping.reconcile import ControlTotals
from mapping.sales import Payment, Receipt, ReceiptLine
from mapping.totals import DayTotals
from mapping.vatamounts import (
    RateAmounts,
    booked_per_rate,
    boxes,
    difference,
    redemptions_per_rate,
    supplies,
    total,
    vat_change,
)
from mapping.vatperiods import month
from mapping.vatreport import BookedVoucher, Cause, VoucherKind, ZDay, build, explained_total, kind_of

NOV = month(2026, 11)
DAY = date(2026, 11, 24)


def control(*rates: tuple[int, int, int]) -> ControlTotals:
    return ControlTotals(0, sum(g for _, g, _ in rates), tuple(rates), ())


def voucher(
    ref: str,
    amounts: dict[int, RateAmounts],
    *,
    day: date = DAY,
    entry: date | None = None,
    kind: VoucherKind = VoucherKind.DAY_CLOSE,
    store: str = "s1",
) -> BookedVoucher:
    return BookedVoucher(ref, "D", int(ref[-2:], 16), entry or day, store, day, kind, amounts)


def test_a_single_purpose_redemption_is_no_second_supply() -> None:
    """A 1 200.00 massage at 25 % paid 1 000.00 with a single-purpose card (VAT at sale) and 200.00 by card."""
    receipt = Receipt(
        "r1",
        "s1",
        DAY,
        "sale",
        lines=(ReceiptLine("massage", 2500, 120_000, 24_000),),
        payments=(Payment("massage_card", 100_000), Payment("card", 20_000)),
    )
    totals = DayTotals.of("s1", DAY, [receipt], {"massage_card": 2500})
    assert redemptions_per_rate(totals) == {2500: RateAmounts(100_000, 20_000)}
    assert booked_per_rate(totals, {}) == {2500: RateAmounts(20_000, 4_000)}  # 160.00 net, 40.00 VAT
    z = {2500: RateAmounts(120_000, 24_000)}
    assert boxes(supplies(z, redemptions_per_rate(totals))) == {"05": 16_000, "10": 4_000, "11": 0, "12": 0}


def test_the_z_report_rounding_moves_vat_between_net_and_vat_of_the_same_rate() -> None:
    receipt = Receipt(
        "r1", "s1", DAY, "sale", lines=(ReceiptLine("x", 2500, 412, 84),), payments=(Payment("card", 412),)
    )
    booked = booked_per_rate(DayTotals.of("s1", DAY, [receipt]), {2500: -2})
    assert booked == {2500: RateAmounts(412, 82)} and booked[2500].net == 330


def test_boxes_leave_zero_percent_and_unknown_rates_out() -> None:
    supplied = {0: RateAmounts(50_000, 0), 600: RateAmounts(10_600, 600), 1200: RateAmounts(11_200, 1_200)}
    assert boxes(supplied) == {"05": 20_000, "10": 0, "11": 1_200, "12": 600}


def test_vat_change_lists_only_rates_whose_vat_moves() -> None:
    before = {2500: RateAmounts(12_500, 2_500), 1200: RateAmounts(11_200, 1_200)}
    after = {2500: RateAmounts(12_500, 2_500), 1200: RateAmounts(11_200, 1_300), 600: RateAmounts(106, 6)}
    assert vat_change(after, before) == {1200: 100, 600: 6}
    assert vat_change(before, before) == {}


def test_every_cause_of_a_difference_is_named_and_they_add_up() -> None:
    rate = {2500: RateAmounts(12_500, 2_500)}
    days = [
        ZDay("s1", DAY, 7, "exported", control((2500, 12_500, 2_500))),  # booked in full: no cause
        ZDay("s1", DAY + timedelta(1), 8, "mismatch", control((2500, 25_000, 5_000))),
        ZDay("s2", DAY, 3, "exported", control((2500, 12_500, 2_500)), unbooked=("DC-00000000000000aa",)),
        ZDay("s3", DAY, 1, "open", control((2500, 12_500, 2_500))),
    ]
    vouchers = [
        voucher("DC-0000000000000001", rate),
        voucher("DC-0000000000000002", rate, day=DAY + timedelta(1), kind=VoucherKind.PARTIAL),
        voucher("DC-0000000000000003", rate, day=date(2026, 11, 30), store="s4", kind=VoucherKind.PARTIAL),
        # a day of October corrected in November, dated where it was found
        voucher("RV-0000000000000004", {2500: -rate[2500]}, day=date(2026, 10, 5), entry=date(2026, 11, 20)),
        voucher(
            "DC-0000000000000005",
            {2500: RateAmounts(12_500, 2_600)},
            day=date(2026, 10, 5),
            entry=date(2026, 11, 20),
            kind=VoucherKind.CORRECTION,
        ),
        # a day of November corrected in December
        voucher("RV-0000000000000006", {2500: -rate[2500]}, entry=date(2026, 12, 3), kind=VoucherKind.REVERSAL),
    ]
    report = build(NOV, days, vouchers)
    causes = {(c.cause, c.store_id, c.business_date) for c in report.causes}
    assert causes == {
        (Cause.RECONCILIATION_MISMATCH, "s1", DAY + timedelta(1)),
        (Cause.EXPORT_NOT_BOOKED, "s2", DAY),
        (Cause.DAY_NOT_BOOKED, "s3", DAY),
        (Cause.NO_Z_REPORT, "s4", date(2026, 11, 30)),
        (Cause.CORRECTION_DATED_INTO, "s1", date(2026, 10, 5)),
        (Cause.CORRECTION_DATED_OUTSIDE, "s1", DAY),
        (Cause.DAY_NOT_BOOKED, "s1", DAY),  # its reversal is booked (in December), its new voucher not yet
    }
    assert explained_total(report) == {r.rate: r.difference for r in report.rates if r.difference}
    assert [v.reference for v in report.vouchers] == [  # dated in November, by date, series and number
        "RV-0000000000000004",
        "DC-0000000000000005",
        "DC-0000000000000001",
        "DC-0000000000000002",
        "DC-0000000000000003",
    ]


def test_a_day_whose_single_purpose_card_paid_is_booked_in_full_with_no_difference() -> None:
    """The Z-report counts the lines a single-purpose card pays for; the books (and the return) do not."""
    z = ZDay("s1", DAY, 8, "exported", control((2500, 150_000, 30_000)), {2500: RateAmounts(100_000, 20_000)})
    report = build(NOV, [z], [voucher("DC-0000000000000001", {2500: RateAmounts(50_000, 10_000)})])
    (line,) = report.rates
    assert (line.z_report, line.supplies, line.booked) == (
        RateAmounts(150_000, 30_000),
        RateAmounts(50_000, 10_000),
        RateAmounts(50_000, 10_000),
    )
    assert not line.difference and report.causes == ()
    assert report.boxes == {"05": 40_000, "10": 10_000, "11": 0, "12": 0}


amounts = st.builds(RateAmounts, st.integers(-(10**7), 10**7), st.integers(-(10**6), 10**6))
per_rate = st.dictionaries(st.sampled_from([2500, 1200, 600, 0]), amounts, max_size=3)
days_in_nov = st.dates(date(2026, 10, 20), date(2026, 12, 10))


@given(
    st.lists(st.tuples(st.sampled_from(["s1", "s2"]), days_in_nov, per_rate, per_rate), max_size=8),
    st.lists(st.tuples(st.sampled_from(["s1", "s2", "s3"]), days_in_nov, days_in_nov, per_rate), max_size=12),
)
def test_the_causes_always_add_up_to_booked_minus_z_reports(
    zs: list[tuple[str, date, dict[int, RateAmounts], dict[int, RateAmounts]]],
    booked: list[tuple[str, date, date, dict[int, RateAmounts]]],
) -> None:
    days = {
        (store, day): ZDay(store, day, 1, "open", control(*((r, a.gross, a.vat) for r, a in z.items())), red)
        for store, day, z, red in zs
        if NOV.contains(day)
    }
    vouchers = [
        voucher(f"DC-{i:016x}", dict(a), day=day, entry=max(day, entry), store=store)
        for i, (store, day, entry, a) in enumerate(booked)
    ]
    report = build(NOV, list(days.values()), vouchers)
    assert explained_total(report) == total({r.rate: r.difference} for r in report.rates)
    z_total = total({r: RateAmounts(g, v)} for d in days.values() for r, g, v in d.control.vat)
    assert report.supplied == difference(z_total, total(d.redemptions for d in days.values()))


def test_voucher_kinds() -> None:
    assert kind_of("DAY_CLOSE", 7, False, False, False) == VoucherKind.DAY_CLOSE
    assert kind_of("DAY_CLOSE", 7, False, True, False) == VoucherKind.COMPLEMENT
    assert kind_of("MANUAL", None, False, False, False) == VoucherKind.PARTIAL
    assert kind_of("DAY_CLOSE", None, False, True, False) == VoucherKind.COMPLEMENT  # late sales after the close
    assert kind_of("CORRECTION", None, False, True, True) == VoucherKind.REVERSAL
    assert kind_of("DAY_CLOSE", 7, True, True, False) == VoucherKind.CORRECTION


def ledger(series: str, number: int, text: str, *rows: tuple[str, int]) -> LedgerVoucher:
    return LedgerVoucher(series, number, DAY, text, rows)


def test_bl_balances_against_dayclose_explained_voucher_by_voucher() -> None:
    ours = ledger("D", 1, "Dagsavslut ref DC-0000000000000001", ("1910", 12_500), ("2611", -2_500), ("3001", -10_000))
    missing = ledger("D", 2, "Dagsavslut ref DC-0000000000000002", ("1910", 1_250), ("2611", -250), ("3001", -1_000))
    invoice = ledger("A", 9, "Faktura 1001", ("1510", 6_250), ("2611", -1_250), ("3001", -5_000))
    twice = ledger("D", 3, "Dagsavslut ref DC-0000000000000001", *ours.rows)
    result = {
        c.account: c
        for c in compare([ours, invoice, twice], [("DC-0000000000000001", ours), ("DC-0000000000000002", missing)])
    }
    assert sorted(result) == ["2611", "3001"]  # only 26xx and 30xx
    vat = result["2611"]
    assert (vat.bl, vat.dayclose, vat.difference) == (-6_250, -2_750, -3_500)
    assert [(o.voucher, o.amount) for o in vat.other_vouchers] == [("A 9", -1_250), ("D 3", -2_500)]
    assert [(m.voucher, m.amount) for m in vat.missing_in_bl] == [("D 2", 250)]
    assert explained(vat) == vat.difference
    assert references_in("Rättelse av D 1 DC-0000000000000001 ref DC-00000000000000ab: X") == {
        "DC-0000000000000001",
        "DC-00000000000000ab",
    }
    assert references_in("ref DC-0000000000000001x") == set()

"""``dayclose vat-report``: its arguments and the table an accountant reads (kronor), from a report built by the
rules; the JSON is the API's model (tests/integration/pipeline/test_vat_report.py runs the command itself)."""

from __future__ import annotations

from datetime import date

import pytest

from backoffice.models_vat import VatReportOut
from dayclose.cli import build_parser
from dayclose.commands import vat_report as vat_report_cli
from mapping.ledger import LedgerVoucher, compare
from mapping.reconcile import ControlTotals
from mapping.vatamounts import RateAmounts
from mapping.vatperiods import DEFAULT_REPORTING, ReturnStatus, month
from mapping.vatreport import BookedVoucher, VoucherKind, ZDay, build
from service.vat_report import BLComparison, Comparison, Filing, VatPeriodReport

DAY = date(2026, 11, 24)


def result() -> VatPeriodReport:
    z = ZDay("s1", DAY, 7, "exported", ControlTotals(1, 24_900, ((2500, 24_900, 4_980),), ()))
    held = ZDay("s2", DAY, 3, "mismatch", ControlTotals(1, 12_500, ((2500, 12_500, 2_500),), ()))
    booked = BookedVoucher(
        "DC-0000000000000001", "D", 12, DAY, "s1", DAY, VoucherKind.DAY_CLOSE, {2500: RateAmounts(24_900, 4_980)}
    )
    ours = LedgerVoucher("D", 12, DAY, "Dagsavslut ref DC-0000000000000001", (("1686", 24_900), ("2611", -4_980)))
    other = LedgerVoucher("B", 1, DAY, "Faktura 1001", (("1510", 6_250), ("2611", -1_250)))
    report = build(month(2026, 11), [z, held], [booked])
    comparison = BLComparison(Comparison.COMPARED, compare([ours, other], [("DC-0000000000000001", ours)]))
    return VatPeriodReport("org-1", DEFAULT_REPORTING, Filing(date(2027, 1, 18), ReturnStatus.DUE), report, comparison)


def test_exactly_one_period_is_asked_for() -> None:
    parser = build_parser()
    args = parser.parse_args(["vat-report", "--org", "o", "--quarter", "2026Q4", "--json"])
    assert (args.func, args.quarter, args.json, args.no_bl) == (vat_report_cli.run, "2026Q4", True, False)
    with pytest.raises(SystemExit):
        parser.parse_args(["vat-report", "--org", "o", "--period", "2026-11", "--year", "2026"])
    with pytest.raises(SystemExit):
        parser.parse_args(["vat-report", "--org", "o"])


def test_the_table_shows_boxes_vouchers_causes_and_bl_in_kronor() -> None:
    text = vat_report_cli.render(result())
    assert "VAT reporting: MONTHLY (not set: assumed)" in text and "return deadline 2027-01-18 (DUE)" in text
    assert "ruta 05  Momspliktig försäljning (netto, 25/12/6 %)" in text and "299.20" in text  # 199.20 + 100.00
    assert "ruta 10" in text and "74.80" in text
    assert "D 12" in text and "DAY_CLOSE" in text and "DC-0000000000000001" in text
    assert "RECONCILIATION_MISMATCH  s2 2026-11-24: 25 %: -100.00 + VAT -25.00" in text
    assert "not dayclose's: B 1 2026-11-24 -12.50 Faktura 1001" in text


def test_the_json_is_the_apis() -> None:
    body = VatReportOut.of(result()).model_dump(mode="json")
    assert body["boxes"] == {"box_05": 29_920, "box_10": 7_480, "box_11": 0, "box_12": 0}
    (rate,) = body["rates"]
    assert rate["supplies"] == {"gross_ore": 37_400, "net_ore": 29_920, "vat_ore": 7_480}
    assert rate["difference"] == {"gross_ore": -12_500, "net_ore": -10_000, "vat_ore": -2_500}
    assert body["causes"][0]["cause"] == "RECONCILIATION_MISMATCH" and body["causes"][0]["explanation"]
    assert body["bl"]["accounts"][0]["other_vouchers"][0]["voucher"] == "B 1"

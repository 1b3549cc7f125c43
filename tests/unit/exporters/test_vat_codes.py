"""BL's account VAT codes: what each says about a rate (mapping/vatcodes.py), and pre-flight's use of them."""

from __future__ import annotations

from collections.abc import Collection
from datetime import date
from typing import Any

import pytest

from exporters.bl import preflight
from exporters.bl.kept import ChartFact, Company, Known
from mapping.periods import FiscalYear
from mapping.reversal import reverse
from mapping.vatcodes import rate_of_vat_code, vat_code_conflict
from mapping.voucher import Voucher, VoucherRow
from service.exporter import MerchantActionRequired
from service.reasons import ReasonCode


@pytest.mark.parametrize(
    ("code", "rate"),
    [("1", 2500), ("2", 1200), ("3", 600), ("0", None), ("", None), (None, None), ("9", None), (" 2 ", 1200)],
)
def test_what_each_vat_code_says_about_a_rate(code: object, rate: int | None) -> None:
    assert rate_of_vat_code(code) == rate


def test_only_a_sales_account_whose_code_names_another_rate_conflicts() -> None:
    assert vat_code_conflict("3002", 600, "2") == (
        "account 3002 has VAT code 2 (12 %) in Björn Lundén but takes sales at 6 % VAT"
    )
    assert vat_code_conflict("3002", 1200, "2") is None
    assert vat_code_conflict("3004", 0, "0") is None and vat_code_conflict("3003", 600, "") is None
    assert vat_code_conflict("2421", 2500, "3") is None  # a liability is not a sales account


class _Facts:
    """BL's answers, as if just fetched (fresh: the check refuses on them without asking again)."""

    def __init__(self, accounts: dict[str, dict[str, Any]]) -> None:
        self._accounts = {k: ChartFact(k, False, str(v.get("vatCode") or "")) for k, v in accounts.items()}
        self.forgotten: list[tuple[str, ...]] = []

    def financial_year(self, company: Company, day: date, *, fresh: bool = False) -> Known[FiscalYear]:
        return Known(FiscalYear("202601", date(2026, 1, 1), date(2026, 12, 31), True, "202601"), True)

    def accounts(
        self, company: Company, wanted: Collection[str], also: Collection[str] = (), *, fresh: bool = False
    ) -> Known[dict[str, ChartFact]]:
        return Known({k: v for k, v in self._accounts.items() if k in wanted}, True)

    def forget(self, company: Company, kinds: Collection[str]) -> None:
        self.forgotten.append(tuple(kinds))


def test_pre_flight_names_every_sales_account_whose_vat_code_contradicts_its_rate_but_never_blocks_a_reversal() -> None:
    voucher = Voucher(
        "D",
        date(2026, 4, 1),
        "Dagsavslut ref DC-1",
        "DC-1",
        (VoucherRow("1686", 15_000), VoucherRow("3002", -9_000), VoucherRow("3003", -5_400), VoucherRow("2621", -600)),
        sales_rates=(("3002", 600), ("3002", 1200), ("3003", 600)),
    )
    facts = _Facts(
        {"1686": {"vatCode": "0"}, "2621": {"vatCode": "0"}, "3002": {"vatCode": "2"}, "3003": {"vatCode": "3"}}
    )
    with pytest.raises(MerchantActionRequired) as caught:
        preflight.check(facts, voucher, Company.of("key"))  # type: ignore[arg-type]
    assert caught.value.reason_code == ReasonCode.ACCOUNT_VAT_CODE_MISMATCH
    assert caught.value.details["accounts"] == ["3002"]
    assert facts.forgotten == [("accounts",)]  # the retry after the merchant's fix asks BL for the accounts
    reversal = reverse(voucher, reference="RV-1")
    assert reversal.sales_rates == ()
    assert preflight.check(facts, reversal, Company.of("key")) == "202601"  # type: ignore[arg-type]

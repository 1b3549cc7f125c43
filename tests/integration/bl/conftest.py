"""Builders for the BL integration tests: a plausible day-close voucher in one line."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date

import pytest

from mapping.voucher import Voucher, VoucherRow

DAY = date(2026, 3, 14)


def day_close_voucher(
    day: date = DAY,
    *,
    series: str = "K",
    reference: str | None = None,
    cost_centre: str | None = None,
    extra_rows: tuple[VoucherRow, ...] = (),
) -> Voucher:
    """Cash 125.50 + card 1 000.00 + Swish 250.00 of 25 % sales, with VAT; unique reference."""
    ref = reference or f"DC-{uuid.uuid4().hex[:12]}"
    rows = (
        VoucherRow("1910", 12_550, cost_centre, "Kontant"),
        VoucherRow("1580", 100_000, cost_centre, "Kort"),
        VoucherRow("1930", 25_000, cost_centre, "Swish"),
        VoucherRow("3001", -110_040, cost_centre, "Försäljning 25 %"),
        VoucherRow("2611", -27_510, cost_centre, "Utgående moms 25 %"),
        *extra_rows,
    )
    return Voucher(series, day, f"Dagsavslut Butik 1 {day.isoformat()} Z-17 {ref}", ref, rows)


@pytest.fixture
def make_voucher() -> Callable[..., Voucher]:
    return day_close_voucher

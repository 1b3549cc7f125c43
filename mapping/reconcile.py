"""Reconcile a store-day's receipts against the Z-report's control totals before booking it.

A difference means events are missing (or extra): the pipeline waits a bounded time for late
events, then reports RECONCILIATION_MISMATCH naming each difference. Nothing is plugged. What the day's
events add up to is summed from its totals (:func:`mapping.totals_closing.control_totals`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from mapping.money import format_sek, percent


@dataclass(frozen=True, slots=True)
class ControlTotals:
    """The Z-report's totals, net of returns. ``vat`` is (rate bp, gross öre, VAT öre) per rate;
    ``payments`` is (method, öre) per payment method."""

    receipt_count: int
    grand_total_ore: int
    vat: tuple[tuple[int, int, int], ...]
    payments: tuple[tuple[str, int], ...]


@dataclass(frozen=True, slots=True)
class Difference:
    """One control total that differs: ``what`` names it, amounts are in öre (counts for receipts).

    ``explanation`` says how ``actual`` was arrived at, when that is more than a sum (the cash drawer).
    """

    what: str
    expected: int
    actual: int
    explanation: str = ""

    def describe(self) -> str:
        if self.what == "receipt_count":
            return f"receipt count: Z-report {self.expected}, received {self.actual}"
        text = f"{self.what}: Z-report {format_sek(self.expected)}, received {format_sek(self.actual)} SEK"
        return f"{text} ({self.explanation})" if self.explanation else text


def differences(
    expected: ControlTotals, actual: ControlTotals, vat_tolerance: Mapping[int, int] | None = None
) -> tuple[Difference, ...]:
    """Every control total where the receipts disagree with the Z-report; empty when they agree.

    ``vat_tolerance`` (öre per rate, see :mod:`mapping.totals_closing`) lets VAT per rate differ by that
    much: legal rounding of a POS that computes VAT per receipt or per day. Gross per rate, payments,
    the grand total and the receipt count must always agree exactly.
    """
    found: list[Difference] = []
    if expected.receipt_count != actual.receipt_count:
        found.append(Difference("receipt_count", expected.receipt_count, actual.receipt_count))
    if expected.grand_total_ore != actual.grand_total_ore:
        found.append(Difference("grand_total", expected.grand_total_ore, actual.grand_total_ore))
    exp_vat = {rate: (g, v) for rate, g, v in expected.vat}
    act_vat = {rate: (g, v) for rate, g, v in actual.vat}
    for rate in sorted(set(exp_vat) | set(act_vat)):
        eg, ev = exp_vat.get(rate, (0, 0))
        ag, av = act_vat.get(rate, (0, 0))
        if eg != ag:
            found.append(Difference(f"gross at {percent(rate)} % VAT", eg, ag))
        allowed = (vat_tolerance or {}).get(rate, 0)
        if abs(ev - av) > allowed:
            note = (
                f"more than the {format_sek(allowed)} SEK of rounding the Z_REPORT VAT policy allows"
                if vat_tolerance is not None
                else ""
            )
            found.append(Difference(f"VAT at {percent(rate)} %", ev, av, note))
    exp_pay = dict(expected.payments)
    act_pay = dict(actual.payments)
    for method in sorted(set(exp_pay) | set(act_pay)):
        if exp_pay.get(method, 0) != act_pay.get(method, 0):
            found.append(Difference(f"payments by {method}", exp_pay.get(method, 0), act_pay.get(method, 0)))
    return tuple(found)

"""Sales and output VAT per VAT rate: what a Z-report states, what a voucher books, and the momsdeklaration's
boxes. Pure, integer öre, signed as sales (a return is negative).

Per rate *r*, a store-day's Z-report states gross sales and VAT (its control totals); net = gross − VAT.

What a voucher books at *r* (:func:`booked_per_rate`), from what its export claimed (:mod:`mapping.totals`):

* every receipt line at *r*: gross and VAT (a single-purpose gift card's sale included: its transfer is the
  supply, ML 7 kap. 18 §);
* less each redemption of a single-purpose card of rate *r*: the part it pays, P, of which v is VAT: the
  goods it pays for were taxed when the card was sold (ML 5 kap. 40–42 §§), so that part is no supply again;
* plus the Z_REPORT policy's VAT rounding: + VAT, − net, gross unchanged.

A reversal books the negation of the voucher it reverses.

The momsdeklaration (SKV 4700) boxes from the supplies of a period (:func:`boxes`): **05** "Momspliktig
försäljning som inte ingår i ruta 06, 07 eller 08" = the net of the supplies at 25, 12 and 6 %; **10**, **11**,
**12** "Utgående moms 25 / 12 / 6 %" = their VAT. Supplies = the Z-reports' figures less the single-purpose
redemptions of the same days (the Z-report counts those lines like any other). 0 % lines are no box here:
they are multi-purpose gift cards sold (no supply at all) or exempt sales (box 42), which the Z-report does not
tell apart.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from mapping.buckets import LINE, REDEMPTION
from mapping.reconcile import ControlTotals
from mapping.totals import DayTotals

#: VAT rate (basis points) → the box of its output VAT.
VAT_BOX = {2500: "10", 1200: "11", 600: "12"}
#: The box of the net of the taxable supplies at those rates.
SALES_BOX = "05"
BOXES = (SALES_BOX, *VAT_BOX.values())


@dataclass(frozen=True, slots=True)
class RateAmounts:
    """Gross and VAT at one rate (öre, sales positive); net = gross − VAT."""

    gross: int = 0
    vat: int = 0

    @property
    def net(self) -> int:
        return self.gross - self.vat

    def __add__(self, other: RateAmounts) -> RateAmounts:
        return RateAmounts(self.gross + other.gross, self.vat + other.vat)

    def __sub__(self, other: RateAmounts) -> RateAmounts:
        return RateAmounts(self.gross - other.gross, self.vat - other.vat)

    def __neg__(self) -> RateAmounts:
        return RateAmounts(-self.gross, -self.vat)

    def __bool__(self) -> bool:
        return bool(self.gross or self.vat)


#: Amounts per VAT rate (basis points). Rates whose amounts are all zero are left out.
PerRate = Mapping[int, RateAmounts]


def total(parts: Iterable[PerRate]) -> dict[int, RateAmounts]:
    out: defaultdict[int, RateAmounts] = defaultdict(RateAmounts)
    for part in parts:
        for rate, amounts in part.items():
            out[rate] = out[rate] + amounts
    return {rate: amounts for rate, amounts in sorted(out.items()) if amounts}


def negated(amounts: PerRate) -> dict[int, RateAmounts]:
    return {rate: -a for rate, a in amounts.items()}


def difference(minuend: PerRate, subtrahend: PerRate) -> dict[int, RateAmounts]:
    return total([minuend, negated(subtrahend)])


def z_report_per_rate(control: ControlTotals) -> dict[int, RateAmounts]:
    """What a Z-report states per rate."""
    return total([{rate: RateAmounts(gross, vat) for rate, gross, vat in control.vat}])


def redemptions_per_rate(totals: DayTotals) -> dict[int, RateAmounts]:
    """The single-purpose gift card redemptions of a day per card rate: P and the VAT v in it."""
    return total([{rate: RateAmounts(p, v)} for _, rate, (p, v, _, _) in totals.of_kind(REDEMPTION)])


def lines_per_rate(totals: DayTotals) -> dict[int, RateAmounts]:
    """Σ receipt lines per rate: the Z-report a day's receipts add up to."""
    return total([{rate: RateAmounts(gross, vat)} for _, rate, (gross, vat, _, _) in totals.of_kind(LINE)])


def booked_per_rate(totals: DayTotals, vat_adjustment: Mapping[int, int]) -> dict[int, RateAmounts]:
    """What a voucher built from ``totals`` (and the Z_REPORT rounding ``vat_adjustment``, + = more VAT) books
    per rate (see the module docstring)."""
    adjusted = {rate: RateAmounts(0, amount) for rate, amount in vat_adjustment.items()}
    return total([lines_per_rate(totals), negated(redemptions_per_rate(totals)), adjusted])


def supplies(z_report: PerRate, redemptions: PerRate) -> dict[int, RateAmounts]:
    """The taxable supplies per rate: the Z-report less single-purpose redemptions."""
    return difference(z_report, redemptions)


def boxes(supplied: PerRate) -> dict[str, int]:
    """Boxes 05, 10, 11 and 12 of the momsdeklaration, in öre, from the supplies per rate."""
    out = dict.fromkeys(BOXES, 0)
    for rate, amounts in supplied.items():
        if rate in VAT_BOX:
            out[SALES_BOX] += amounts.net
            out[VAT_BOX[rate]] += amounts.vat
    return out


def vat_change(after: PerRate, before: PerRate) -> dict[int, int]:
    """The output VAT per rate that changes from ``before`` to ``after`` (only the rates that change)."""
    return {rate: a.vat for rate, a in difference(after, before).items() if a.vat}

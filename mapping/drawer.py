"""The cash drawer, reconciled before a day close is booked.

What the till should hold at close follows from the day's events alone:

    expected cash = opening float + cash payments (returns negative) + deposits − withdrawals
                    ± float changes − tip payouts

Every term covers the **whole business day**, including what earlier (manual) exports already booked.
It must equal the Z-report's ``expected_cash_ore``; otherwise an event the POS counted never reached
us (a dead-lettered cash withdrawal, say), and booking the day would leave 1910 (kassa) wrong with
nothing to show for it. The difference is reported as a ``RECONCILIATION_MISMATCH`` naming every
figure, and the day waits, like any other control total that does not agree.

Tip payouts leave the till (cash goes to staff), so they are subtracted. A Z-report without a cash
count (no ``expected_cash_ore``) skips the drawer; one without ``gift_card_expired_total_ore`` skips
the expired gift cards' check.

The terms are summed from the day's totals and compared with the Z-report in :mod:`mapping.totals_closing`
(:func:`~mapping.totals_closing.cash_drawer`, :func:`~mapping.totals_closing.drawer_differences`).
"""

from __future__ import annotations

from dataclasses import dataclass

from mapping.money import format_sek


@dataclass(frozen=True, slots=True)
class CashDrawer:
    """The terms of the expected cash, each in öre as it changes the till (withdrawals as a positive sum)."""

    opening_float_ore: int
    cash_payments_ore: int
    deposits_ore: int
    withdrawals_ore: int
    float_changes_ore: int
    tip_payouts_ore: int

    @property
    def expected_ore(self) -> int:
        return (
            self.opening_float_ore
            + self.cash_payments_ore
            + self.deposits_ore
            - self.withdrawals_ore
            + self.float_changes_ore
            - self.tip_payouts_ore
        )

    def explain(self) -> str:
        return (
            f"opening float {format_sek(self.opening_float_ore)} + cash payments "
            f"{format_sek(self.cash_payments_ore)} + deposits {format_sek(self.deposits_ore)} − withdrawals "
            f"{format_sek(self.withdrawals_ore)} + float changes {format_sek(self.float_changes_ore)} − tip "
            f"payouts {format_sek(self.tip_payouts_ore)}"
        )

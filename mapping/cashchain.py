"""The till's cash from one Z-report to the next: today's opening float is what the previous close counted, less
what left the till on record since.

Each day's drawer is reconciled on its own (:mod:`mapping.drawer`): opening float + the day's cash = expected, and
counted − expected is booked as a cash difference. That says nothing about the cash *between* two days. If the
previous close counted 19 097.00 and today opened with 2 000.00, then 17 097.00 left the till; unless a
withdrawal (to the bank, say) was recorded for it, 1910 (kassa) keeps 17 097.00 the till does not have, and every
day still reconciles. So, per register, from one Z-report P to the next one C:

    C's opening float = P's counted cash + the cash effect of the register's movements recorded after P's close
                        (deposits +, withdrawals −, float changes ±, tip payouts −)

A reopened day (P and C of the same business date, C cumulative for the day) opened once: C's opening float is
P's. A break is never absorbed (nothing is booked for it): it is a WARNING with both figures, the amount missing
and the two Z numbers, and a line on C's day report. Checked only between consecutive Z numbers (a gap is its own
warning, :mod:`mapping.zsequence`) and when both report their cash and C its opening float.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from mapping.money import format_sek

BREAK = "CASH_CHAIN_BREAK"


@dataclass(frozen=True, slots=True)
class CashChainLink:
    """Two consecutive Z-reports of one register and the cash moved between them on record."""

    register_id: str
    previous_z: int
    previous_date: date
    previous_counted_ore: int
    previous_opening_ore: int
    #: The cash effect of the register's movements recorded after the previous close (before this day's).
    moved_between_ore: int
    z: int
    business_date: date
    opening_float_ore: int

    @property
    def reopened(self) -> bool:
        return self.previous_date == self.business_date

    @property
    def expected_opening_ore(self) -> int:
        if self.reopened:
            return self.previous_opening_ore
        return self.previous_counted_ore + self.moved_between_ore

    @property
    def missing_ore(self) -> int:
        """Cash that left the till with nothing on record (negative: cash that came in unrecorded)."""
        return self.expected_opening_ore - self.opening_float_ore

    @property
    def holds(self) -> bool:
        return self.missing_ore == 0

    def describe(self) -> str:
        """The link in words (English, for the outcome event), figures in SEK."""
        till = f"register {self.register_id} " if self.register_id else ""
        if self.reopened:
            basis = f"Z-report {self.previous_z} of the same day opened with {format_sek(self.previous_opening_ore)}"
        else:
            basis = (
                f"Z-report {self.previous_z} of {self.previous_date.isoformat()} counted "
                f"{format_sek(self.previous_counted_ore)}, {format_sek(self.moved_between_ore)} moved on record since"
            )
        head = (
            f"{till}Z-report {self.z} of {self.business_date.isoformat()} opened with "
            f"{format_sek(self.opening_float_ore)}; {basis}: expected {format_sek(self.expected_opening_ore)}"
        )
        if self.holds:
            return head
        return f"{head}, {format_sek(abs(self.missing_ore))} {'missing' if self.missing_ore > 0 else 'too much'}"

    def describe_sv(self) -> str:
        """The link in Swedish, for the day report."""
        if self.reopened:
            basis = f"samma ingående kassa som Z-rapport {self.previous_z} samma dag"
        else:
            basis = (
                f"Z-rapport {self.previous_z} ({self.previous_date.isoformat()}) räknade "
                f"{_kr(self.previous_counted_ore)}, därefter in/ut ur kassan {_kr(self.moved_between_ore)}"
            )
        text = f"Ingående kassa {_kr(self.opening_float_ore)}; {basis}: väntat {_kr(self.expected_opening_ore)}."
        if self.holds:
            return text + " Kassakedjan stämmer."
        sign = "saknas" if self.missing_ore > 0 else "för mycket"
        return f"{text} AVVIKELSE: {_kr(abs(self.missing_ore))} {sign} utan bokföring (ej bokförd, varning skickad)."


def _kr(amount_ore: int) -> str:
    whole, frac = divmod(abs(amount_ore), 100)
    return ("-" if amount_ore < 0 else "") + f"{whole:,}".replace(",", " ") + f",{frac:02d} kr"


def link_checkable(
    previous_z: int, current_z: int, previous_cash_reported: bool, current_cash_reported: bool, float_reported: bool
) -> bool:
    """Whether two Z-reports of a register form a link the chain can be checked on: consecutive numbers (a gap is
    warned about on its own), both with a cash count, the later one with its opening float."""
    return current_z == previous_z + 1 and previous_cash_reported and current_cash_reported and float_reported

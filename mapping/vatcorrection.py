"""Does a correction change the VAT of a period whose VAT return is due or filed? Pure.

Output VAT belongs to the period of the supply, the business date, wherever the correction is booked. A booked
correction replaces what the day's vouchers booked (``before``: the originals it reverses) by what the new
voucher books (``after``). When the output VAT per rate differs and the business date's VAT period has ended
(its return may be filed: due, or past due), the merchant must file a corrected momsdeklaration for that period
— a new, complete return — and must not declare the same change again in the period the correction is booked
in ("Momsreglerna säger att en momsdeklaration ska rättas genom att en ny korrekt momsdeklaration för samma
period skickas in", BFN's vägledning as Visma's support page on corrections in locked periods summarises it).
A period not yet ended needs nothing: its return will be made from corrected books.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from mapping.money import format_sek, percent
from mapping.periods import FiscalYear
from mapping.vatamounts import VAT_BOX, PerRate, vat_change
from mapping.vatperiods import ReturnStatus, VatPeriod, VatReporting, deadline, period_of, return_status


@dataclass(frozen=True)
class FiledVatChange:
    """The period whose return the correction changes, its deadline and state, and the change per rate."""

    period: VatPeriod
    deadline: date
    status: ReturnStatus
    #: Output VAT per rate (basis points), after − before, in öre; only rates that change.
    by_rate: dict[int, int]
    entry_date: date

    def describe_period(self) -> str:
        state = "past due" if self.status == ReturnStatus.PAST_DUE else "due"
        return f"VAT period {self.period.label}: return {state}, deadline {self.deadline.isoformat()}"

    def describe_rate(self, rate: int) -> str:
        box = f" (box {VAT_BOX[rate]})" if rate in VAT_BOX else ""
        change = self.by_rate[rate]
        return f"output VAT at {percent(rate)} %{box}: {'+' if change > 0 else ''}{format_sek(change)} SEK"


def filed_vat_change(
    business_date: date,
    entry_date: date,
    before: PerRate,
    after: PerRate,
    reporting: VatReporting,
    years: Sequence[FiscalYear],
    today: date,
) -> FiledVatChange | None:
    """The change to report, or None: no VAT changes, or the day's VAT period has not ended."""
    change = vat_change(after, before)
    if not change:
        return None
    period = period_of(business_date, reporting, years)
    status = return_status(period, reporting, today)
    if status == ReturnStatus.OPEN:
        return None
    return FiledVatChange(period, deadline(period, reporting), status, change, entry_date)

"""The day report's data (:class:`DayReport`, what :mod:`exporters.reporting` compiles from what is stored about a
booked export) and its Swedish formats (kronor, percent, receipt ranges): what :mod:`exporters.dayreport` renders and
:mod:`exporters.dayreport_sections` lays out. No PDF here."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from exporters.dayreport_books import Books
from mapping.reconcile import ControlTotals

PARTIAL, DAY_CLOSE, REVERSAL, CORRECTION = "partial", "day_close", "reversal", "correction"
#: Up to this many receipts, a partial export lists every receipt number.
LIST_RECEIPTS_UP_TO = 12


@dataclass(frozen=True, slots=True)
class ReportRow:
    account: str
    account_name: str
    amount_ore: int
    cost_centre: str | None = None
    #: What the row books (the kind of event: :mod:`mapping.rows`); None on rows booked before rows had texts.
    text: str | None = None


@dataclass(frozen=True, slots=True)
class CorrectionNote:
    """Who corrected what, when and why (Bokföringslagen 5 kap. 5 §)."""

    reason: str
    requested_by: str
    requested_at: datetime
    originals: tuple[str, ...]
    in_original_period: bool
    #: How the date was decided (:class:`mapping.periods.Dating`; "" for corrections recorded before it was kept).
    dating: str = ""
    #: The day the correction was made, where the error is found.
    found_on: date | None = None
    #: The accountant's statement that the original period's work is not finished (the original period asked).
    statement: str | None = None


@dataclass(frozen=True, slots=True)
class DayReport:
    kind: str
    company_name: str
    store_id: str
    store_name: str
    business_date: date
    reference: str
    series: str
    number: int
    entry_date: date
    voucher_text: str
    rows: tuple[ReportRow, ...]
    z_report_number: int | None = None
    receipt_numbers: tuple[str, ...] = ()
    #: The Z-report's control totals for the whole day (None for a partial export).
    control: ControlTotals | None = None
    #: The totals of the receipts this voucher books (per VAT rate and payment method).
    totals: ControlTotals | None = None
    #: Earlier partial vouchers of the day this one complements: "D 12 (DC-…)".
    complements: tuple[str, ...] = ()
    #: The voucher this one reverses, for a reversal: "D 12 (DC-…)".
    reverses: str | None = None
    correction: CorrectionNote | None = None
    #: A partial export of sales that came after the day was closed and booked: that voucher, "D 12 (DC-…)".
    late_after: str | None = None
    extra_lines: tuple[str, ...] = field(default=())
    #: The company's organisation number (from BL), the register, the date the report was compiled (the voucher's
    #: booking; the entry date when not known), the Z-reports of the day it replaces, and the rows' underlag.
    org_number: str | None = None
    register_id: str = ""
    compiled_on: date | None = None
    superseded: tuple[int, ...] = ()
    books: Books | None = None
    #: Late sales booked without a Z-report of their own: the Z-report they follow; a sale paid by invoice.
    complements_z: int | None = None
    invoice: str | None = None

    @property
    def voucher_label(self) -> str:
        return f"{self.series} {self.number}"

    @property
    def filename(self) -> str:
        what = {REVERSAL: "Aterforing", CORRECTION: "Rattelse"}.get(self.kind, "Dagsrapport")
        store = "".join(ch if ch.isalnum() or ch in "-." else "-" for ch in self.store_id)[:40]
        return f"{what}_{store}_{self.business_date.isoformat()}_{self.reference}.pdf"


def kronor(amount_ore: int) -> str:
    """öre → "1 234,50" (Swedish: space thousands, comma decimals), integer arithmetic only."""
    sign = "-" if amount_ore < 0 else ""
    whole, frac = divmod(abs(amount_ore), 100)
    return f"{sign}{whole:,}".replace(",", " ") + f",{frac:02d}"


def percent(rate_bp: int) -> str:
    whole, frac = divmod(rate_bp, 100)
    return f"{whole} %" if frac == 0 else f"{whole},{frac:02d} %"


def receipt_range(numbers: Sequence[str]) -> str:
    """ "1–240 (240 kvitton)", or the list itself when short."""
    if not numbers:
        return "inga kvitton"
    ordered = sorted(numbers, key=natural_key)
    count = f"{len(ordered)} kvitto" if len(ordered) == 1 else f"{len(ordered)} kvitton"
    if len(ordered) <= 3:
        return f"{', '.join(ordered)} ({count})"
    return f"{ordered[0]}–{ordered[-1]} ({count})"


def natural_key(value: str) -> tuple[int, int, str]:
    return (0, int(value), "") if value.isdigit() else (1, 0, value)

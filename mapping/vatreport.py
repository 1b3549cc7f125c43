"""The VAT-period report: a period's Z-reports per rate against what the books hold for it, the difference
explained cause by cause, and the momsdeklaration's boxes. Pure: storage reads the facts, this adds them up.

For each VAT rate, three sums over the period:

* **Z-reports**: every store-day of the period that has one, its latest Z-report (a day closed again is covered
  whole by its later Z-report);
* **supplies**: the Z-reports less the single-purpose gift card redemptions of the same days (the Z-report counts
  the lines such a card pays for, but their VAT was due when the card was sold): what the period's return holds,
  and what the books should hold;
* **booked**: every voucher dayclose booked whose entry date is in the period — day closes, partial (manual)
  exports, complements, reversals and new vouchers of corrections — which is what BL's accounts hold for the
  period from dayclose.

Booked − supplies is split into causes whose amounts add up to it exactly, per rate (a cause of zero is left
out):

================================  ======================================================================
cause                             amount (booked − supplies)
================================  ======================================================================
``RECONCILIATION_MISMATCH``       a day whose Z-report does not match its sales: what is booked of it − its supplies
``EXPORT_NOT_BOOKED``             a day with an export refused by BL or still being posted: likewise
``DAY_NOT_BOOKED``                any other day whose booked amount is not its supplies (waiting, inactive,
                                  before the start date): likewise
``NO_Z_REPORT``                   a day booked (a partial export) without a Z-report: what is booked of it
``CORRECTION_DATED_OUTSIDE``      vouchers of the period's days dated in another period (a correction
                                  dated where it was found): − their amounts
``CORRECTION_DATED_INTO``         vouchers dated in the period for days of other periods: + their amounts
``AMOUNTS_UNKNOWN``               a day with a voucher whose per-rate amounts cannot be read any more
                                  (booked before running totals were kept, its sales since purged)
================================  ======================================================================

Day by day, booked in the period − supplies = (all booked for the day − supplies) − booked for the day outside
the period; adding the vouchers dated in from other days gives the whole difference, so the causes always sum
to it (a test checks the identity for generated periods).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

from mapping.reconcile import ControlTotals
from mapping.vatamounts import (
    PerRate,
    RateAmounts,
    boxes,
    difference,
    negated,
    supplies,
    total,
    z_report_per_rate,
)
from mapping.vatperiods import VatPeriod

#: (store, business date, register): Z-reports run per register ("" for a store's only one).
StoreDay = tuple[str, date, str]


class VoucherKind(StrEnum):
    DAY_CLOSE = "DAY_CLOSE"  # the day's voucher, booked at its day close
    PARTIAL = "PARTIAL"  # a manual export before the day close (Delexport)
    COMPLEMENT = "COMPLEMENT"  # what a day close (or late sales) booked after earlier vouchers of the day
    REVERSAL = "REVERSAL"  # a correction's reversal of an earlier voucher
    CORRECTION = "CORRECTION"  # the day booked anew by a correction


class Cause(StrEnum):
    RECONCILIATION_MISMATCH = "RECONCILIATION_MISMATCH"
    EXPORT_NOT_BOOKED = "EXPORT_NOT_BOOKED"
    DAY_NOT_BOOKED = "DAY_NOT_BOOKED"
    NO_Z_REPORT = "NO_Z_REPORT"
    CORRECTION_DATED_OUTSIDE = "CORRECTION_DATED_OUTSIDE"
    CORRECTION_DATED_INTO = "CORRECTION_DATED_INTO"
    AMOUNTS_UNKNOWN = "AMOUNTS_UNKNOWN"


#: What each cause means, for the report's readers.
CAUSE_TEXT = {
    Cause.RECONCILIATION_MISMATCH: "The day's sales do not match its Z-report: the day is held until that is resolved.",
    Cause.EXPORT_NOT_BOOKED: "Björn Lundén refused the day's voucher, or it is still being posted: see the day's "
    "export in the history.",
    Cause.DAY_NOT_BOOKED: "The day is not (fully) booked: waiting for its export, the integration inactive or the "
    "day before the start date, or a correction's new voucher not booked yet.",
    Cause.NO_Z_REPORT: "Sales of a day without a Z-report were booked (a manual export).",
    Cause.CORRECTION_DATED_OUTSIDE: "A voucher of this period's day is dated in another period (a correction "
    "dated where the error was found).",
    Cause.CORRECTION_DATED_INTO: "A voucher of another period's day is dated in this period (a correction dated "
    "where the error was found): its VAT belongs to that period's return.",
    Cause.AMOUNTS_UNKNOWN: "A voucher of the day was booked before running totals were kept and its sales are "
    "purged: its amounts per rate cannot be read; compare it in Björn Lundén.",
}


@dataclass(frozen=True)
class ZDay:
    """A register-day of the period with a Z-report: its latest one, its status, and the single-purpose gift card
    redemptions of the day (which the boxes leave out). ``unbooked`` are references of the day's exports that
    BL refused or that are still being posted."""

    store_id: str
    business_date: date
    z_report_number: int
    status: str
    control: ControlTotals
    redemptions: PerRate = field(default_factory=dict)
    unbooked: tuple[str, ...] = ()
    register_id: str = ""


@dataclass(frozen=True)
class BookedVoucher:
    """A voucher dayclose booked, with what it books per rate (``amounts_known`` False: unreadable)."""

    reference: str
    series: str
    number: int
    entry_date: date
    store_id: str
    business_date: date
    kind: VoucherKind
    amounts: PerRate
    amounts_known: bool = True
    register_id: str = ""


@dataclass(frozen=True)
class Explained:
    """One cause of the difference: where, how much per rate (booked − Z-report), and which vouchers."""

    cause: Cause
    store_id: str
    business_date: date
    amounts: PerRate
    vouchers: tuple[str, ...] = ()
    z_report_number: int | None = None
    register_id: str = ""


@dataclass(frozen=True)
class RateLine:
    rate: int
    z_report: RateAmounts
    supplies: RateAmounts
    booked: RateAmounts

    @property
    def difference(self) -> RateAmounts:
        return self.booked - self.supplies


@dataclass(frozen=True)
class VatReport:
    period: VatPeriod
    rates: tuple[RateLine, ...]
    #: Z-reports less single-purpose gift card redemptions: the supplies the boxes come from.
    supplied: PerRate
    redemptions: PerRate
    boxes: dict[str, int]
    vouchers: tuple[BookedVoucher, ...]
    causes: tuple[Explained, ...]
    z_days: int


def build(period: VatPeriod, days: Sequence[ZDay], vouchers: Iterable[BookedVoucher]) -> VatReport:
    """The report for ``period`` from its Z-report days and every booked voucher of its days or dated in it."""
    listed = sorted(vouchers, key=lambda v: (v.entry_date, v.series, v.number))
    in_period = [v for v in listed if period.contains(v.entry_date)]
    z_total = total(z_report_per_rate(d.control) for d in days)
    booked = total(v.amounts for v in in_period)
    redemptions = total(d.redemptions for d in days)
    supplied = supplies(z_total, redemptions)
    rates = tuple(
        RateLine(
            rate, z_total.get(rate, RateAmounts()), supplied.get(rate, RateAmounts()), booked.get(rate, RateAmounts())
        )
        for rate in sorted(set(z_total) | set(booked) | set(supplied))
    )
    return VatReport(
        period,
        rates,
        supplied,
        redemptions,
        boxes(supplied),
        tuple(in_period),
        tuple(_causes(period, days, listed)),
        len(days),
    )


def _causes(period: VatPeriod, days: Sequence[ZDay], vouchers: Sequence[BookedVoucher]) -> list[Explained]:
    by_day: defaultdict[StoreDay, list[BookedVoucher]] = defaultdict(list)
    for v in vouchers:
        by_day[(v.store_id, v.business_date, v.register_id)].append(v)
    z_days = {(d.store_id, d.business_date, d.register_id): d for d in days}
    found: list[Explained] = []
    for key in sorted(set(z_days) | {k for k in by_day if period.contains(k[1])}):
        found.extend(_day_causes(period, key, z_days.get(key), by_day.get(key, [])))
    for v in vouchers:
        if period.contains(v.entry_date) and not period.contains(v.business_date) and v.amounts:
            found.append(
                Explained(
                    Cause.CORRECTION_DATED_INTO,
                    v.store_id,
                    v.business_date,
                    v.amounts,
                    (v.reference,),
                    register_id=v.register_id,
                )
            )
    return found


def _day_causes(period: VatPeriod, key: StoreDay, z_day: ZDay | None, vouchers: list[BookedVoucher]) -> list[Explained]:
    store, day, register = key
    z = supplies(z_report_per_rate(z_day.control), z_day.redemptions) if z_day else {}
    z_number = z_day.z_report_number if z_day else None
    refs = tuple(v.reference for v in vouchers)
    found = []
    off = difference(total(v.amounts for v in vouchers), z)
    if any(not v.amounts_known for v in vouchers):
        found.append(Explained(Cause.AMOUNTS_UNKNOWN, store, day, off, refs, z_number, register))
    elif off:
        found.append(Explained(_why_not_booked(z_day), store, day, off, refs, z_number, register))
    outside = [v for v in vouchers if not period.contains(v.entry_date)]
    amounts = negated(total(v.amounts for v in outside))
    if amounts:
        found.append(
            Explained(
                Cause.CORRECTION_DATED_OUTSIDE,
                store,
                day,
                amounts,
                tuple(v.reference for v in outside),
                z_number,
                register,
            )
        )
    return found


def _why_not_booked(z_day: ZDay | None) -> Cause:
    if z_day is None:
        return Cause.NO_Z_REPORT
    if z_day.status == "mismatch":
        return Cause.RECONCILIATION_MISMATCH
    return Cause.EXPORT_NOT_BOOKED if z_day.unbooked else Cause.DAY_NOT_BOOKED


def explained_total(report: VatReport) -> dict[int, RateAmounts]:
    """The causes' amounts added up: equal to booked − supplies per rate."""
    return total(c.amounts for c in report.causes)


def kind_of(
    trigger: str, z_report_number: int | None, corrects: bool, earlier_booked: bool, reverses: bool
) -> VoucherKind:
    """What a booked voucher is, from its export: a reversal; the new voucher of a correction; the first voucher
    of a day with a Z-report (its day close); one with a Z-report after earlier vouchers, or late sales (a
    complement); else a partial export."""
    if reverses:
        return VoucherKind.REVERSAL
    if corrects:
        return VoucherKind.CORRECTION
    if z_report_number is not None:
        return VoucherKind.COMPLEMENT if earlier_booked else VoucherKind.DAY_CLOSE
    return VoucherKind.COMPLEMENT if trigger != "MANUAL" and earlier_booked else VoucherKind.PARTIAL

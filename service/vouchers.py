"""The voucher an export posts, built from what is stored: a reversal's stored voucher, the voucher an earlier
attempt stored before posting (it may be in BL already), or what the export claimed (its totals) through the
current plan."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from mapping.plan import AccountPlan
from mapping.totals import DayTotals
from mapping.totals_booking import StaleTotalsError, build_voucher_from_totals
from mapping.totals_closing import adjustment_rows, receipt_count
from mapping.voucher import Voucher
from service.messages import Trigger
from service.model import Export, StoredDayClose
from service.ports import UnitOfWork


def voucher_for(uow: Callable[[], UnitOfWork], export: Export, plan: AccountPlan | None) -> tuple[Voucher, int]:
    """(voucher, receipt count). Raises the money rules' errors (:mod:`mapping.errors`) when it cannot be built."""
    if export.trigger == Trigger.CORRECTION:  # a reversal: the exact negation of what was booked, stored
        with uow() as reading:
            return reading.exports.stored_voucher(export), 0
    if export.totals is None:  # an export from an earlier attempt (a fresh one comes with what it claimed)
        with uow() as reading:
            stored = reading.exports.posting_voucher(export)
        if stored is not None:  # it may be in BL already: post (after the look-up) exactly this one
            return stored
    plan = plan if plan is not None else AccountPlan(organization_id=export.organization_id, series="A")
    with uow() as reading:
        totals = export.totals or reading.exports.totals(export, plan.single_purpose_methods)
        close = reading.exports.day_close(export)
        name = close.store_name if close else reading.exports.store_name(export.organization_id, export.store_id)
        # Z-reports are cumulative for the day: book only the cash difference not booked by an earlier one.
        already = reading.day_closes.booked_cash_difference(export.organization_id, close) if close else 0
        by_rate = reading.exports.vat_adjustment(export) if close is not None else {}
        # The Z_REPORT VAT rounding fixed when this day-close export claimed, split over the sales accounts of
        # each rate as the whole day held them then.
        day = (export.day or reading.exports.day_snapshot(export)) if by_rate else None
        reading.commit()  # what was summed for an export migrated from before issue #16 is kept
    adjustment = adjustment_rows(by_rate, day, plan) if by_rate and day is not None else ()
    if close is not None and already:
        close = replace(
            close, day_close=replace(close.day_close, counted_cash_ore=close.day_close.counted_cash_ore - already)
        )
    try:
        voucher = _build(totals, plan, close, name, export, adjustment)
    except StaleTotalsError:
        # Summed for other single-purpose gift card methods than the plan has now: sum its rows again.
        with uow() as writing:
            totals = writing.exports.resum(export, plan.single_purpose_methods)
            writing.commit()
        voucher = _build(totals, plan, close, name, export, adjustment)
    return voucher, receipt_count(totals)


def _build(
    totals: DayTotals,
    plan: AccountPlan,
    close: StoredDayClose | None,
    name: str,
    export: Export,
    adjustment: tuple[tuple[str, int], ...],
) -> Voucher:
    return build_voucher_from_totals(
        totals,
        plan,
        close.day_close if close else None,
        store_name=name,
        reference=export.reference,
        vat_adjustment=adjustment,
        complements_z=export.complements_z,
        invoice=export.invoice,
    )

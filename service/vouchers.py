"""The voucher an export posts, built from what is stored: a reversal's stored voucher, the voucher an earlier
attempt stored before posting (it may be in BL already), or the export's sales through the current plan."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from mapping.aggregate import build_voucher
from mapping.plan import AccountPlan
from mapping.sales import CashMovement, GiftCardExpiry, Receipt, SalesBatch
from mapping.vatpolicy import adjustment_rows
from mapping.voucher import Voucher
from service.messages import SalesItem, Trigger
from service.model import Export
from service.ports import UnitOfWork


def voucher_for(
    uow: Callable[[], UnitOfWork], export: Export, plan: AccountPlan | None, preloaded: list[SalesItem] | None = None
) -> tuple[Voucher, int]:
    """(voucher, receipt count). Raises the money rules' errors (:mod:`mapping.errors`) when it cannot be built."""
    if export.trigger == Trigger.CORRECTION:  # a reversal: the exact negation of what was booked, stored
        with uow() as reading:
            return reading.exports.stored_voucher(export), 0
    if preloaded is None:  # an export from an earlier attempt (a fresh one comes with its claimed rows)
        with uow() as reading:
            stored = reading.exports.posting_voucher(export)
        if stored is not None:  # it may be in BL already: post (after the look-up) exactly this one
            return stored
    plan = plan if plan is not None else AccountPlan(organization_id=export.organization_id, series="A")
    with uow() as reading:
        items = preloaded if preloaded is not None else reading.exports.items(export)
        close = reading.exports.day_close(export)
        name = close.store_name if close else reading.exports.store_name(export.organization_id, export.store_id)
        # Z-reports are cumulative for the day: book only the cash difference not booked by an earlier one.
        already = reading.day_closes.booked_cash_difference(export.organization_id, close) if close else 0
        adjustment: tuple[tuple[str, int], ...] = ()
        by_rate = reading.exports.vat_adjustment(export) if close is not None else {}
        if by_rate:
            # The Z_REPORT VAT rounding fixed when this day-close export claimed its sales, split over the
            # whole day's sales accounts of each rate.
            day = reading.sales.exported_day_items(
                export.organization_id, export.store_id, export.business_date, besides=None
            )
            adjustment = adjustment_rows(by_rate, [i for i in day if isinstance(i, Receipt)], plan)
    if close is not None and already:
        close = replace(
            close, day_close=replace(close.day_close, counted_cash_ore=close.day_close.counted_cash_ore - already)
        )
    receipts = tuple(i for i in items if isinstance(i, Receipt))
    batch = SalesBatch(
        store_id=export.store_id,
        business_date=export.business_date,
        receipts=receipts,
        cash_movements=tuple(i for i in items if isinstance(i, CashMovement)),
        gift_card_expiries=tuple(i for i in items if isinstance(i, GiftCardExpiry)),
        day_close=close.day_close if close else None,
    )
    voucher = build_voucher(batch, plan, store_name=name, reference=export.reference, vat_adjustment=adjustment)
    return voucher, len(receipts)

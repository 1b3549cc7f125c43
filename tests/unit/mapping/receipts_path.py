"""A day's receipts (and other items) booked and decided through the one definition, :mod:`mapping.totals`: sum
them into a store-day's :class:`~mapping.totals.DayTotals`, then call :mod:`mapping.totals_booking` or
:mod:`mapping.totals_closing`. The product only ever books from stored running totals; the worked examples and
property tests state their days as receipts, so this is their way in. Not an independent computation: that is
``receipts_reference.py``, which the property tests compare these with.

Moved here from mapping/aggregate.py and vatpolicy.py, with ``SalesBatch``, ``DayTotals.of_batch`` and the receipts
forms of ``AccountPlan.missing_for``, ``mapping.reconcile.totals_of`` and ``mapping.drawer.drawer_differences``: only
tests used them (git history has them under those paths up to commit 26b505f)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from mapping import totals_booking, totals_closing
from mapping.errors import MissingItem, ReceiptImbalanceError, SinglePurposeRedemptionError
from mapping.plan import AccountPlan
from mapping.reconcile import ControlTotals, Difference
from mapping.register_day import CashMovement, DayClose, GiftCardExpiry, check_register_day
from mapping.sales import Receipt
from mapping.totals import DayTotals
from mapping.totals_closing import day_totals
from mapping.voucher import Voucher


@dataclass(frozen=True, slots=True)
class SalesBatch:
    """What the receipts path books: one store, one business date, possibly only part of the day.

    A manual export mid-day has no ``day_close``; the day close later exports only what is new since, plus the
    ``day_close`` itself. Every item must belong to this store and date, and ids are unique within the batch
    (:func:`mapping.register_day.check_register_day`, as the product checks the items it sums). Was
    ``mapping.sales.SalesBatch``; the product books stored totals, never a batch.
    """

    store_id: str
    business_date: date
    receipts: tuple[Receipt, ...] = ()
    cash_movements: tuple[CashMovement, ...] = ()
    gift_card_expiries: tuple[GiftCardExpiry, ...] = ()
    day_close: DayClose | None = None
    register_id: str = ""

    def __post_init__(self) -> None:
        close = () if self.day_close is None else (self.day_close,)
        items = [*self.receipts, *self.cash_movements, *self.gift_card_expiries, *close]
        check_register_day(self.store_id, self.business_date, self.register_id, items)

    @property
    def z_report_number(self) -> int | None:
        """The Z-report number: from the day close, else from any receipt that carries one."""
        if self.day_close is not None:
            return self.day_close.z_report_number
        return next((r.z_report_number for r in self.receipts if r.z_report_number is not None), None)


def totals_of_batch(batch: SalesBatch, single_purpose: Mapping[str, int]) -> DayTotals:
    """The totals of a batch's receipts, cash movements and expiries (its day close is not a sale); was
    ``DayTotals.of_batch``."""
    return DayTotals.of(
        batch.store_id,
        batch.business_date,
        [*batch.receipts, *batch.cash_movements, *batch.gift_card_expiries],
        single_purpose,
        register_id=batch.register_id,
    )


# --- the voucher (was mapping/aggregate.py) --------------------------------------------------------------------


def build_voucher(
    batch: SalesBatch,
    plan: AccountPlan,
    *,
    store_name: str,
    reference: str,
    entry_date: date | None = None,
    vat_adjustment: Sequence[tuple[str, int]] = (),
) -> Voucher:
    """Book ``batch`` through ``plan`` as one voucher dated the business date (unless overridden): its totals
    booked by :func:`mapping.totals_booking.build_voucher_from_totals`, with its checks and errors, except that
    receipts are named in the batch's order."""
    try:
        return totals_booking.build_voucher_from_totals(
            totals_of_batch(batch, plan.single_purpose_methods),
            plan,
            batch.day_close,
            store_name=store_name,
            reference=reference,
            entry_date=entry_date,
            vat_adjustment=vat_adjustment,
            z_report_number=batch.z_report_number,
        )
    except (ReceiptImbalanceError, SinglePurposeRedemptionError) as exc:
        # Totals know receipts by id only; a batch can name them in the order the day sold them.
        order = {r.receipt_id: i for i, r in enumerate(batch.receipts)}
        raise type(exc)(tuple(sorted(exc.receipts, key=lambda r: order[r.receipt_id]))) from None


def account_totals(
    batch: SalesBatch, plan: AccountPlan, vat_adjustment: Sequence[tuple[str, int]] = ()
) -> dict[str, int]:
    """Signed öre per account, before cost centres. Assumes the checks of :func:`build_voucher` have passed."""
    totals = totals_of_batch(batch, plan.single_purpose_methods)
    return totals_booking.account_totals(totals, plan, batch.day_close, vat_adjustment)


def missing_for(plan: AccountPlan, batch: SalesBatch) -> tuple[MissingItem, ...]:
    """Everything ``batch`` needs that ``plan`` does not map, sorted by kind then code (was
    ``AccountPlan.missing_for``)."""
    totals = totals_of_batch(batch, plan.single_purpose_methods)
    return totals_booking.missing_for(totals, plan, batch.day_close)


# --- the day close's decisions (were in mapping/reconcile.py, drawer.py and vatpolicy.py) ----------------------


def totals_of(receipts: Iterable[Receipt]) -> ControlTotals:
    """The control totals the given receipts (of one store-day) add up to (returns subtract)."""
    return totals_closing.control_totals(day_totals(receipts))


def drawer_differences(
    close: DayClose,
    receipts: Iterable[Receipt],
    movements: Iterable[CashMovement],
    expiries: Iterable[GiftCardExpiry],
) -> tuple[Difference, ...]:
    """Where the Z-report's cash and expired gift cards disagree with the whole day's events; empty if they agree."""
    return totals_closing.drawer_differences(close, day_totals([*receipts, *movements, *expiries]))


def vat_tolerance(policy: str, receipts: Iterable[Receipt]) -> dict[int, int] | None:
    """Öre of VAT difference per rate the policy accepts: None (exact) under EXACT, ½ öre per line at the
    rate under Z_REPORT (in whole öre: lines // 2). A 0 % rate carries no VAT, so it gets no tolerance."""
    return totals_closing.vat_tolerance(policy, day_totals(receipts))


def target_adjustment(policy: str, control: ControlTotals, receipts: Iterable[Receipt]) -> dict[int, int]:
    """Öre of VAT per rate the whole day must move from net sales to VAT (+) or back (−)."""
    return totals_closing.target_adjustment(policy, control, day_totals(receipts))


def adjustment_rows(
    delta_by_rate: Mapping[int, int], day_receipts: Iterable[Receipt], plan: AccountPlan
) -> tuple[tuple[str, int], ...]:
    """Signed öre per account (debit +) that move each rate's VAT difference between its VAT account and its sales
    accounts (:func:`mapping.totals_closing.adjustment_rows`)."""
    return totals_closing.adjustment_rows(delta_by_rate, day_totals(day_receipts), plan)

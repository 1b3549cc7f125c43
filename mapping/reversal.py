"""Corrections: a booked voucher is never edited; it is reversed, then booked anew."""

from __future__ import annotations

from datetime import date

from mapping.text import reversal_text
from mapping.voucher import Voucher, VoucherRow


def reverse(
    original: Voucher,
    *,
    reference: str,
    entry_date: date | None = None,
    original_voucher: str | None = None,
    business_date: date | None = None,
) -> Voucher:
    """The exact reversal of ``original``: same series, accounts and cost centres, every amount negated.

    Its text names the original's reference as well as the new ``reference``, so both vouchers
    can be found from either. It is dated like the original unless ``entry_date`` is given
    (e.g. when the original's period is locked and the correction goes into an open one).
    ``original_voucher`` (BL series + number, e.g. "D 12") and ``business_date`` name the original
    in the text too, when known.
    """
    if reference == original.reference:
        raise ValueError("a reversal needs its own reference, not the original's")
    return Voucher(
        series=original.series,
        entry_date=entry_date or original.entry_date,
        text=reversal_text(
            original.text,
            original.reference,
            reference,
            original_voucher=original_voucher,
            business_date=business_date,
        ),
        reference=reference,
        rows=tuple(
            VoucherRow(account=row.account, amount_ore=-row.amount_ore, cost_centre=row.cost_centre, text=row.text)
            for row in original.rows
        ),
        # No VAT code check on a reversal: it must undo what was booked even when that was booked wrongly.
        sales_rates=(),
    )

"""Dating a correction in the period where the error is found, in the export worker (which can ask BL).

Before the first reversal of a correction is posted, BL's fiscal years are read (fresh, not from a
cache) and :func:`mapping.periods.correction_date` decides the date from the day the correction was made
(or the original date, when the request asks for the original period and BL still takes it); it is stored
with the correction and every reversal of it is re-dated, so a retry after a crash posts exactly what was
decided (the look-up before posting searches by reference *and* date). The new voucher that books the day
anew carries the same date, and a text naming the vouchers it replaces.
"""

from __future__ import annotations

from dataclasses import replace

from mapping.periods import correction_date
from mapping.text import correction_text
from mapping.voucher import Voucher
from service.deps import ExportDeps
from service.messages import Trigger
from service.model import Export


def prepare(deps: ExportDeps, export: Export, voucher: Voucher, user_key: str) -> Voucher:
    """The voucher to post for ``export``: unchanged unless it is part of a correction. Raises
    :class:`mapping.periods.NoOpenPeriodError` or the exporter's errors (nothing is stored then)."""
    if export.trigger == Trigger.CORRECTION:
        return _reversal(deps, export, voucher, user_key)
    with deps.uow() as uow:
        correction = uow.corrections.of_new_export(export)
        uow.commit()  # the export is linked to the correction it books anew before anything is posted
        if correction is None or correction.entry_date is None:
            return voucher
        name = uow.exports.store_name(export.organization_id, export.store_id)
    originals = [(f"{o['series']} {o['number']}", o["reference"]) for o in correction.originals]
    text = correction_text(originals, export.business_date, export.reference, name)
    return replace(voucher, entry_date=correction.entry_date, text=text)


def _reversal(deps: ExportDeps, export: Export, voucher: Voucher, user_key: str) -> Voucher:
    with deps.uow() as uow:
        correction = uow.corrections.of_reversal(export)
        if correction is None:  # queued before corrections were recorded: dated as stored
            return voucher
        if correction.entry_date is not None and not uow.corrections.may_date(correction):
            return replace(voucher, entry_date=correction.entry_date)  # a reversal of it may be in BL: keep it
    decided = correction_date(
        correction.business_date,
        correction.found_on,
        deps.exporter.fiscal_years(user_key, fresh=True),
        not_before=correction.not_before,
        choice=correction.requested_period,
    )
    with deps.uow() as uow:
        uow.corrections.set_entry_date(correction, decided)
        uow.commit()
    return replace(voucher, entry_date=decided.entry_date)

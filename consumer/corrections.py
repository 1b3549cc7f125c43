"""Dating a correction by BL's period rules, in the export worker (which can ask BL).

Before the first reversal of a correction is posted, BL's fiscal years are read (fresh, not from a
cache) and :func:`mapping.periods.correction_date` decides the date; it is stored with the correction
and every reversal of it is re-dated, so a retry after a crash posts exactly what was decided (the
look-up before posting searches by reference *and* date). The new voucher that books the day anew
carries the same date, and a text naming the vouchers it replaces.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from psycopg_pool import ConnectionPool

from dayclose.db import corrections as db
from dayclose.db.exports import Export, store_name
from exporters.base import Exporter
from mapping.periods import correction_date
from mapping.text import correction_text
from mapping.voucher import Voucher


class CorrectionDating:
    def __init__(self, pool: ConnectionPool[Any], exporter: Exporter) -> None:
        self.pool = pool
        self.exporter = exporter

    def prepare(self, export: Export, voucher: Voucher, user_key: str) -> Voucher:
        """The voucher to post for ``export``: unchanged unless it is part of a correction. Raises
        :class:`mapping.periods.NoOpenPeriodError` or the exporter's errors (nothing is stored then)."""
        if export.trigger == db.CORRECTION:
            return self._reversal(export, voucher, user_key)
        with self.pool.connection() as conn:
            correction = db.correction_of_new_export(conn, export)
            if correction is None or correction.entry_date is None:
                return voucher
            name = store_name(conn, export.organization_id, export.store_id)
        originals = [(f"{o['series']} {o['number']}", o["reference"]) for o in correction.originals]
        text = correction_text(originals, export.business_date, export.reference, name)
        return replace(voucher, entry_date=correction.entry_date, text=text)

    def _reversal(self, export: Export, voucher: Voucher, user_key: str) -> Voucher:
        with self.pool.connection() as conn:
            correction = db.correction_of_reversal(conn, export)
            if correction is None:  # queued before corrections were recorded: dated as stored
                return voucher
            if not db.may_date(conn, correction):
                assert correction.entry_date is not None
                return replace(voucher, entry_date=correction.entry_date)
        decided = correction_date(correction.business_date, self.exporter.fiscal_years(user_key, fresh=True),
                                  correction.not_before)
        with self.pool.connection() as conn, conn.transaction():
            db.set_entry_date(conn, correction, decided.entry_date, decided.in_original_period)
        return replace(voucher, entry_date=decided.entry_date)

"""Corrections in PostgreSQL: a booked day is never edited. It is reversed (an exact reversal voucher referencing
the original), and only once that reversal is booked are the day's sales released and exported anew
through the current account plan. What is reversed, the reversal vouchers and the jobs are decided by
:mod:`service.correction_requests`; this module loads the originals (locked) and stores what it decided.

Who asked, when and why is stored with the correction (Bokföringslagen 5 kap. 5 §), with the day it was
made (the day the error is found) and, when the request asks for the original period, the accountant's
statement that the work on it is not finished. The date of the reversal and of the new voucher is decided
once, by the export worker from BL's fiscal years, before the first reversal is posted
(:mod:`mapping.periods`, :mod:`service.corrections`), and stored here.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from mapping.periods import CorrectionDate, PeriodChoice, same_period
from service.correction_requests import BookedOriginal, NewCorrection, NewReversal
from service.model import Correction, Export
from storage.codecs import voucher_from_json, voucher_to_json

#: The store-day's booked vouchers not reversed (nor being reversed), oldest first, locked: whether any row of
#: the sales each booked is still stored (retention purges them) is read in the same statement.
_ORIGINALS = """SELECT e.export_id, e.voucher, e.reference, e.voucher_series, e.voucher_number, e.event_count,
       EXISTS (SELECT 1 FROM unnest(e.sales_ids) r
               JOIN LATERAL (SELECT 1 FROM sales s WHERE s.organization_id = e.organization_id
                             AND s.store_id = e.store_id AND s.business_date = e.business_date
                             AND s.register_id = e.register_id
                             AND s.id >= lower(r) AND s.id < upper(r) LIMIT 1) s ON true)
FROM exports e
WHERE e.organization_id = %s AND e.store_id = %s AND e.business_date = %s
  AND e.status = 'booked' AND e.voucher IS NOT NULL AND e.trigger <> 'CORRECTION'
  AND coalesce(e.reason_code, '') <> 'REVERSED'
  AND NOT EXISTS (SELECT 1 FROM exports r WHERE r.reverses = e.export_id)
ORDER BY e.booked_at
FOR UPDATE"""


def booked_originals(conn: psycopg.Connection[Any], org: str, store: str, day: date) -> list[BookedOriginal]:
    rows = conn.execute(_ORIGINALS, (org, store, day)).fetchall()
    return [BookedOriginal(r[0], voucher_from_json(r[1]), r[2], r[3], r[4], r[5], r[6]) for r in rows]


def record_correction(conn: psycopg.Connection[Any], correction: NewCorrection) -> None:
    """The correction with who asked, when and why, and the vouchers it replaces (``originals``)."""
    asked = correction.request
    day = asked.business_date
    listed = [
        {
            "export_id": str(o.export_id),
            "reference": o.reference,
            "series": o.series,
            "number": o.number,
            "entry_date": o.voucher.entry_date.isoformat(),
            "business_date": day.isoformat(),
        }
        for o in correction.originals
    ]
    conn.execute(
        """INSERT INTO corrections (correction_id, organization_id, store_id, business_date, reason, requested_by,
                                    requested_via, originals, requested_period, period_statement, found_on)
           VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s,
                   coalesce(%s, (now() AT TIME ZONE 'Europe/Stockholm')::date))""",
        (
            correction.correction_id,
            asked.organization_id,
            asked.store_id,
            day,
            asked.reason,
            asked.requested_by,
            asked.via,
            Jsonb(listed),
            asked.period.value,
            asked.statement if asked.period == PeriodChoice.ORIGINAL else None,
            asked.found_on,
        ),
    )


def add_reversal(conn: psycopg.Connection[Any], correction: NewCorrection, reversal: NewReversal) -> bool:
    """The reversal export, with its original's sales and register; False when another correction of the same
    voucher committed meanwhile (``exports_one_reversal``: the transaction is aborted)."""
    asked = correction.request
    try:
        conn.execute(
            """INSERT INTO exports (export_id, reference, organization_id, store_id, business_date, trigger,
                                    status, event_count, voucher, reverses, correction_id,
                                    sales_ids, register_id, created_at)
               SELECT %s, %s, %s, %s, %s, 'CORRECTION', 'posting', 0, %s, %s, %s, o.sales_ids, o.register_id,
                      clock_timestamp()  -- not now(): the reversals are posted in the originals' order
               FROM exports o WHERE o.export_id = %s""",
            (
                reversal.export_id,
                reversal.reference,
                asked.organization_id,
                asked.store_id,
                asked.business_date,
                Jsonb(voucher_to_json(reversal.voucher)),
                reversal.original_id,
                reversal.correction_id,
                reversal.original_id,
            ),
        )
    except psycopg.errors.UniqueViolation:
        return False
    return True


def complete_correction(conn: psycopg.Connection[Any], reversal: Export) -> bool:
    """The reversal is booked: mark the original reversed, which releases its sales (the day's next claim
    books them again, :mod:`storage.claims`), and its day close open (call in the transaction that records the
    reversal as booked). False when ``reversal`` reverses nothing. The day's export anew is the service's job
    (:func:`service.correction_requests.complete`)."""
    row = conn.execute("SELECT reverses FROM exports WHERE export_id = %s", (reversal.export_id,)).fetchone()
    if row is None or row[0] is None:
        return False
    original = row[0]
    conn.execute(
        """UPDATE exports SET reason_code = 'REVERSED', updated_at = now(),
                  reason_details = jsonb_build_object('reversal_export_id', %s::text, 'reversal_reference', %s::text)
           WHERE export_id = %s""",
        (str(reversal.export_id), reversal.reference, original),
    )
    conn.execute(
        """UPDATE day_closes SET status = 'open'
           WHERE (organization_id, store_id, register_id, business_date, z_report_number) IN
               (SELECT organization_id, store_id, register_id, business_date, z_report_number FROM exports
                WHERE export_id = %s AND z_report_number IS NOT NULL)""",
        (original,),
    )
    return True


# --- dating, by the export worker (service.corrections) --------------------------------------------


def _correction(row: Any) -> Correction:
    return Correction(row[0], row[1], list(row[2]), row[3], row[4], row[5], PeriodChoice(row[6]))


_SELECT = """SELECT c.correction_id, c.business_date, c.originals, c.entry_date, c.new_export_id, c.found_on,
                    c.requested_period FROM corrections c"""


def correction_of_reversal(conn: psycopg.Connection[Any], export: Export) -> Correction | None:
    row = conn.execute(
        _SELECT + " JOIN exports e ON e.correction_id = c.correction_id WHERE e.export_id = %s",
        (export.export_id,),
    ).fetchone()
    return _correction(row) if row else None


def may_date(conn: psycopg.Connection[Any], correction: Correction) -> bool:
    """The date may be (re)decided while no reversal of the correction can be in BL: none booked, none
    posted with an unknown outcome (each is unleased and unattempted, or definitively refused)."""
    if correction.entry_date is None:
        return True
    row = conn.execute(
        """SELECT bool_and(status = 'failed' OR (status = 'posting' AND attempts = 0 AND lease_owner IS NULL))
           FROM exports WHERE correction_id = %s AND trigger = 'CORRECTION'""",
        (correction.correction_id,),
    ).fetchone()
    return bool(row and row[0])


def set_entry_date(conn: psycopg.Connection[Any], correction: Correction, decided: CorrectionDate) -> None:
    """Store the decided date (and how it was decided) and re-date every reversal of the correction not yet sent
    to BL."""
    entry_date = decided.entry_date
    conn.execute(
        "UPDATE corrections SET entry_date = %s, in_original_period = %s, dating = %s WHERE correction_id = %s",
        (entry_date, same_period(entry_date, correction.business_date), decided.dating.value, correction.correction_id),
    )
    conn.execute(
        """UPDATE exports SET voucher = jsonb_set(voucher, '{entry_date}', to_jsonb(%s::text)), updated_at = now()
           WHERE correction_id = %s AND trigger = 'CORRECTION' AND status <> 'booked'""",
        (entry_date.isoformat(), correction.correction_id),
    )


def correction_booked_anew_by(conn: psycopg.Connection[Any], export: Export) -> Correction | None:
    """The correction whose new voucher this export is (read only: linked before it was posted)."""
    row = conn.execute(_SELECT + " WHERE c.new_export_id = %s", (export.export_id,)).fetchone()
    return _correction(row) if row else None


def correction_of_new_export(conn: psycopg.Connection[Any], export: Export) -> Correction | None:
    """The correction this (non-reversal) export books the day anew for: the one it is linked to, or a
    correction of its store-day whose reversals are all booked and that has no new voucher yet (linked here;
    the caller commits the link before anything is posted)."""
    row = conn.execute(_SELECT + " WHERE c.new_export_id = %s", (export.export_id,)).fetchone()
    if row is not None:
        return _correction(row)
    row = conn.execute(
        _SELECT  # noqa: S608 - constants
        + """ WHERE c.organization_id = %s AND c.store_id = %s AND c.business_date = %s
                        AND c.new_export_id IS NULL AND c.entry_date IS NOT NULL
                        AND NOT EXISTS (SELECT 1 FROM exports r WHERE r.correction_id = c.correction_id
                                        AND r.trigger = 'CORRECTION' AND r.status <> 'booked')
                      ORDER BY c.requested_at LIMIT 1 FOR UPDATE""",
        (export.organization_id, export.store_id, export.business_date),
    ).fetchone()
    if row is None:
        return None
    conn.execute("UPDATE corrections SET new_export_id = %s WHERE correction_id = %s", (export.export_id, row[0]))
    conn.execute("UPDATE exports SET correction_id = %s WHERE export_id = %s", (row[0], export.export_id))
    return _correction(row)


class PostgresCorrections:
    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self.conn = conn

    def booked_originals(self, org: str, store: str, day: date) -> list[BookedOriginal]:
        return booked_originals(self.conn, org, store, day)

    def record(self, correction: NewCorrection) -> None:
        record_correction(self.conn, correction)

    def add_reversal(self, correction: NewCorrection, reversal: NewReversal) -> bool:
        return add_reversal(self.conn, correction, reversal)

    def complete(self, reversal: Export) -> bool:
        return complete_correction(self.conn, reversal)

    def of_reversal(self, export: Export) -> Correction | None:
        return correction_of_reversal(self.conn, export)

    def may_date(self, correction: Correction) -> bool:
        return may_date(self.conn, correction)

    def set_entry_date(self, correction: Correction, decided: CorrectionDate) -> None:
        set_entry_date(self.conn, correction, decided)

    def of_new_export(self, export: Export) -> Correction | None:
        return correction_of_new_export(self.conn, export)

    def booked_anew_by(self, export: Export) -> Correction | None:
        return correction_booked_anew_by(self.conn, export)

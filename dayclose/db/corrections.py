"""Corrections: a booked day is never edited. It is reversed (an exact reversal voucher referencing
the original), and only once that reversal is booked are the day's sales released and exported anew
through the current account plan. Both steps are exports with durable identities, so a crash or a
timeout anywhere in between is retried without booking anything twice.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from dayclose.db.exports import Export, voucher_from_json, voucher_to_json
from dayclose.db.sales import DAY_CLOSE, enqueue_job
from mapping.reversal import reverse

CORRECTION = "CORRECTION"


class NothingToCorrect(LookupError):
    pass


def request_reexport(conn: psycopg.Connection[Any], org: str, store: str, day: date) -> list[uuid.UUID]:
    """Queue the reversal of every booked, not yet reversed voucher of the store-day. Returns the ids of
    the reversal exports. The re-export follows by itself once each reversal is booked."""
    originals = conn.execute(
        """SELECT e.export_id, e.voucher FROM exports e
           WHERE e.organization_id = %s AND e.store_id = %s AND e.business_date = %s
             AND e.status = 'booked' AND e.voucher IS NOT NULL AND e.trigger <> 'CORRECTION'
             AND coalesce(e.reason_code, '') <> 'REVERSED'
             AND NOT EXISTS (SELECT 1 FROM exports r WHERE r.reverses = e.export_id)
           ORDER BY e.booked_at
           FOR UPDATE""",
        (org, store, day),
    ).fetchall()
    if not originals:
        raise NothingToCorrect(f"no booked voucher to correct for store {store} on {day}")
    created = []
    for original_id, stored in originals:
        export_id = uuid.uuid4()
        reference = "RV-" + export_id.hex[:16]
        reversal = reverse(voucher_from_json(stored), reference=reference)
        try:
            conn.execute(
                """INSERT INTO exports (export_id, reference, organization_id, store_id, business_date, trigger,
                                        status, event_count, voucher, reverses)
                   VALUES (%s, %s, %s, %s, %s, 'CORRECTION', 'posting', 0, %s, %s)""",
                (export_id, reference, org, store, day, Jsonb(voucher_to_json(reversal)), original_id),
            )
        except psycopg.errors.UniqueViolation:
            # Another correction of the same voucher committed meanwhile (exports_one_reversal).
            raise NothingToCorrect(f"a correction of store {store} on {day} is already queued") from None
        enqueue_job(conn, org, store, day, CORRECTION, f"correction:{export_id}")
        created.append(export_id)
    return created


def complete_correction(conn: psycopg.Connection[Any], reversal: Export) -> None:
    """The reversal is booked: release the original's sales, mark it reversed and queue the day's
    export anew (call in the transaction that records the reversal as booked)."""
    row = conn.execute("SELECT reverses FROM exports WHERE export_id = %s", (reversal.export_id,)).fetchone()
    if row is None or row[0] is None:
        return
    original = row[0]
    conn.execute("UPDATE sales_events SET export_id = NULL WHERE export_id = %s", (original,))
    conn.execute(
        """UPDATE exports SET reason_code = 'REVERSED', updated_at = now(),
                  reason_details = jsonb_build_object('reversal_export_id', %s::text, 'reversal_reference', %s::text)
           WHERE export_id = %s""",
        (str(reversal.export_id), reversal.reference, original),
    )
    conn.execute(
        """UPDATE day_closes SET status = 'open' WHERE (organization_id, store_id, business_date, z_report_number) IN
               (SELECT organization_id, store_id, business_date, z_report_number FROM exports
                WHERE export_id = %s AND z_report_number IS NOT NULL)""",
        (original,),
    )
    enqueue_job(conn, reversal.organization_id, reversal.store_id, reversal.business_date, DAY_CLOSE,
                f"reexport:{reversal.export_id}")

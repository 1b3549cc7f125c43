"""Read models for operators (``dayclose exports list|show``): exports across organizations, and everything about
one export an on-call engineer asks for: its state, why it failed, its lease, the job that will take it next, the
correction it belongs to and its day report. Reads only; retries go through :mod:`service.retries`."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import psycopg


@dataclass(frozen=True)
class ExportLine:
    """One export, as a line of ``dayclose exports list``."""

    export_id: str
    reference: str
    organization_id: str
    store_id: str
    business_date: date
    trigger: str
    status: str
    voucher_series: str | None
    voucher_number: int | None
    total_debit_ore: int | None
    attempts: int
    reason_code: str | None
    updated_at: datetime


_COLUMNS = """e.export_id::text, e.reference, e.organization_id, e.store_id, e.business_date, e.trigger, e.status,
              e.voucher_series, e.voucher_number, e.total_debit_ore, e.attempts, e.reason_code, e.updated_at"""


def find_exports(
    conn: psycopg.Connection[Any],
    *,
    org: str | None = None,
    store: str | None = None,
    since: date | None = None,
    until: date | None = None,
    status: str | None = None,
    limit: int = 50,
) -> tuple[list[ExportLine], int]:
    """Exports matching every filter given, newest business date first (at most ``limit``), and how many match."""
    rows = conn.execute(
        f"""SELECT {_COLUMNS}, count(*) OVER ()
            FROM exports e
            WHERE (%(org)s::text IS NULL OR e.organization_id = %(org)s)
              AND (%(store)s::text IS NULL OR e.store_id = %(store)s)
              AND (%(since)s::date IS NULL OR e.business_date >= %(since)s)
              AND (%(until)s::date IS NULL OR e.business_date <= %(until)s)
              AND (%(status)s::text IS NULL OR e.status = %(status)s)
            ORDER BY e.business_date DESC, e.organization_id, e.store_id, e.created_at DESC
            LIMIT %(limit)s""",  # noqa: S608 - constant columns
        {"org": org, "store": store, "since": since, "until": until, "status": status, "limit": limit},
    ).fetchall()
    total = int(rows[0][-1]) if rows else 0
    return [ExportLine(*r[:-1]) for r in rows], total


def export_detail(conn: psycopg.Connection[Any], key: str) -> dict[str, Any] | None:
    """One export by its id or its reference (``DC-…``, as in the voucher text), with its lease, the store's
    queued jobs, its correction and its day report; None when neither names an export."""
    try:
        by_id: uuid.UUID | None = uuid.UUID(key)
    except ValueError:
        by_id = None
    row = conn.execute(
        f"""SELECT {_COLUMNS}, e.z_report_number, e.event_count, e.reason_details, e.created_at, e.booked_at,
                   e.lease_owner, e.lease_until, e.reverses::text, e.correction_id::text, e.document_status,
                   e.document_id, e.document_name, st.name
            FROM exports e
            LEFT JOIN stores st ON st.organization_id = e.organization_id AND st.store_id = e.store_id
            WHERE e.export_id = %s OR e.reference = %s""",  # noqa: S608 - constant columns
        (by_id, key),
    ).fetchone()
    if row is None:
        return None
    names = [
        *ExportLine.__dataclass_fields__,
        "z_report_number",
        "event_count",
        "reason_details",
        "created_at",
        "booked_at",
        "lease_owner",
        "lease_until",
        "reverses",
        "correction_id",
        "document_status",
        "document_id",
        "document_name",
        "store_name",
    ]
    detail = dict(zip(names, row, strict=True))
    job_columns = ("trigger", "business_date", "not_before", "attempts", "queued_at", "leased_to", "lease_until")
    detail["jobs"] = [
        dict(zip(job_columns, job, strict=True))
        for job in conn.execute(
            """SELECT trigger, business_date, not_before, attempts, created_at, lease_owner, lease_until
               FROM export_jobs WHERE organization_id = %s AND store_id = %s ORDER BY id""",
            (detail["organization_id"], detail["store_id"]),
        ).fetchall()
    ]
    correction = conn.execute(
        "SELECT reason, requested_by, requested_via, requested_at FROM corrections WHERE correction_id = %s",
        (detail["correction_id"],),
    ).fetchone()
    detail["correction"] = (
        dict(zip(("reason", "requested_by", "requested_via", "requested_at"), correction, strict=True))
        if correction
        else None
    )
    return detail

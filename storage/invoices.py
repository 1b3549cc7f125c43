"""Sales paid by invoice leave a claim as exports of their own: one voucher per invoice (issue #21, finding 8).

The customer of an invoice sale is known, so the invoice is its verifikation (BFNAR 2013:2 p. 6.4–6.6), not a share
of the day's joint voucher. Such a receipt is summed into its register-day's totals like any other (the Z-report
counts it, and the day is reconciled against all of it), with an ``invoice`` bucket naming it. When a claim holds
invoice buckets, each of those receipts becomes an export of its own (its totals, its one row), and the claim's own
export books the rest: what it books and the rows it names leave the invoices out. Whether the invoice export is
posted or left to the invoicing is the plan's ``invoice_sales`` (decided when it is attempted, :mod:`service.attempts`).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg.types.json import Jsonb
from psycopg.types.multirange import Multirange
from psycopg.types.range import Range

from mapping.buckets import INVOICE
from mapping.sales import Receipt
from mapping.totals import DayTotals
from mapping.totals_closing import item_count
from service.messages import Trigger
from service.model import Export, ExportStatus
from storage.codecs import invoice_to_json, item_from_json

RegisterDay = tuple[str, Any, Any, str]


@dataclass(frozen=True)
class InvoicePart:
    """One invoice sale of a claim: its sales row and what it books."""

    row_id: int
    receipt: Receipt
    totals: DayTotals


def split(
    conn: psycopg.Connection[Any], day: RegisterDay, claimed: DayTotals, single_purpose: Mapping[str, int]
) -> list[InvoicePart]:
    """The invoice sales among what a claim books (one index probe per invoice, none without invoices)."""
    receipt_ids = [key for key, _, _ in claimed.of_kind(INVOICE)]
    if not receipt_ids:
        return []
    org, store, business_date, register = day
    rows = conn.execute(
        """SELECT id, payload FROM sales WHERE organization_id = %s AND event_key = ANY(%s) AND business_date = %s
             AND store_id = %s AND register_id = %s ORDER BY id""",
        (org, [f"receipt:{r}" for r in receipt_ids], business_date, store, register),
    ).fetchall()
    parts = []
    for row_id, payload in rows:
        receipt = item_from_json("receipt", store, business_date, payload, register)
        if isinstance(receipt, Receipt):
            totals = DayTotals.of(store, business_date, [receipt], single_purpose, register_id=register)
            parts.append(InvoicePart(int(row_id), receipt, totals))
    return parts


def excluded(parts: list[InvoicePart]) -> Multirange[int]:
    """The invoice sales' rows, for the claim's export to leave out of those it names."""
    return Multirange([Range(p.row_id, p.row_id, "[]") for p in parts])


def insert(
    conn: psycopg.Connection[Any],
    day: RegisterDay,
    parts: list[InvoicePart],
    trigger: Trigger,
    cumulative: DayTotals,
    upto: int,
) -> list[Export]:
    """An export per invoice sale (in the claim's transaction), at the claim's watermark."""
    org, store, business_date, register = day
    made = []
    for part in parts:
        export_id = uuid.uuid4()
        reference = "DC-" + export_id.hex[:16]
        invoice = part.receipt.invoice
        conn.execute(
            """INSERT INTO exports (export_id, reference, organization_id, store_id, business_date, register_id,
                                    trigger, status, event_count, totals, through, watermark, sales_ids, invoice)
               VALUES (%s, %s, %s, %s, %s, %s, %s, 'posting', %s, %s, %s, %s, %s, %s)""",
            (export_id, reference, org, store, business_date, register, trigger.value, item_count(part.totals),
             Jsonb(part.totals.to_json()), Jsonb(cumulative.to_json()), upto,
             Multirange([Range(part.row_id, part.row_id, "[]")]),
             Jsonb({**invoice_to_json(invoice), "receipt_id": part.receipt.receipt_id}) if invoice else None),
        )  # fmt: skip
        made.append(
            Export(
                export_id,
                reference,
                org,
                store,
                business_date,
                trigger,
                ExportStatus.POSTING,
                0,
                None,
                part.totals,
                cumulative,
                register,
                None,
                invoice,
            )  # fmt: skip
        )
    return made

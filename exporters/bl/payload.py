"""Voucher → BL's ``JournalEntryFullDto`` JSON, with amounts as exact two-place decimals; and back, a journal entry
of BL's answers → where it holds the voucher (:func:`booked_from_entry`), found by its reference
(:func:`reference_pattern`).

``json.dumps`` cannot write a ``Decimal`` without going through ``float``; :func:`dumps_exact`
writes it from its own text, so 1234.50 SEK is sent as ``1234.50`` and never ``1234.4999…``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from mapping.money import to_sek
from mapping.voucher import Voucher
from service.exporter import BookedVoucher


def dumps_exact(value: Any) -> str:
    """Compact JSON where ``Decimal`` is written verbatim; floats are refused."""
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"not a finite amount: {value}")
        return format(value, "f")
    if isinstance(value, float):
        raise TypeError("floats are not allowed in BL payloads")
    if isinstance(value, Mapping):
        items = (f"{json.dumps(str(k))}:{dumps_exact(v)}" for k, v in value.items())
        return "{" + ",".join(items) + "}"
    if isinstance(value, Sequence) and not isinstance(value, str | bytes):
        return "[" + ",".join(dumps_exact(v) for v in value) + "]"
    return json.dumps(value, ensure_ascii=False)


def journal_entry(voucher: Voucher, financial_year_id: str | None, document_ids: Sequence[int] = ()) -> dict[str, Any]:
    """The POST /journal body. Amounts are signed: debit positive, credit negative, as in BL."""
    entries: list[dict[str, Any]] = []
    for row in voucher.rows:
        entry: dict[str, Any] = {"accountId": row.account, "amount": to_sek(row.amount_ore)}
        if row.cost_centre:
            entry["costCenterId"] = row.cost_centre
        if row.text:
            entry["text"] = row.text
        entries.append(entry)
    body: dict[str, Any] = {
        "journalId": voucher.series,
        "journalEntryDate": voucher.entry_date.isoformat(),
        "journalEntryText": voucher.text,
        "ledgerEntries": entries,
    }
    if financial_year_id:
        body["financialYearId"] = financial_year_id
    if document_ids:
        body["documentIds"] = list(document_ids)
    return body


def reference_pattern(reference: str) -> re.Pattern[str]:
    """Matches the reference as a whole token, so ``R-1`` never matches inside ``R-10``."""
    return re.compile(r"(?<![\w-])" + re.escape(reference) + r"(?![\w-])")


def booked_from_entry(
    entry: dict[str, Any], voucher: Voucher, already_existed: bool, document_ids: list[int] | None = None
) -> BookedVoucher:
    """Where BL holds a voucher, from a journal entry of its answers (a post's, or a look-up's)."""
    raw_date = entry.get("journalEntryDate")
    return BookedVoucher(
        series=str(entry.get("journalId") or voucher.series),
        number=int(entry["journalEntryId"]),
        entry_date=date.fromisoformat(str(raw_date)) if raw_date else voucher.entry_date,
        reference=voucher.reference,
        already_existed=already_existed,
        document_id=document_ids[0] if document_ids else None,
        entity_id=int(entry["entityId"]) if entry.get("entityId") is not None else None,
    )

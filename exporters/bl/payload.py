"""Voucher → BL's ``JournalEntryFullDto`` JSON, with amounts as exact two-place decimals.

``json.dumps`` cannot write a ``Decimal`` without going through ``float``; :func:`dumps_exact`
writes it from its own text, so 1234.50 SEK is sent as ``1234.50`` and never ``1234.4999…``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from mapping.money import to_sek
from mapping.voucher import Voucher


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

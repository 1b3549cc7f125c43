"""BL's journal for a period, for the VAT report's comparison of balances (:class:`service.vat_report.Ledger`),
over the exporter's own client: the same token, rate limit, retries and error mapping.

BL's API has no balance endpoint (the OpenAPI document in devstack/bl_standin); ``GET /journal/entry/batch``
between two dates lists every voucher with its ledger rows, which is what a balance is summed from.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from exporters.bl.client import TooManyEntries
from exporters.bl.errors import BLHttpError, RetryableFailure, to_export_error
from exporters.bl.exporter import BLExporter
from mapping.ledger import LedgerVoucher
from mapping.money import parse_sek
from service.exporter import ExportError
from service.reasons import ReasonCode


class BLLedger:
    def __init__(self, exporter: BLExporter) -> None:
        self.exporter = exporter

    def vouchers(self, user_key: str, start: date, end: date) -> list[LedgerVoucher]:
        try:
            entries = self.exporter.client.journal_entries(user_key, start, end)
        except (BLHttpError, RetryableFailure) as exc:
            raise to_export_error(exc) from None
        except TooManyEntries as exc:
            raise ExportError(ReasonCode.INVALID_REQUEST, str(exc)) from None
        return [_voucher(e) for e in entries if e.get("journalEntryDate") and start <= _day(e) <= end]


def _day(entry: dict[str, Any]) -> date:
    return date.fromisoformat(str(entry["journalEntryDate"]))


def _voucher(entry: dict[str, Any]) -> LedgerVoucher:
    rows = tuple(
        (str(row.get("accountId") or ""), parse_sek(row["amount"]))
        for row in entry.get("ledgerEntries") or []
        if row.get("amount") is not None
    )
    return LedgerVoucher(
        str(entry.get("journalId") or ""),
        int(entry.get("journalEntryId") or 0),
        _day(entry),
        str(entry.get("journalEntryText") or ""),
        rows,
    )

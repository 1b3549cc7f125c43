"""BL's rules for booking a voucher (``POST /journal``) as the stand-in applies them to a company's books
(:class:`devstack.bl_standin.state.Company`): the series, the financial year and its locked periods, accounts and
cost centres, the balance, the documents named; each refusal with BL's error code."""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from devstack.bl_standin.api_error import bad
from devstack.bl_standin.state import Company, Entry, period_of

#: Journal entries get their own entity ids, distinct from the company's.
ENTRY_ENTITY_BASE = 50_000


def book(company: Company, body: dict[str, Any]) -> Entry:
    """``POST /journal``: BL's rules for a new voucher, in the order BL checks them; the entry booked."""
    with company.lock:
        journal_id = body.get("journalId")
        if not journal_id:
            raise bad("JOURNAL_ID_NOT_SPECIFIED", "journalId is required")
        if len(journal_id) > 1:
            raise bad("JOURNAL_ID_MAX_1_CHARACTER", "journalId is at most one character")
        if journal_id not in company.series:
            raise bad("JOURNAL_SERIES_NOT_FOUND", f"Journal series {journal_id} not found")
        day = _date(body.get("journalEntryDate"), "journalEntryDate")
        fy = company.financial_year_for(day)
        if fy is None or body.get("financialYearId") not in (None, fy.id):
            raise bad("DATE_OUTSIDE_FINANCIAL_YEAR", f"Date {day} is outside the financial year")
        if not fy.open:
            raise bad("FINANCIAL_YEAR_IS_CLOSED", f"Financial year {fy.id} is closed")
        if period_of(day) < fy.first_open_period:
            raise bad("JOURNAL_ENTRY_DATE_NOT_ALLOWED_IN_LOCKED_PERIOD", f"Period {period_of(day)} is locked")
        rows = _rows(company, body.get("ledgerEntries") or [])
        total = sum((r["amount"] for r in rows), Decimal(0))
        if total != 0:
            raise bad("JOURNAL_ENTRY_NOT_IN_BALANCE", f"Journal entry not in balance: difference {total}")
        document_ids = [int(d) for d in body.get("documentIds") or []]
        missing_docs = [d for d in document_ids if d not in company.documents]
        if missing_docs:
            raise bad("DOCUMENT_NOT_FOUND", f"Documents not found: {missing_docs}")
        number = 1 + max(
            (e.number for e in company.entries if e.journal_id == journal_id and e.financial_year_id == fy.id),
            default=0,
        )
        entry = Entry(
            journal_id,
            number,
            day,
            str(body.get("journalEntryText") or ""),
            fy.id,
            rows,
            document_ids,
            entity_id=ENTRY_ENTITY_BASE + len(company.entries) + 1,
        )
        company.entries.append(entry)
        for doc_id in document_ids:
            company.documents[doc_id]["attached_to"].append(entry.entity_id)
        return entry


def _rows(company: Company, ledger: list[dict[str, Any]]) -> list[dict[str, Any]]:
    if not ledger:
        raise bad("JOURNAL_ENTRY_NOT_CREATED_VALID_ROWS_MISSING", "No ledger entries")
    rows = []
    for line, item in enumerate(ledger, start=1):
        account = str(item.get("accountId") or "")
        if account not in company.accounts:
            raise bad("ACCOUNT_NOT_FOUND", f"Account {account} not found")
        if company.accounts[account]["closed"]:
            raise bad("ACCOUNT_IS_BLOCKED", f"Account {account} is blocked")
        amount = _amount(item.get("amount"))
        centre = item.get("costCenterId")
        if centre and (centre not in company.cost_centres or company.cost_centres[centre]["closed"]):
            raise bad("COSTCENTER_NOT_FOUND", f"Cost center {centre} not found")
        rows.append(
            {
                "line": line,
                "accountId": account,
                "amount": amount,
                "costCenterId": centre,
                "text": item.get("text"),
            }
        )
    return rows


def _date(value: object, name: str) -> date:
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise bad("DATE_FORMAT_ERROR", f"{name} must be YYYY-MM-DD, got {value!r}") from None


def _amount(value: object) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        raise bad("AMOUNT_NOT_SPECIFIED", "amount must be a number")
    try:
        amount = Decimal(value)
        if amount != amount.quantize(Decimal("0.01")):
            raise bad("VALUE_INVALID", f"amount {amount} has more than two decimals")
    except InvalidOperation:
        raise bad("VALUE_INVALID", f"amount {value} is not a number") from None
    return amount

"""One BL company's books as the stand-in keeps them; BL's rules for booking a voucher are in
:mod:`devstack.bl_standin.booking`."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from devstack.bl_standin import chart
from devstack.bl_standin.api_error import ApiFailure


@dataclass
class FinancialYear:
    id: str
    from_date: date
    to_date: date
    open: bool = True
    first_open_period: str = ""

    def covers(self, day: date) -> bool:
        return self.from_date <= day <= self.to_date

    def to_json(self, entity_id: int, latest: date | None) -> dict[str, Any]:
        out: dict[str, Any] = {
            "entityId": entity_id,
            "id": self.id,
            "fromDate": self.from_date.isoformat(),
            "toDate": self.to_date.isoformat(),
            "firstOpenPeriod": self.first_open_period,
            "open": self.open,
            "openingBalanceClosed": False,
            "closingActive": not self.open,
            "blockFollowingOpeningBalance": False,
        }
        if latest:
            out["latestVoucherDate"] = latest.isoformat()
        return out

    @classmethod
    def calendar(cls, year: int) -> FinancialYear:
        return cls(f"{year}01", date(year, 1, 1), date(year, 12, 31), True, f"{year}01")


@dataclass
class Entry:
    journal_id: str
    number: int
    entry_date: date
    text: str
    financial_year_id: str
    rows: list[dict[str, Any]]
    document_ids: list[int]
    created: datetime = field(default_factory=lambda: datetime.now(UTC))
    #: BL's id of the entry itself (what ``/document/attachto/JOURNAL/{entityId}`` names).
    entity_id: int = 0


def period_of(day: date) -> str:
    return f"{day.year:04d}{day.month:02d}"


class Company:
    """State per User-Key. All access goes through ``lock``; the server is multi-threaded."""

    def __init__(
        self,
        user_key: str,
        *,
        entity_id: int,
        name: str,
        org_number: str,
        activated: bool = True,
        fiscal_years: tuple[int, ...] = chart.DEFAULT_FISCAL_YEARS,
    ) -> None:
        self.lock = threading.RLock()
        self.user_key = user_key
        self.entity_id = entity_id
        self.name = name
        self.org_number = org_number
        self.activated = activated
        self.accounts = {
            k: {"name": v, "closed": False, "vatCode": chart.VAT_CODES.get(k, "0")}
            for k, v in chart.BAS_ACCOUNTS.items()
        }
        self.cost_centres = {k: {"name": v, "closed": False} for k, v in chart.COST_CENTRES.items()}
        self.series = dict(chart.SERIES)
        self.financial_years = [FinancialYear.calendar(y) for y in fiscal_years]
        self.entries: list[Entry] = []
        self.documents: dict[int, dict[str, Any]] = {}

    # -- knobs for tests ----------------------------------------------------------------

    def financial_year_for(self, day: date) -> FinancialYear | None:
        with self.lock:
            return next((fy for fy in self.financial_years if fy.covers(day)), None)

    def close_financial_year(self, day_or_id: date | str) -> None:
        self._year(day_or_id).open = False

    def open_financial_year(self, day_or_id: date | str) -> None:
        self._year(day_or_id).open = True

    def remove_financial_year(self, day_or_id: date | str) -> None:
        fy = self._year(day_or_id)
        with self.lock:
            self.financial_years.remove(fy)

    def lock_through(self, day: date) -> None:
        """Lock every period up to and including ``day``'s month (BL's ``firstOpenPeriod`` moves on)."""
        fy = self._year(day)
        nxt = date(day.year + (day.month == 12), day.month % 12 + 1, 1)
        fy.first_open_period = period_of(nxt)

    def close_account(self, account: str) -> None:
        self.accounts[account]["closed"] = True

    def remove_account(self, account: str) -> None:
        self.accounts.pop(account, None)

    def add_account(self, account: str, name: str, vat_code: str = "0") -> None:
        self.accounts[account] = {"name": name, "closed": False, "vatCode": vat_code}

    def set_vat_code(self, account: str, vat_code: str) -> None:
        self.accounts[account]["vatCode"] = vat_code

    def remove_series(self, series: str) -> None:
        self.series.pop(series, None)

    def add_series(self, series: str, name: str) -> None:
        self.series[series] = name

    def remove_cost_centre(self, centre: str) -> None:
        self.cost_centres.pop(centre, None)

    def add_cost_centre(self, centre: str, name: str) -> None:
        self.cost_centres[centre] = {"name": name, "closed": False}

    def _year(self, day_or_id: date | str) -> FinancialYear:
        with self.lock:
            for fy in self.financial_years:
                if (isinstance(day_or_id, date) and fy.covers(day_or_id)) or fy.id == day_or_id:
                    return fy
        raise KeyError(f"no financial year {day_or_id}")

    def entry_json(self, entry: Entry) -> dict[str, Any]:
        last = max(
            (
                e.number
                for e in self.entries
                if e.journal_id == entry.journal_id and e.financial_year_id == entry.financial_year_id
            ),
            default=0,
        )
        ledger = []
        for row in entry.rows:
            out = {
                "entityId": self.entity_id,
                "line": row["line"],
                "accountId": row["accountId"],
                "accountName": self.accounts.get(row["accountId"], {}).get("name", ""),
                "amount": row["amount"],
                "date": entry.entry_date.isoformat(),
            }
            for key in ("costCenterId", "text"):
                if row[key]:
                    out[key] = row[key]
            ledger.append(out)
        return {
            "entityId": entry.entity_id,
            "journalId": entry.journal_id,
            "journalName": self.series.get(entry.journal_id, ""),
            "journalEntryId": entry.number,
            "journalEntryDate": entry.entry_date.isoformat(),
            "entryInfoDate": entry.created.date().isoformat(),
            "entryInfoBy": "API",
            "financialYearId": entry.financial_year_id,
            "journalEntryText": entry.text,
            "documentIds": entry.document_ids,
            "ledgerEntries": ledger,
            "isEditable": False,
            "isRemovable": entry.number == last,
            "isOpen": False,
            "origin": "API",
            "period": period_of(entry.entry_date),
        }

    def add_document(self, name: str, content: bytes, content_type: str) -> dict[str, Any]:
        with self.lock:
            doc_id = 1000 + len(self.documents) + 1
            self.documents[doc_id] = {
                "id": doc_id,
                "name": name,
                "contentType": content_type,
                "size": len(content),
                "created": datetime.now(UTC).isoformat(),
                "content": content,
                "attached_to": [],
            }
            return self.document_json(doc_id)

    def attach_new_document(self, entity_id: int, name: str, content: bytes, content_type: str) -> dict[str, Any]:
        """``/document/attachto/JOURNAL/{entityId}``: create the document and attach it to the entry."""
        with self.lock:
            entry = next((e for e in self.entries if e.entity_id == entity_id), None)
            if entry is None:
                raise ApiFailure(404, "JOURNAL_ENTRY_NOT_FOUND", f"No journal entry with entity id {entity_id}")
            doc_id = self.add_document(name, content, content_type)["id"]
            self.documents[doc_id]["attached_to"].append(entity_id)
            entry.document_ids.append(doc_id)
            return {
                "id": doc_id,
                "created": self.documents[doc_id]["created"],
                "reference": name,
                "fileExt": _extension(name),
                "contentType": content_type,
                "attachedTo": {"type": "JOURNAL", "entityId": entity_id},
            }

    def document_json(self, doc_id: int) -> dict[str, Any]:
        """A ``DocumentDTO``."""
        doc = self.documents[doc_id]
        return {
            "id": doc_id,
            "name": doc["name"],
            "type": "ATTACHMENT",
            "contentType": doc["contentType"],
            "fileExt": _extension(doc["name"]),
            "owningType": "JOURNAL_ENTRY",
            "created": doc["created"],
        }


def _extension(name: str) -> str:
    return name.rsplit(".", 1)[-1] if "." in name else ""

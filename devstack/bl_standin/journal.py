"""``GET /journal/entry/batch`` as the stand-in answers it: the filters of BL's OpenAPI document that clients
use (dates, search, series, account, period), its sort keys (entryid, entrydate, entrytext) and sort order, a
page at a time (``page``, which BL accepts though the document omits it: see conformance.py)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from typing import Any

from devstack.bl_standin.api_error import bad
from devstack.bl_standin.state import Company, Entry, period_of

#: BL numbers vouchers per series and fiscal year, so "entryid" sorts by (year, series, number).
_SORT_KEYS: dict[str, Callable[[Entry], tuple[Any, ...]]] = {
    "entryid": lambda e: (e.financial_year_id, e.journal_id, e.number),
    "entrydate": lambda e: (e.entry_date, e.journal_id, e.number),
    "entrytext": lambda e: (e.text, e.journal_id, e.number),
}


def journal_batch(company: Company, q: Mapping[str, str]) -> dict[str, Any]:
    """The ``Batch`` answer for the query ``q``."""
    start = parse_date(q["startdate"]) if q.get("startdate") else date.min
    end = parse_date(q["enddate"]) if q.get("enddate") else date.max
    series = q.get("journalid") or q.get("series")
    needle = (q.get("search") or "").lower()
    account, period = q.get("account") or "", q.get("period") or ""
    rows, page = positive_int(q.get("rows"), 10), positive_int(q.get("page"), 1)
    with company.lock:
        hits = [
            e
            for e in company.entries
            if start <= e.entry_date <= end
            and (not series or e.journal_id == series)
            and (not needle or needle in e.text.lower() or needle == str(e.number))
            and (not account or any(r["accountId"] == account for r in e.rows))
            and (not period or period_of(e.entry_date) == period)
        ]
        hits.sort(key=_SORT_KEYS.get(q.get("sortkey") or "", _SORT_KEYS["entryid"]))
        if (q.get("sortorder") or "asc").lower() == "desc":
            hits.reverse()
        data = [company.entry_json(e) for e in hits[(page - 1) * rows : page * rows]]
    return {
        "startDate": None if start == date.min else start.isoformat(),
        "endDate": None if end == date.max else end.isoformat(),
        "offset": (page - 1) * rows,
        "pageRequested": page,
        "rowsRequested": rows,
        "rowsReturned": len(data),
        "sortKey": q.get("sortkey") or "entryid",
        "sortOrder": q.get("sortorder") or "asc",
        "totalPages": max(1, -(-len(hits) // rows)),
        "totalRows": len(hits),
        "data": data,
    }


def parse_date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise bad("DATE_FORMAT_ERROR", f"Invalid date {value!r}") from None


def positive_int(value: str | None, default: int) -> int:
    try:
        return max(1, int(float(value))) if value else default
    except ValueError:
        raise bad("INVALID_PARAMETER", f"Not a number: {value!r}") from None

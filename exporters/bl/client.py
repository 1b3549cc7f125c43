"""Typed calls to the BL endpoints the exporter uses. No policy here: that is the exporter's."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from datetime import date
from typing import Any
from urllib.parse import quote

from exporters.bl.errors import BLHttpError
from exporters.bl.payload import dumps_exact
from exporters.bl.transport import BLTransport

_NOT_FOUND_IDS = frozenset({"FINANCIAL_YEAR_NOT_FOUND", "FINANCIAL_YEARS_NOT_FOUND", "DATE_OUTSIDE_FINANCIAL_YEAR"})
SEARCH_PAGE_ROWS = 100
MAX_SEARCH_PAGES = 50
#: A period's journal is listed whole for the VAT report: at most this many pages of SEARCH_PAGE_ROWS.
MAX_JOURNAL_PAGES = 500


class TooManyEntries(ValueError):
    """The period holds more journal entries than one listing reads (MAX_JOURNAL_PAGES pages)."""


class BLClient:
    def __init__(self, transport: BLTransport) -> None:
        self.transport = transport

    def close(self) -> None:
        self.transport.close()

    def details(self, user_key: str) -> dict[str, Any]:
        # BL answers an unknown key with a 500: an answer to interpret, not an outage to retry.
        found: dict[str, Any] = self._get("/details", user_key, "get details", final_statuses=frozenset({500}))
        return found

    def financial_year_for(self, user_key: str, day: date) -> dict[str, Any] | None:
        """The fiscal year containing ``day``, or None if BL has none."""
        try:
            year: dict[str, Any] | None = self._get(
                f"/financialyear/date/{day.isoformat()}", user_key, "get financial year"
            )
        except BLHttpError as exc:
            if exc.status == 404 or exc.exception_id in _NOT_FOUND_IDS:
                return None
            raise
        return year

    def financial_years(self, user_key: str) -> list[dict[str, Any]]:
        return list(self._get("/financialyear", user_key, "list financial years") or [])

    def accounts(self, user_key: str) -> list[dict[str, Any]]:
        return list(self._get("/account", user_key, "list accounts") or [])

    def cost_centres(self, user_key: str) -> list[dict[str, Any]]:
        return list(self._get("/costcenter", user_key, "list cost centres") or [])

    def post_journal(
        self, user_key: str, body: dict[str, Any], before_send: Callable[[], None] | None = None
    ) -> dict[str, Any]:
        """POST /journal once, never retried here: a retry needs a look-up first (see the exporter). ``before_send``
        runs right before it is sent (:meth:`BLTransport.request`)."""
        return self.transport.request(  # type: ignore[no-any-return]
            "POST",
            "/journal",
            user_key=user_key,
            operation="post journal entry",
            body_text=dumps_exact(body),
            retry=False,
            before_send=before_send,
        )

    def search_journal(
        self, user_key: str, search: str, start: date, end: date, journal_id: str | None = None
    ) -> list[dict[str, Any]]:
        """Every journal entry BL finds for ``search`` between ``start`` and ``end``, all pages."""
        found: list[dict[str, Any]] = []
        for page in range(1, MAX_SEARCH_PAGES + 1):
            params: dict[str, str | int] = {
                "search": search,
                "startdate": start.isoformat(),
                "enddate": end.isoformat(),
                "rows": SEARCH_PAGE_ROWS,
                "page": page,
            }
            if journal_id:
                params["journalid"] = journal_id
            batch = self._get("/journal/entry/batch", user_key, "search journal entries", params=params) or {}
            found.extend(batch.get("data") or [])
            if page >= int(batch.get("totalPages") or 1):
                break
        return found

    def journal_entries(self, user_key: str, start: date, end: date) -> list[dict[str, Any]]:
        """Every journal entry dated between ``start`` and ``end`` (``GET /journal/entry/batch``, all pages).
        Raises :class:`TooManyEntries` beyond MAX_JOURNAL_PAGES pages rather than return part of the period."""
        found: list[dict[str, Any]] = []
        page = 1
        while True:
            params: dict[str, str | int] = {
                "startdate": start.isoformat(),
                "enddate": end.isoformat(),
                "rows": SEARCH_PAGE_ROWS,
                "sortkey": "entrydate",
                "sortorder": "asc",
                "page": page,
            }
            batch = self._get("/journal/entry/batch", user_key, "list journal entries", params=params) or {}
            found.extend(batch.get("data") or [])
            pages = int(batch.get("totalPages") or 1)
            if pages > MAX_JOURNAL_PAGES:
                raise TooManyEntries(f"BL holds {pages} pages of journal entries for the period")
            if page >= pages:
                return found
            page += 1

    def get_journal_entry(self, user_key: str, series: str, number: int, day: date) -> dict[str, Any]:
        entry: dict[str, Any] = self._get(
            f"/journal/entry/{series}/{number}/{day.isoformat()}", user_key, "get journal entry"
        )
        return entry

    def upload_document(self, user_key: str, filename: str, content: bytes, content_type: str) -> int:
        # An orphan document after a lost response is harmless, so the upload is retried freely.
        dto = self.transport.request(
            "POST",
            "/document",
            user_key=user_key,
            operation="upload document",
            files={"file": (filename, content, content_type)},
        )
        return int(dto["id"])

    def documents(self, user_key: str) -> list[dict[str, Any]]:
        """Every document of the company (``GET /document``; BL documents no schema for the answer, so
        both a plain list and a ``Batch``-like ``{"data": [...]}`` are read)."""
        found = self._get("/document", user_key, "list documents")
        if isinstance(found, dict):
            found = found.get("data")
        return [d for d in found or [] if isinstance(d, dict)]

    def attach_new_document(
        self,
        user_key: str,
        entity_type: str,
        entity_id: int,
        filename: str,
        content: bytes,
        before_send: Callable[[], None] | None = None,
    ) -> dict[str, Any]:
        """``POST /document/attachto/{entityType}/{entityId}``: create the document and attach it in one
        call, so no unattached document is left behind. Never retried here: a retry after a lost answer
        must look first (see the exporter)."""
        body = json.dumps({"data": base64.b64encode(content).decode("ascii")})
        return self.transport.request(  # type: ignore[no-any-return]
            "POST",
            f"/document/attachto/{quote(entity_type)}/{int(entity_id)}",
            user_key=user_key,
            operation="attach document",
            params={"fileName": filename},
            body_text=body,
            retry=False,
            before_send=before_send,
        )

    def _get(self, path: str, user_key: str, operation: str, **kwargs: Any) -> Any:
        return self.transport.request("GET", path, user_key=user_key, operation=operation, **kwargs)

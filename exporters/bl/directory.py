"""The API's port to BL (:class:`service.exporter.BLDirectory`) over the exporter's own BL client (token, rate
limit and retries shared): whose books a key opens, the company's chart of accounts and cost centres, and its
fiscal years."""

from __future__ import annotations

from typing import Any

from exporters.bl.errors import BLHttpError, RetryableFailure, to_export_error
from exporters.bl.exporter import BLExporter
from mapping.periods import FiscalYear
from service.exporter import Chart, CompanyDetails


class BLExporterDirectory:
    def __init__(self, exporter: BLExporter) -> None:
        self.exporter = exporter

    def verify(self, user_key: str) -> CompanyDetails:
        return self.exporter.verify(user_key)

    def chart(self, user_key: str) -> Chart:
        client = self.exporter.client
        try:
            accounts = client.accounts(user_key)
            centres = client.cost_centres(user_key)
        except (BLHttpError, RetryableFailure) as exc:
            raise to_export_error(exc) from None
        return Chart(
            _closed_by_id(accounts),
            _closed_by_id(centres),
            {str(a.get("id")): str(a.get("vatCode") or "") for a in accounts if a.get("id") is not None},
            {str(a.get("id")): str(a.get("name") or "") for a in accounts if a.get("id") is not None},
        )

    def fiscal_years(self, user_key: str) -> list[FiscalYear]:
        return self.exporter.fiscal_years(user_key, fresh=True)


def _closed_by_id(items: list[dict[str, Any]]) -> dict[str, bool]:
    return {str(item.get("id")): item.get("closed") is True for item in items if item.get("id") is not None}

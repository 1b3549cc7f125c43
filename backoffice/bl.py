"""What the API asks Björn Lundén: whose books a key opens, and the company's chart of accounts and
cost centres (to validate an account plan before it is saved). A port with the BL adapter behind it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from backoffice.errors import ApiError
from exporters.base import (
    CompanyDetails,
    ExportError,
    MerchantActionRequired,
    OperatorError,
    ReasonCode,
    TransientExportError,
)
from exporters.bl.errors import BLHttpError, RetryableFailure, to_export_error
from exporters.bl.exporter import BLExporter


@dataclass(frozen=True)
class Chart:
    """Account number → closed?, cost centre id → closed?, account number → BL's VAT code ("" when none)."""

    accounts: dict[str, bool]
    cost_centres: dict[str, bool]
    vat_codes: dict[str, str] = field(default_factory=dict)


class BLDirectory(Protocol):
    def verify(self, user_key: str) -> CompanyDetails: ...

    def chart(self, user_key: str) -> Chart: ...


class BLExporterDirectory:
    """The production adapter: the exporter's own BL client (token, rate limit and retries shared)."""

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
        return Chart(_closed_by_id(accounts), _closed_by_id(centres),
                     {str(a.get("id")): str(a.get("vatCode") or "") for a in accounts if a.get("id") is not None})


def _closed_by_id(items: list[dict[str, Any]]) -> dict[str, bool]:
    return {str(item.get("id")): item.get("closed") is True for item in items if item.get("id") is not None}


_KEY_MESSAGES = {
    ReasonCode.KEY_NOT_ACTIVATED: "The key is valid but the Open 2 integration is not activated in Björn Lundén: "
                                  "press Aktivera under Tilläggstjänster in BL, then try again.",
    ReasonCode.KEY_UNKNOWN: "Björn Lundén does not recognise this key: copy the public key again from the "
                            "integration's gear icon in BL.",
}


def api_error(exc: ExportError) -> ApiError:
    """BL's answer as the API's: merchant-fixable → 422 with the reason code, BL down → 503, ours → 502."""
    if isinstance(exc, TransientExportError):
        retry = str(int(exc.retry_after_s or 30))
        return ApiError(503, "BL_UNAVAILABLE", "Björn Lundén is not answering right now; try again shortly.",
                        headers={"Retry-After": retry})
    if isinstance(exc, OperatorError):
        return ApiError(502, "BL_CONFIGURATION", "Björn Lundén refused our integration's credentials; "
                        "we have been alerted.")
    if isinstance(exc, MerchantActionRequired):
        message = _KEY_MESSAGES.get(exc.reason_code, exc.message)
        return ApiError(422, str(exc.reason_code), message, field_errors=[], details={})
    return ApiError(502, "BL_REJECTED", "Björn Lundén could not answer our request; we have been alerted.")

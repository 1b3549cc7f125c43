"""BL's failures → our error tree. One table from ``ApiError.exceptionId`` to a reason code.

Inside the adapter, HTTP outcomes are two private exceptions: :class:`RetryableFailure`
(connection trouble, 429, 5xx: worth another try) and :class:`BLHttpError` (a final answer).
They never leave the adapter: :func:`to_export_error` turns them into the port's errors.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from service.exporter import ExporterBug, ExportError, MerchantActionRequired, OperatorError, TransientExportError
from service.reasons import ReasonCode


class RetryableFailure(Exception):
    """A transient failure. ``maybe_committed`` marks failures after the request was sent."""

    def __init__(
        self,
        description: str,
        status: int | None = None,
        retry_after_s: float | None = None,
        maybe_committed: bool = False,
    ) -> None:
        super().__init__(description)
        self.description = description
        self.status = status
        self.retry_after_s = retry_after_s
        self.maybe_committed = maybe_committed


class BLHttpError(Exception):
    """A final non-success answer from BL, with its parsed ``ApiError`` body if it had one."""

    def __init__(self, status: int, api_error: Mapping[str, Any] | None, operation: str) -> None:
        self.status = status
        self.api_error = dict(api_error or {})
        self.operation = operation
        super().__init__(f"{operation}: HTTP {status} {self.exception_id or ''}".rstrip())

    @property
    def exception_id(self) -> str | None:
        value = self.api_error.get("exceptionId")
        return value if isinstance(value, str) else None

    @property
    def bl_message(self) -> str:
        value = self.api_error.get("message")
        return value if isinstance(value, str) else ""


_R = ReasonCode
_M = MerchantActionRequired

#: exceptionId → (error class, reason code, what to tell the merchant).
EXCEPTION_REASONS: dict[str, tuple[type[ExportError], ReasonCode, str]] = {
    "FINANCIAL_YEAR_NOT_FOUND": (_M, _R.FISCAL_YEAR_MISSING, "create the fiscal year in BL"),
    "FINANCIAL_YEARS_NOT_FOUND": (_M, _R.FISCAL_YEAR_MISSING, "create the fiscal year in BL"),
    "DATE_OUTSIDE_FINANCIAL_YEAR": (_M, _R.FISCAL_YEAR_MISSING, "create the fiscal year in BL"),
    "DATE_OUTSIDE_YEAR": (_M, _R.FISCAL_YEAR_MISSING, "create the fiscal year in BL"),
    "DATE_TOO_EARLY_WITH_RESPECT_TO_FINANCIAL_YEAR": (
        _M,
        _R.FISCAL_YEAR_MISSING,
        "create the fiscal year in BL",
    ),
    "DATE_TOO_LATE_WITH_RESPECT_TO_FINANCIAL_YEAR": (
        _M,
        _R.FISCAL_YEAR_MISSING,
        "create the fiscal year in BL",
    ),
    "FINANCIAL_YEAR_IS_CLOSED": (_M, _R.FISCAL_YEAR_CLOSED, "the fiscal year is closed in BL"),
    "FINANCIAL_YEAR_HAS_BEEN_CLOSED": (_M, _R.FISCAL_YEAR_CLOSED, "the fiscal year is closed in BL"),
    "FINANCIAL_YEAR_IS_BEING_CLOSED": (_M, _R.FISCAL_YEAR_CLOSED, "the fiscal year is being closed in BL"),
    "ACCOUNTING_PERIOD_IS_LOCKED": (_M, _R.PERIOD_LOCKED, "the accounting period is locked in BL"),
    "JOURNAL_ENTRY_DATE_NOT_ALLOWED_IN_LOCKED_PERIOD": (
        _M,
        _R.PERIOD_LOCKED,
        "the accounting period is locked in BL",
    ),
    "ACCOUNT_NOT_FOUND": (_M, _R.ACCOUNT_MISSING_IN_BL, "an account in the mapping does not exist in BL"),
    "JOURNAL_ENTRY_NOT_CREATED_ACCOUNT_MISSING": (
        _M,
        _R.ACCOUNT_MISSING_IN_BL,
        "an account in the mapping does not exist in BL",
    ),
    "ACCOUNT_IS_BLOCKED": (_M, _R.ACCOUNT_CLOSED, "an account in the mapping is closed in BL"),
    "ACCOUNT_LOCKED": (_M, _R.ACCOUNT_CLOSED, "an account in the mapping is closed in BL"),
    "JOURNAL_SERIES_NOT_FOUND": (_M, _R.SERIES_MISSING, "the voucher series does not exist in BL"),
    "JOURNAL_NOT_FOUND": (_M, _R.SERIES_MISSING, "the voucher series does not exist in BL"),
    "COSTCENTER_NOT_FOUND": (_M, _R.COST_CENTRE_MISSING, "a cost centre does not exist in BL"),
    "COMPANY_NOT_CONNECTED": (_M, _R.KEY_NOT_ACTIVATED, "activate the Open 2 integration in BL first"),
    "CLOUD_DATABASE_NO_CONNECTION_TO_INTEGRATOR": (
        _M,
        _R.KEY_NOT_ACTIVATED,
        "activate the Open 2 integration in BL first",
    ),
    "COMPANY_PUBLIC_KEY_NOT_FOUND": (_M, _R.KEY_UNKNOWN, "the key is not recognised by BL"),
    "PUBLICKEY_NOT_FOUND": (_M, _R.KEY_UNKNOWN, "the key is not recognised by BL"),
    "KEY_INVALID": (_M, _R.KEY_UNKNOWN, "the key is not recognised by BL"),
    "JOURNAL_ENTRY_NOT_IN_BALANCE": (ExporterBug, _R.UNBALANCED, "BL found the voucher unbalanced"),
    "TRANSACTION_NOT_IN_BALANCE": (ExporterBug, _R.UNBALANCED, "BL found the voucher unbalanced"),
    "CLIENT_ID_INVALID": (
        OperatorError,
        _R.CLIENT_CREDENTIALS_INVALID,
        "our BL client credentials are invalid",
    ),
    "INTEGRATOR_KEY_INVALID": (
        OperatorError,
        _R.CLIENT_CREDENTIALS_INVALID,
        "our BL client credentials are invalid",
    ),
}

#: exceptionIds that mean the request itself was malformed: a bug on our side.
MALFORMED_REQUEST_IDS = frozenset(
    {
        "JSON_ERROR",
        "JSON_EMPTY",
        "DESERIALIZATION_FAILED",
        "PARSE_ERROR",
        "VALUE_INVALID",
        "INVALID_PARAMETER",
        "JOURNAL_ENTRY_INVALID",
        "JOURNAL_ENTRY_NOT_VALID",
        "DATE_FORMAT_ERROR",
        "JOURNAL_ID_MAX_1_CHARACTER",
        "JOURNAL_ID_NOT_SPECIFIED",
        "AMOUNT_NOT_SPECIFIED",
    }
)


def to_export_error(error: BLHttpError | RetryableFailure, details: dict[str, object] | None = None) -> ExportError:
    """The port's error for a final BL answer or an exhausted transient failure."""
    info: dict[str, object] = dict(details or {})
    if isinstance(error, RetryableFailure):
        info.update(status=error.status, cause=error.description)
        return TransientExportError(
            f"BL unavailable, try again later ({error.description})", info, retry_after_s=error.retry_after_s
        )
    info.update(status=error.status, operation=error.operation)
    if error.exception_id:
        info["bl_exception_id"] = error.exception_id
    if error.bl_message:
        info["bl_message"] = error.bl_message
    known = EXCEPTION_REASONS.get(error.exception_id or "")
    if known is not None:
        cls, code, text = known
        return cls(code, text, info)
    if error.status == 401:
        return OperatorError(_R.CLIENT_CREDENTIALS_INVALID, "BL refused our client credentials", info)
    if error.status == 403:
        return MerchantActionRequired(_R.KEY_NOT_ACTIVATED, "activate the Open 2 integration in BL first", info)
    if error.exception_id in MALFORMED_REQUEST_IDS or error.status in (405, 415):
        return ExporterBug(_R.INVALID_REQUEST, "BL could not read our request", info)
    return MerchantActionRequired(_R.BL_REJECTED, f"BL rejected the voucher: {error.bl_message or 'no reason'}", info)

"""The reason codes and what a reason says: severity, what happens next, whether the merchant must act or we
retry, and the texts. The table with one entry per code is :mod:`service.reasons`."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Severity(StrEnum):
    INFO = "INFO"
    WARNING = "WARNING"
    ERROR = "ERROR"


class Next(StrEnum):
    DEAD_LETTER = "DEAD_LETTER"
    KEEP_AND_NOTIFY = "KEEP_AND_NOTIFY"
    RETRY = "RETRY"
    WARN = "WARN"
    NONE = "NONE"


class ReasonCode(StrEnum):
    """Every reason code: outcome events, stored exports, dead letters and the API's missing days."""

    # the account plan (mapping.errors)
    UNMAPPED_ITEMS = "UNMAPPED_ITEMS"
    INVALID_PLAN = "INVALID_PLAN"
    SINGLE_PURPOSE_REDEMPTION_INVALID = "SINGLE_PURPOSE_REDEMPTION_INVALID"
    # the sales, at export (validated at ingest: these mean a bug of ours)
    RECEIPT_IMBALANCE = "RECEIPT_IMBALANCE"
    INVALID_SALES_DATA = "INVALID_SALES_DATA"
    INVALID_REFERENCE = "INVALID_REFERENCE"
    MAPPING_ERROR = "MAPPING_ERROR"
    # BL, the merchant's side (service.exporter.MerchantActionRequired)
    FISCAL_YEAR_MISSING = "FISCAL_YEAR_MISSING"
    FISCAL_YEAR_CLOSED = "FISCAL_YEAR_CLOSED"
    PERIOD_LOCKED = "PERIOD_LOCKED"
    ACCOUNT_MISSING_IN_BL = "ACCOUNT_MISSING_IN_BL"
    ACCOUNT_CLOSED = "ACCOUNT_CLOSED"
    ACCOUNT_VAT_CODE_MISMATCH = "ACCOUNT_VAT_CODE_MISMATCH"
    SERIES_MISSING = "SERIES_MISSING"
    COST_CENTRE_MISSING = "COST_CENTRE_MISSING"
    KEY_NOT_ACTIVATED = "KEY_NOT_ACTIVATED"
    KEY_UNKNOWN = "KEY_UNKNOWN"
    BL_REJECTED = "BL_REJECTED"
    # BL, our side (TransientExportError, OperatorError, ExporterBug)
    BL_UNAVAILABLE = "BL_UNAVAILABLE"
    CLIENT_CREDENTIALS_INVALID = "CLIENT_CREDENTIALS_INVALID"
    UNBALANCED = "UNBALANCED"
    INVALID_REQUEST = "INVALID_REQUEST"
    # the pipeline
    RECONCILIATION_MISMATCH = "RECONCILIATION_MISMATCH"
    Z_REPORT_GAP = "Z_REPORT_GAP"
    Z_REPORT_REPEATED = "Z_REPORT_REPEATED"
    CASH_CHAIN_BREAK = "CASH_CHAIN_BREAK"
    BOOKED_ELSEWHERE = "BOOKED_ELSEWHERE"
    DOCUMENT_ATTACH_FAILED = "DOCUMENT_ATTACH_FAILED"
    VAT_RETURN_CHANGED = "VAT_RETURN_CHANGED"
    NOTHING_TO_BOOK = "NOTHING_TO_BOOK"
    REVERSED = "REVERSED"
    # ingest: the outcome's reason, and the dead letter's error_code
    POISON_MESSAGE = "POISON_MESSAGE"
    INVALID_EVENT = "INVALID_EVENT"
    RECEIPT_CONFLICT = "RECEIPT_CONFLICT"
    UNDECODABLE = "UNDECODABLE"
    SCHEMA_MISMATCH = "SCHEMA_MISMATCH"
    OVERSIZED = "OVERSIZED"
    # the API's missing days: why a day is not booked when nothing failed
    DAY_NOT_CLOSED = "DAY_NOT_CLOSED"
    BEFORE_START_DATE = "BEFORE_START_DATE"
    INTEGRATION_INACTIVE = "INTEGRATION_INACTIVE"
    QUEUED = "QUEUED"
    EXPORTING = "EXPORTING"
    PENDING = "PENDING"


@dataclass(frozen=True)
class Reason:
    severity: Severity
    next: Next
    merchant_action_required: bool
    #: The export is kept and retried by itself (after the fix, or after a transient fault).
    will_retry: bool
    title_sv: str
    message_sv: str
    title_en: str
    message_en: str

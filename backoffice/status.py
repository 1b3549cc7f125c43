"""Why a day is not booked, and the one problem worth a banner. Pure: rows in, answers out.

Every text comes from the reason-code registry (:mod:`service.reasons`), the same table the outcome events
take theirs from: the banner says what the notification the merchant got said. The states only the API
knows (a day not closed yet, before the start date, queued…) are in the registry too.
"""

from __future__ import annotations

from typing import Any

from backoffice.models import Detail
from backoffice.models_exports import Banner, MissingDay
from service.model import DeactivatedBy, Integration, IntegrationStatus
from service.reasons import ReasonCode, reason
from storage.history import DayState


def details_of(raw: Any) -> list[Detail]:
    """Stored reason details as a list (corrections store an object, failures a list of details)."""
    if isinstance(raw, dict):
        return [Detail(kind=str(k), code=str(v)) for k, v in sorted(raw.items())]
    if isinstance(raw, list):
        return [
            Detail(
                kind=str(d.get("kind", "")),
                code=str(d.get("code", "")),
                message=None if d.get("message") is None else str(d.get("message")),
            )
            for d in raw
            if isinstance(d, dict)
        ]
    return []


def explain(code: str) -> str:
    return reason(code).title_en


def why(day: DayState, state: Integration | None) -> tuple[str, list[Detail]]:  # noqa: PLR0911 - a ladder
    """The most useful reason a store-day is not booked, with its details."""
    for wanted in ("failed", "posting"):
        for export in day.open_exports:
            if export.get("status") == wanted and export.get("reason_code"):
                return str(export["reason_code"]), details_of(export.get("reason_details"))
    if day.open_exports:
        return ReasonCode.EXPORTING, []
    if day.mismatch:
        return ReasonCode.RECONCILIATION_MISMATCH, []
    if day.z_report_number is None:
        return ReasonCode.DAY_NOT_CLOSED, []
    if state is None or state.start_date is None or day.business_date < state.start_date:
        return ReasonCode.BEFORE_START_DATE, []
    if state.status != IntegrationStatus.ACTIVE:
        return ReasonCode.INTEGRATION_INACTIVE, []
    return (ReasonCode.QUEUED if day.queued else ReasonCode.PENDING), []


def missing_day(day: DayState, state: Integration | None) -> MissingDay:
    code, details = why(day, state)
    return MissingDay(
        store_id=day.store_id,
        store_name=day.store_name,
        business_date=day.business_date,
        z_report_number=day.z_report_number,
        reason_code=str(code),
        explanation=explain(code),
        details=details,
        export_ids=[str(e["export_id"]) for e in day.open_exports],
    )


#: Reasons the merchant sees as a banner, most urgent first: what they must fix, then what keeps a day unbooked
#: on our side (the texts say no action is needed). States and warnings resolve by themselves.
_BANNER_ORDER = tuple(
    ReasonCode(c)
    for c in (
        "KEY_NOT_ACTIVATED",
        "KEY_UNKNOWN",
        "UNMAPPED_ITEMS",
        "INVALID_PLAN",
        "SINGLE_PURPOSE_REDEMPTION_INVALID",
        "ACCOUNT_MISSING_IN_BL",
        "ACCOUNT_CLOSED",
        "ACCOUNT_VAT_CODE_MISMATCH",
        "COST_CENTRE_MISSING",
        "SERIES_MISSING",
        "FISCAL_YEAR_MISSING",
        "FISCAL_YEAR_CLOSED",
        "PERIOD_LOCKED",
        "BL_REJECTED",
        "RECONCILIATION_MISMATCH",
        "UNBALANCED",
        "INVALID_REQUEST",
        "RECEIPT_IMBALANCE",
        "INVALID_SALES_DATA",
        "INVALID_REFERENCE",
        "MAPPING_ERROR",
        "BL_UNAVAILABLE",
        "CLIENT_CREDENTIALS_INVALID",
    )
)


def banner(state: Integration | None, days: list[MissingDay]) -> Banner | None:
    """The current banner-worthy problem: deactivated from BL, or the most urgent reason days are not booked."""
    if state is not None and state.status != IntegrationStatus.ACTIVE and state.deactivated_by == DeactivatedBy.BL:
        return _banner(ReasonCode.KEY_NOT_ACTIVATED, [], len(days))
    if state is None or state.status != IntegrationStatus.ACTIVE:
        return None
    by_code: dict[str, list[MissingDay]] = {}
    for day in days:
        by_code.setdefault(day.reason_code, []).append(day)
    code = next((c for c in _BANNER_ORDER if c in by_code), None)
    if code is None:
        return None
    affected = by_code[code]
    details: list[Detail] = []
    for day in affected:
        details.extend(d for d in day.details if d not in details)
    return _banner(code, details[:50], len(affected))


def _banner(code: ReasonCode, details: list[Detail], affected_days: int) -> Banner:
    r = reason(code)
    return Banner(
        reason_code=code.value,
        severity=r.severity.value,
        title_sv=r.title_sv,
        message_sv=r.message_sv,
        title_en=r.title_en,
        message_en=r.message_en,
        details=details,
        affected_days=affected_days,
    )

"""Why a day is not booked, and the one problem worth a banner. Pure: rows in, answers out.

Texts for the pipeline's reason codes come from :mod:`consumer.outcomes` (the same words as the
notification the merchant got); the reasons only the API knows are explained here.
"""

from __future__ import annotations

from typing import Any

from backoffice.models import Banner, Detail, MissingDay
from consumer.outcomes import reason
from dayclose.db.backoffice import ACTIVE, BY_BL, IntegrationState
from dayclose.db.history import DayState

EXPLANATIONS = {
    "DAY_NOT_CLOSED": "The store has sales for this day but no day close (Z-report) yet.",
    "BEFORE_START_DATE": "The day is before the integration's start date and is not exported.",
    "INTEGRATION_INACTIVE": "The integration was not active; the day is exported when it is (re)activated.",
    "QUEUED": "The export is queued (waiting for the day's last sales or for Björn Lundén).",
    "EXPORTING": "The export is in progress.",
    "PENDING": "The day is waiting to be exported.",
}


def details_of(raw: Any) -> list[Detail]:
    """Stored reason details as a list (corrections store an object, failures a list of details)."""
    if isinstance(raw, dict):
        return [Detail(kind=str(k), code=str(v)) for k, v in sorted(raw.items())]
    if isinstance(raw, list):
        return [Detail(kind=str(d.get("kind", "")), code=str(d.get("code", "")),
                       message=None if d.get("message") is None else str(d.get("message")))
                for d in raw if isinstance(d, dict)]
    return []


def explain(code: str) -> str:
    return EXPLANATIONS.get(code) or reason(code).title_en


def why(day: DayState, state: IntegrationState | None) -> tuple[str, list[Detail]]:  # noqa: PLR0911 - a ladder
    """The most useful reason a store-day is not booked, with its details."""
    for wanted in ("failed", "posting"):
        for export in day.open_exports:
            if export.get("status") == wanted and export.get("reason_code"):
                return str(export["reason_code"]), details_of(export.get("reason_details"))
    if day.open_exports:
        return "EXPORTING", []
    if day.mismatch:
        return "RECONCILIATION_MISMATCH", []
    if day.z_report_number is None:
        return "DAY_NOT_CLOSED", []
    if state is None or state.start_date is None or day.business_date < state.start_date:
        return "BEFORE_START_DATE", []
    if state.status != ACTIVE:
        return "INTEGRATION_INACTIVE", []
    return ("QUEUED" if day.queued else "PENDING"), []


def missing_day(day: DayState, state: IntegrationState | None) -> MissingDay:
    code, details = why(day, state)
    return MissingDay(store_id=day.store_id, store_name=day.store_name, business_date=day.business_date,
                      z_report_number=day.z_report_number, reason_code=code, explanation=explain(code),
                      details=details, export_ids=[str(e["export_id"]) for e in day.open_exports])


#: Reasons the merchant sees as a banner, most urgent first; the rest resolve by themselves or are ours.
_BANNER_ORDER = ("KEY_NOT_ACTIVATED", "KEY_UNKNOWN", "UNMAPPED_ITEMS", "INVALID_PLAN", "ACCOUNT_MISSING_IN_BL",
                 "ACCOUNT_CLOSED", "COST_CENTRE_MISSING", "SERIES_MISSING", "FISCAL_YEAR_MISSING",
                 "FISCAL_YEAR_CLOSED", "PERIOD_LOCKED", "RECONCILIATION_MISMATCH", "BL_REJECTED", "BL_UNAVAILABLE",
                 "CLIENT_CREDENTIALS_INVALID")


def banner(state: IntegrationState | None, days: list[MissingDay]) -> Banner | None:
    """The current banner-worthy problem: deactivated from BL, or the most urgent reason days are not booked."""
    if state is not None and state.status != ACTIVE and state.deactivated_by == BY_BL:
        r = reason("KEY_NOT_ACTIVATED")
        return Banner(reason_code="KEY_NOT_ACTIVATED", severity="ERROR", title_sv="Integrationen inaktiverades i "
                      "Björn Lundén", message_sv=r.message_sv, title_en="The integration was deactivated in "
                      "Björn Lundén", message_en=r.message_en, details=[], affected_days=len(days))
    if state is None or state.status != ACTIVE:
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
    r = reason(code)
    return Banner(reason_code=code, severity=r.severity,  # type: ignore[arg-type]
                  title_sv=r.title_sv, message_sv=r.message_sv, title_en=r.title_en, message_en=r.message_en,
                  details=details[:50], affected_days=len(affected))

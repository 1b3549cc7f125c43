from __future__ import annotations

from datetime import date

from backoffice.status import banner, missing_day, why
from service.model import DeactivatedBy, Integration, IntegrationStatus
from storage.history import DayState

DAY = date(2026, 5, 4)


def state(status: str = "active", by: str | None = None, start: date = date(2026, 5, 1)) -> Integration:
    return Integration(
        "org",
        IntegrationStatus(status),
        start,
        None,
        key_hint="abcd…wxyz",
        company_name="AB",
        company_org_number="556",
        deactivated_by=DeactivatedBy(by) if by else None,
        plan_version=1,
    )


def day(**kw: object) -> DayState:
    values: dict[str, object] = dict(
        store_id="s1",
        store_name="Butik",
        business_date=DAY,
        z_report_number=7,
        mismatch=False,
        unexported_events=0,
        open_exports=[],
        queued=False,
    )
    values.update(kw)
    return DayState(**values)  # type: ignore[arg-type]


def test_why_prefers_the_failure_then_the_day_then_the_integration() -> None:
    failed = {
        "export_id": "e1",
        "status": "failed",
        "reason_code": "UNMAPPED_ITEMS",
        "reason_details": [{"kind": "payment_method", "code": "vipps", "message": None}],
    }
    code, details = why(day(open_exports=[failed], mismatch=True), state())
    assert (code, [(d.kind, d.code) for d in details]) == ("UNMAPPED_ITEMS", [("payment_method", "vipps")])
    assert why(day(mismatch=True), state())[0] == "RECONCILIATION_MISMATCH"
    assert why(day(z_report_number=None), state())[0] == "DAY_NOT_CLOSED"
    assert why(day(business_date=date(2026, 4, 30)), state())[0] == "BEFORE_START_DATE"
    assert why(day(), state("inactive"))[0] == "INTEGRATION_INACTIVE"
    assert why(day(queued=True), state())[0] == "QUEUED"


def test_banner_is_the_most_urgent_problem_and_only_when_it_matters() -> None:
    unmapped = {"status": "failed", "reason_code": "UNMAPPED_ITEMS", "export_id": "e1", "reason_details": []}
    locked = {"status": "failed", "reason_code": "PERIOD_LOCKED", "export_id": "e2", "reason_details": []}
    days = [
        missing_day(day(open_exports=[locked]), state()),
        missing_day(day(open_exports=[unmapped]), state()),
        missing_day(day(queued=True), state()),
    ]
    shown = banner(state(), days)
    assert shown is not None and (shown.reason_code, shown.affected_days) == ("UNMAPPED_ITEMS", 1)
    assert banner(state(), [missing_day(day(queued=True), state())]) is None
    assert banner(state("inactive", "MERCHANT"), days) is None
    deactivated = banner(state("inactive", "BL"), [])
    assert deactivated is not None and deactivated.reason_code == "KEY_NOT_ACTIVATED"

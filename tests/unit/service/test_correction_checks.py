"""A correction asked for through the API (service/correction_checks.py), through the bus: only while active, of an
export that exists, and in its original period only while BL takes vouchers on its date (BL asked with no unit of work
open); a refusal records nothing. With a small fake of each port (the correction's own from
tests/unit/service/test_correction_requests.py), no database."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date
from types import TracebackType

import pytest

from mapping.periods import FiscalYear, PeriodChoice
from service import bus
from service.correction_checks import CheckAndCorrect, CorrectionAsked, ExportNotFound
from service.correction_requests import NothingToCorrect
from service.model import Integration, IntegrationStatus
from service.refusals import LifecycleRefused
from service.secrets import Secret
from tests.unit.service.fakes import FakeJobQueue
from tests.unit.service.test_correction_requests import DAY, FakeCorrections, original

KEY = "0a1b2c3d-0000-4000-8000-00000000abcd"
EXPORT = uuid.uuid4()
TODAY = date(2026, 4, 20)


@dataclass
class FakeIntegrations:
    state: Integration | None

    def get(self, org: str, *, lock: bool = False) -> Integration | None:
        return self.state


@dataclass
class FakeExportedDays:
    days: dict[uuid.UUID, tuple[str, date]] = field(default_factory=lambda: {EXPORT: ("s1", DAY)})

    def store_day(self, org: str, export_id: uuid.UUID) -> tuple[str, date] | None:
        return self.days.get(export_id)


class Units:
    """A factory of one unit of work's fakes: counts the commits and knows whether a unit is open now."""

    def __init__(self, status: IntegrationStatus = IntegrationStatus.ACTIVE) -> None:
        state = Integration("org-a", status, date(2026, 1, 1), Secret(KEY))
        self.integrations, self.exports = FakeIntegrations(state), FakeExportedDays()
        self.corrections, self.jobs = FakeCorrections([original(1)]), FakeJobQueue()
        self.commits, self.open = 0, False

    def __call__(self) -> Units:
        return self

    def __enter__(self) -> Units:
        self.open = True
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.open = False

    def commit(self) -> None:
        self.commits += 1


@dataclass
class FakeFiscalYears:
    units: Units
    #: March 2026 locked unless told otherwise.
    years: list[FiscalYear] = field(
        default_factory=lambda: [FiscalYear("202601", date(2026, 1, 1), date(2026, 12, 31), True, "202604")]
    )
    asked: list[tuple[str, bool]] = field(default_factory=list)

    def fiscal_years(self, user_key: str) -> list[FiscalYear]:
        self.asked.append((user_key, self.units.open))
        return self.years


def correct(period: PeriodChoice = PeriodChoice.FOUND, export_id: uuid.UUID = EXPORT) -> CheckAndCorrect:
    statement = "bokslutet är inte klart" if period == PeriodChoice.ORIGINAL else None
    return CheckAndCorrect("org-a", export_id, "fel konto", "anna", "API", period, statement, TODAY)


def test_a_correction_where_the_error_is_found_is_recorded_without_asking_bl() -> None:
    units = Units()
    bl = FakeFiscalYears(units)
    asked = bus.handle_asking(bl, units, correct())
    assert isinstance(asked, CorrectionAsked) and (asked.store_id, asked.business_date) == ("s1", DAY)
    assert len(asked.requested.reversal_export_ids) == 1 and units.commits == 1 and bl.asked == []


def test_the_original_period_is_taken_while_bl_takes_its_date_asked_with_no_transaction_open() -> None:
    units = Units()
    bl = FakeFiscalYears(units, [FiscalYear("202601", date(2026, 1, 1), date(2026, 12, 31), True, "")])
    bus.handle_asking(bl, units, correct(PeriodChoice.ORIGINAL))
    assert bl.asked == [(KEY, False)] and units.commits == 1


def test_the_original_period_bl_has_locked_is_refused_and_nothing_is_recorded() -> None:
    units = Units()
    with pytest.raises(LifecycleRefused) as refused:
        bus.handle_asking(FakeFiscalYears(units), units, correct(PeriodChoice.ORIGINAL))
    assert refused.value.code == "ORIGINAL_PERIOD_CLOSED" and "2026-03-02" in refused.value.message
    assert units.corrections.recorded == [] and units.commits == 0


@pytest.mark.parametrize("status", [IntegrationStatus.SETUP, IntegrationStatus.INACTIVE])
def test_a_correction_while_not_active_is_refused_before_anything_else(status: IntegrationStatus) -> None:
    units = Units(status)
    with pytest.raises(LifecycleRefused) as refused:
        bus.handle_asking(FakeFiscalYears(units), units, correct(export_id=uuid.uuid4()))
    assert refused.value.code == "NOT_ACTIVE" and units.corrections.recorded == []


def test_an_unknown_export_and_a_day_with_nothing_booked_are_refused_and_record_nothing() -> None:
    units = Units()
    with pytest.raises(ExportNotFound):
        bus.handle_asking(FakeFiscalYears(units), units, correct(export_id=uuid.uuid4()))
    units.corrections.originals = []
    with pytest.raises(NothingToCorrect):
        bus.handle_asking(FakeFiscalYears(units), units, correct())
    assert units.corrections.recorded == [] and units.commits == 0

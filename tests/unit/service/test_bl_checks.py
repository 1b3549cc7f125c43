"""The set-up steps that ask BL before they write (service/bl_checks.py), through the bus: a key verified then stored,
the wizard's activation checked against the chart, and what BL's answer to a stored key means for its callbacks. BL
is always asked with no unit of work open, and a refusal writes nothing. With a small fake of each BL port and the
lifecycle's fakes (tests/unit/service/test_integration_lifecycle.py), no database."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from types import TracebackType
from typing import Any

import pytest

from devstack.bl_standin.chart import BAS_ACCOUNTS, VAT_CODES
from service import bus
from service.bl_checks import CheckAndActivate, Unconfirmed, VerifyKey, activated_in_bl
from service.exporter import Chart, CompanyDetails, ExportError, MerchantActionRequired, TransientExportError
from service.integration_lifecycle import Activated, KeyStored
from service.model import IntegrationStatus
from service.reasons import ReasonCode
from service.refusals import FieldProblem, InputRefused, LifecycleRefused
from service.secrets import Secret
from service.start_dates import StartDateWindow
from tests.unit.service.test_integration_lifecycle import TODAY, FakeWork, ready

KEY = "0a1b2c3d-0000-4000-8000-00000000abcd"
WINDOW = StartDateWindow(TODAY, kept_days=90)
OPEN_CHART = Chart({a: False for a in BAS_ACCOUNTS}, {"S1": False}, {a: VAT_CODES.get(a, "0") for a in BAS_ACCOUNTS})


class Units:
    """A factory of units of work over one fake: counts the commits and knows whether a unit is open now."""

    def __init__(self, work: FakeWork) -> None:
        self.work, self.commits, self.open = work, 0, False

    def __call__(self) -> Units:
        return self

    def __enter__(self) -> Units:
        self.open = True
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.open = False

    def commit(self) -> None:
        self.commits += 1

    def __getattr__(self, name: str) -> Any:
        return getattr(self.work, name)


@dataclass
class FakeKeyVerifier:
    """BL's ``GET /details``: the company, or the failure it is given."""

    units: Units
    failure: ExportError | None = None
    #: (key, was a unit of work open) of every question.
    asked: list[tuple[str, bool]] = field(default_factory=list)

    def verify(self, user_key: str) -> CompanyDetails:
        self.asked.append((user_key, self.units.open))
        if self.failure:
            raise self.failure
        return CompanyDetails("Kafé AB", "556677-8899")


@dataclass
class FakeChartReader:
    units: Units
    answer: Chart = OPEN_CHART
    asked: list[tuple[str, bool]] = field(default_factory=list)

    def chart(self, user_key: str) -> Chart:
        self.asked.append((user_key, self.units.open))
        return self.answer


@dataclass
class FakeBooks:
    """Both ports, for the activation."""

    keys: FakeKeyVerifier
    charts: FakeChartReader

    def verify(self, user_key: str) -> CompanyDetails:
        return self.keys.verify(user_key)

    def chart(self, user_key: str) -> Chart:
        return self.charts.chart(user_key)


def books(units: Units, chart: Chart = OPEN_CHART) -> FakeBooks:
    return FakeBooks(FakeKeyVerifier(units), FakeChartReader(units, chart))


def test_a_key_bl_verifies_is_stored_in_its_canonical_form_with_the_company_bl_named() -> None:
    units = Units(FakeWork())
    bl = FakeKeyVerifier(units)
    typed = f" {KEY.upper()} "
    assert bus.handle_asking(bl, units, VerifyKey("org-a", typed)) == KeyStored("556677-8899")
    assert bl.asked == [(KEY, False)]  # canonical, and no transaction open while BL answers
    assert units.work.integrations.writes == ["key Kafé AB 556677-8899"] and units.commits == 1


def test_a_malformed_key_is_refused_on_its_field_without_asking_bl() -> None:
    units = Units(FakeWork())
    bl = FakeKeyVerifier(units)
    with pytest.raises(InputRefused) as refused:
        bus.handle_asking(bl, units, VerifyKey("org-a", "not-a-key"))
    assert refused.value.code == "KEY_MALFORMED"
    assert refused.value.problems == (FieldProblem("public_key", "KEY_MALFORMED", "not a GUID"),)
    assert bl.asked == [] and units.work.integrations.writes == [] and units.commits == 0


def test_a_key_bl_refuses_is_not_stored() -> None:
    units = Units(FakeWork())
    bl = FakeKeyVerifier(units, MerchantActionRequired(ReasonCode.KEY_UNKNOWN, "unknown"))
    with pytest.raises(MerchantActionRequired):
        bus.handle_asking(bl, units, VerifyKey("org-a", KEY))
    assert units.work.integrations.writes == [] and units.commits == 0


def test_the_wizards_activation_asks_bl_with_the_stored_key_and_no_transaction_open_then_activates() -> None:
    units = Units(ready(user_key=Secret(KEY)))
    bl = books(units)
    assert bus.handle_asking(bl, units, CheckAndActivate("org-a", WINDOW)) == Activated(days=0)
    assert bl.keys.asked == [(KEY, False)] and bl.charts.asked == [(KEY, False)]
    assert units.work.integrations.writes == ["active"] and units.commits == 1


def test_an_activation_whose_plan_bl_refuses_is_not_ready_and_names_the_fields() -> None:
    closed = Chart({**OPEN_CHART.accounts, "1930": True}, OPEN_CHART.cost_centres, OPEN_CHART.vat_codes)
    units = Units(ready(user_key=Secret(KEY)))
    with pytest.raises(LifecycleRefused) as refused:
        bus.handle_asking(books(units, closed), units, CheckAndActivate("org-a", WINDOW))
    assert refused.value.code == "NOT_READY" and refused.value.blocking == ()
    assert {p.code for p in refused.value.problems} == {"ACCOUNT_CLOSED"}
    assert units.work.integrations.writes == [] and units.commits == 0


def test_a_reactivation_from_a_start_date_outside_its_window_is_refused_before_bl_is_asked() -> None:
    units = Units(ready(IntegrationStatus.INACTIVE, user_key=Secret(KEY)))
    bl = books(units)
    with pytest.raises(InputRefused) as refused:
        bus.handle_asking(bl, units, CheckAndActivate("org-a", WINDOW, TODAY + timedelta(days=1)))
    assert refused.value.code == "START_DATE_IN_FUTURE"
    assert bl.keys.asked == [] and units.work.integrations.writes == []


def test_an_active_integration_is_refused_by_the_state_machine_without_asking_bl() -> None:
    units = Units(ready(IntegrationStatus.ACTIVE, user_key=Secret(KEY)))
    bl = books(units)
    with pytest.raises(LifecycleRefused) as refused:
        bus.handle_asking(bl, units, CheckAndActivate("org-a", WINDOW))
    assert refused.value.code == "ALREADY_ACTIVE" and bl.keys.asked == [] and units.commits == 0


@pytest.mark.parametrize(
    ("failure", "activated", "answered"),
    [
        (None, True, None),
        (MerchantActionRequired(ReasonCode.KEY_NOT_ACTIVATED, "out of allowed scope"), False, None),
        (MerchantActionRequired(ReasonCode.KEY_UNKNOWN, "unknown"), None, True),
        (TransientExportError("BL is down"), None, False),
    ],
)
def test_only_a_company_or_not_activated_is_a_definite_answer_to_a_callback(
    failure: ExportError | None, activated: bool | None, answered: bool | None
) -> None:
    bl = FakeKeyVerifier(Units(FakeWork()), failure)
    if activated is not None:
        assert activated_in_bl(bl, Secret(KEY)) is activated
        return
    with pytest.raises(Unconfirmed) as unconfirmed:
        activated_in_bl(bl, Secret(KEY))
    assert unconfirmed.value.answered is answered and unconfirmed.value.cause is failure

"""Every merchant-fixable refusal by BL forgets, in every process, what it concerns of the pre-flight's facts (and
only that), so the attempt after the merchant's fix asks BL for it (exporters/bl/exporter.py and preflight.py).
The pre-flight's own refusals: tests/integration/bl/test_shared_facts.py."""

from __future__ import annotations

import pytest
from facts_fakes import FakeTime, RecordingStore

from exporters.bl import BLConfig, BLExporter
from exporters.bl.errors import EXCEPTION_REASONS, BLHttpError
from exporters.bl.kept import Company
from service.company_facts import ACCOUNTS, COST_CENTRES, FISCAL_YEARS, KINDS
from service.exporter import MerchantActionRequired
from service.reasons import ReasonCode

#: BL's merchant-fixable refusals and what each is about: a date, a year or a period → the fiscal years; an account
#: → the accounts; a cost centre → the cost centres; anything else (a key, a series, …) → everything kept.
CONCERNS = {
    ReasonCode.FISCAL_YEAR_MISSING: (FISCAL_YEARS,),
    ReasonCode.FISCAL_YEAR_CLOSED: (FISCAL_YEARS,),
    ReasonCode.PERIOD_LOCKED: (FISCAL_YEARS,),
    ReasonCode.ACCOUNT_MISSING_IN_BL: (ACCOUNTS,),
    ReasonCode.ACCOUNT_CLOSED: (ACCOUNTS,),
    ReasonCode.COST_CENTRE_MISSING: (COST_CENTRES,),
}
MERCHANT_FIXABLE = sorted(eid for eid, (cls, _, _) in EXCEPTION_REASONS.items() if cls is MerchantActionRequired)


@pytest.mark.parametrize("exception_id", MERCHANT_FIXABLE)
def test_each_merchant_fixable_refusal_by_bl_forgets_what_it_concerns_in_the_store(exception_id: str) -> None:
    t = FakeTime()
    store = RecordingStore(t)
    exporter = BLExporter(BLConfig("ours", "not-a-real-secret"), facts_store=store, wall_clock=t.clock)  # noqa: S106
    company = Company.of("k", "org-1")

    error = exporter._port_error(  # noqa: SLF001 - where every BL answer becomes the port's error
        BLHttpError(400, {"exceptionId": exception_id}, "post journal entry"), company
    )

    assert isinstance(error, MerchantActionRequired)
    assert store.forgotten == [CONCERNS.get(error.reason_code, KINDS)]

"""Correcting a booked store-day through the bus (service/correction_requests.py): which vouchers are reversed,
when a correction is refused, the reversal vouchers and their jobs, and the day queued anew once a reversal is
booked — with a small fake of each of the two ports it uses (no database)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date

import pytest

from mapping.periods import PeriodChoice
from mapping.reversal import reverse
from mapping.voucher import Voucher, VoucherRow
from service import bus, correction_requests
from service.correction_requests import (
    BookedOriginal,
    CorrectDay,
    NewCorrection,
    NewReversal,
    NothingToCorrect,
)
from service.messages import Trigger
from service.model import Export, ExportStatus
from tests.unit.service.fakes import FakeJobQueue

DAY = date(2026, 3, 2)


def original(number: int, *, event_count: int = 3, sales_kept: bool = True) -> BookedOriginal:
    ref = f"DC-{number:016x}"
    voucher = Voucher(
        "D", DAY, f"Dagskassa {ref}", ref, (VoucherRow("1910", 1000 * number), VoucherRow("3001", -1000 * number))
    )
    return BookedOriginal(uuid.uuid4(), voucher, ref, "D", number, event_count, sales_kept)


@dataclass
class FakeCorrections:
    originals: list[BookedOriginal] = field(default_factory=list)
    recorded: list[NewCorrection] = field(default_factory=list)
    reversals: list[NewReversal] = field(default_factory=list)
    #: Originals another correction reversed meanwhile (its reversal commits first: ours is refused).
    taken: set[uuid.UUID] = field(default_factory=set)
    #: Reversals that reverse an original (the others reverse nothing: queued before corrections were recorded).
    reversing: set[uuid.UUID] = field(default_factory=set)
    completed: list[uuid.UUID] = field(default_factory=list)

    def booked_originals(self, org: str, store: str, day: date) -> list[BookedOriginal]:
        return list(self.originals)

    def record(self, correction: NewCorrection) -> None:
        self.recorded.append(correction)

    def add_reversal(self, correction: NewCorrection, reversal: NewReversal) -> bool:
        if reversal.original_id in self.taken:
            return False
        self.reversals.append(reversal)
        return True

    def complete(self, reversal: Export) -> bool:
        if reversal.export_id not in self.reversing:
            return False
        self.completed.append(reversal.export_id)
        return True


@dataclass
class FakeWork:
    corrections: FakeCorrections = field(default_factory=FakeCorrections)
    jobs: FakeJobQueue = field(default_factory=FakeJobQueue)


def queued(work: FakeWork) -> list[tuple[object, ...]]:
    """(organization, store, day, trigger, source id, register) of each job queued, in order."""
    return [(q.org, q.store, q.day, q.trigger, q.source_id, q.register) for q in work.jobs.queued]


def ask(**fields: object) -> CorrectDay:
    return CorrectDay("org-a", "s1", DAY, "fel konto", "anna", **fields)  # type: ignore[arg-type]


def test_every_booked_voucher_of_the_day_is_reversed_under_one_correction_each_with_its_job() -> None:
    first, second = original(1), original(2)
    work = FakeWork(FakeCorrections([first, second]))
    requested = bus.handle(work, ask(via="API"))
    (correction,) = work.corrections.recorded
    assert correction.correction_id == requested.correction_id
    assert correction.originals == [first, second] and correction.request.via == "API"
    assert [r.export_id for r in work.corrections.reversals] == requested.reversal_export_ids
    for o, r in zip([first, second], work.corrections.reversals, strict=True):
        assert r.original_id == o.export_id and r.correction_id == requested.correction_id
        assert r.reference == "RV-" + r.export_id.hex[:16]
        expected = reverse(o.voucher, reference=r.reference, original_voucher=f"D {o.number}", business_date=DAY)
        assert r.voucher == expected
        assert sum(row.amount_ore for row in r.voucher.rows if row.account == "3001") == -sum(
            row.amount_ore for row in o.voucher.rows if row.account == "3001"
        )
    assert queued(work) == [
        ("org-a", "s1", DAY, Trigger.CORRECTION, f"correction:{r}", None) for r in requested.reversal_export_ids
    ]


def test_a_day_with_nothing_booked_is_refused_and_nothing_is_stored() -> None:
    work = FakeWork()
    with pytest.raises(NothingToCorrect, match="no booked voucher to correct for store s1 on 2026-03-02"):
        bus.handle(work, ask())
    assert work.corrections.recorded == [] and queued(work) == []


def test_a_day_whose_sales_were_purged_is_refused_naming_the_vouchers() -> None:
    """Reversing it would leave the day unbooked: the sales to book it anew are gone. An export that booked no sale
    (nothing to purge) does not count."""
    work = FakeWork(FakeCorrections([original(1, event_count=0, sales_kept=False), original(2, sales_kept=False)]))
    with pytest.raises(NothingToCorrect, match=r"the sales of DC-0000000000000002 were purged"):
        bus.handle(work, ask())
    assert work.corrections.recorded == []


def test_a_voucher_another_correction_reversed_meanwhile_refuses_this_one() -> None:
    taken = original(2)
    work = FakeWork(FakeCorrections([original(1), taken], taken={taken.export_id}))
    with pytest.raises(NothingToCorrect, match="already queued"):
        bus.handle(work, ask())


def test_the_original_period_needs_the_accountant_s_statement() -> None:
    work = FakeWork(FakeCorrections([original(1)]))
    with pytest.raises(ValueError, match="statement"):
        bus.handle(work, ask(period=PeriodChoice.ORIGINAL, statement="  "))
    assert work.corrections.recorded == []
    bus.handle(work, ask(period=PeriodChoice.ORIGINAL, statement="bokslutet är inte klart"))
    assert work.corrections.recorded[0].request.statement == "bokslutet är inte klart"


def test_a_booked_reversal_queues_its_register_day_anew_once_and_a_reversal_of_nothing_queues_nothing() -> None:
    reversal = Export(
        uuid.uuid4(),
        "RV-1",
        "org-a",
        "s1",
        DAY,
        Trigger.CORRECTION,
        ExportStatus.BOOKED,
        0,
        None,
        register_id="kassa-2",
    )
    work = FakeWork(FakeCorrections(reversing={reversal.export_id}))
    correction_requests.complete(work, reversal)
    assert queued(work) == [("org-a", "s1", DAY, Trigger.DAY_CLOSE, f"reexport:{reversal.export_id}", "kassa-2")]
    stray = Export(uuid.uuid4(), "RV-2", "org-a", "s1", DAY, Trigger.CORRECTION, ExportStatus.BOOKED, 0, None)
    correction_requests.complete(work, stray)
    assert len(queued(work)) == 1

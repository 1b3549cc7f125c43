"""The consumer's in-memory sums (consumer/accumulator.py): what one batch stages, how sums combine, and when the
sums are trusted. Whether a flush then trusts them is checked against PostgreSQL in
tests/integration/db/test_running_totals.py."""

from __future__ import annotations

from collections import defaultdict
from datetime import date

import pytest

from consumer import accumulator
from consumer.accumulator import FLUSH_EVERY_S, MAX_PENDING_DAYS, Accumulator, closing_days, combined
from consumer.records import sales_envelope
from devstack import sampledata
from mapping.totals import DayTotals
from service.messages import DayClosed, SalesEnvelope
from service.ports import Pending, Written
from storage.sales import prepare_rows

DAY = date(2026, 4, 1)


def day(store: str = "s1", receipts: int = 8) -> tuple[list[SalesEnvelope], SalesEnvelope]:
    d = sampledata.store_day("org", store, DAY, receipts, seed=3)
    return [sales_envelope(r) for r in d.events()], sales_envelope(d.day_closed())


def written(store: str, count: int, first: int = 1) -> Written:
    return Written("org", store, DAY, count, first, first + count - 1, False)


def totals(p: Pending, store: str = "s1") -> DayTotals:
    rows = [(k, key, rate, a, b, n, m) for (k, key, rate), (a, b, n, m) in p.buckets.items() if any((a, b, n, m))]
    return DayTotals.from_rows(store, DAY, rows)


def test_a_batch_whose_events_are_all_new_is_staged_with_its_exact_sums() -> None:
    events, close = day()
    staged = Accumulator.stage([*events, close], [written("s1", len(events), 11)], lambda _org: {})
    p = staged[("org", "s1", DAY, "")]
    assert (p.rows, p.first_id, p.last_id) == (len(events), 11, 10 + len(events))
    items = [e.item for e in events if not isinstance(e.item, DayClosed)]
    assert totals(p) == DayTotals.of("s1", DAY, items)


def test_a_batch_with_fewer_new_rows_than_events_cannot_tell_which_and_says_so() -> None:
    events, _ = day()
    staged = Accumulator.stage(events, [written("s1", len(events) - 2)], lambda _org: {})
    assert not staged[("org", "s1", DAY, "")].exact


def test_a_repeat_within_the_batch_is_not_summed_twice() -> None:
    events, _ = day()
    staged = Accumulator.stage([*events, events[0]], [written("s1", len(events))], lambda _org: {})
    assert staged[("org", "s1", DAY, "")].rows == len(events)


def test_a_store_day_with_no_new_rows_stages_nothing_and_day_closes_are_found() -> None:
    events, close = day()
    other, other_close = day("s2")
    staged = Accumulator.stage([*events, *other, close], [written("s2", len(other))], lambda _org: {})
    assert set(staged) == {("org", "s2", DAY, "")}
    assert closing_days([*events, close, *other]) == {("org", "s1", DAY, "")}
    assert closing_days([other_close]) == {("org", "s2", DAY, "")}


def test_sums_combine_and_an_unknown_count_stays_unknown() -> None:
    events, _ = day()
    a = Accumulator.stage(events[:4], [written("s1", 4, 1)], lambda _org: {})[("org", "s1", DAY, "")]
    b = Accumulator.stage(events[4:], [written("s1", len(events) - 4, 9)], lambda _org: {})[("org", "s1", DAY, "")]
    both = combined(a, b)
    assert both is not None and (both.rows, both.first_id, both.last_id) == (len(events), 1, 8 + len(events) - 4)
    assert totals(both) == totals(a) + totals(b)
    unknown = combined(both, Pending(b.buckets, 1, 99, 99, exact=False))
    assert unknown is not None and not unknown.exact
    assert combined(None, a) is a and combined(None, None) is None


def test_committed_keeps_what_was_staged_and_forgets_what_was_flushed() -> None:
    events, _ = day()
    other, _ = day("s2")
    acc = Accumulator()
    staged = Accumulator.stage(
        [*events, *other], [written("s1", len(events)), written("s2", len(other), 100)], lambda _org: {}
    )
    acc.committed(staged, flushed={("org", "s2", DAY, "")})
    assert set(acc.pending) == {("org", "s1", DAY, "")}
    acc.committed(staged, flushed=set())
    assert acc.pending[("org", "s1", DAY, "")].rows == 2 * len(events)


def test_everything_pending_is_due_after_the_interval_or_beyond_the_memory_bound() -> None:
    now = [0.0]
    acc = Accumulator(clock=lambda: now[0])
    assert not acc.due()  # nothing pending
    acc.pending[("org", "s1", DAY, "")] = _empty()
    assert not acc.due()
    now[0] = FLUSH_EVERY_S
    assert acc.due()
    now[0] = 0.0
    for i in range(MAX_PENDING_DAYS + 1):
        acc.pending[("org", f"s{i}", DAY, "")] = _empty()
    assert acc.due()


def _empty() -> Pending:
    return Pending(defaultdict(lambda: [0, 0, 0, 0]), 0, 1, 1)


def test_a_batch_flushes_the_days_it_closes_and_those_it_brings_to_the_row_bound(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(accumulator, "FLUSH_ROWS", 10)
    events, close = day(receipts=6)  # 6 receipts and the extras: more than 6 events
    other, _ = day("s2", receipts=3)
    acc = Accumulator()
    assert acc.due_with([*events[:6], *other]) == set()
    acc.pending[("org", "s1", DAY, "")] = Pending(defaultdict(lambda: [0, 0, 0, 0]), 5, 1, 5)
    assert acc.due_with([*events[:6], *other]) == {("org", "s1", DAY, "")}
    assert acc.due_with([*other[:1], close]) == {("org", "s1", DAY, "")}


def test_sums_made_before_the_batch_is_written_are_staged_as_the_writer_would_sum_them() -> None:
    """:meth:`Accumulator.presum` runs on the Kafka loop's thread; what the writer stages from it equals what it would
    have summed itself, repeats in the batch and all."""
    events, close = day()
    batch = [*events, close, events[0]]
    presums = Accumulator().presum(batch)
    new = [written("s1", len(events), 11)]
    staged = Accumulator.stage(batch, new, lambda _org: {}, presums)
    own = Accumulator.stage(batch, new, lambda _org: {})
    key = ("org", "s1", DAY, "")
    assert staged[key].buckets is presums[key].buckets  # used, not summed again
    assert (dict(staged[key].buckets), staged[key].rows, staged[key].exact) == (
        dict(own[key].buckets),
        own[key].rows,
        own[key].exact,
    )


def test_sums_made_from_the_store_s_prepared_rows_equal_the_sums_of_the_batch() -> None:
    """The writer hands :meth:`Accumulator.presum` the events the store will insert (``prepare_rows(...).items``: each
    id once, day closes left out) so the batch is not walked twice: same sums, repeats, day closes and two registers
    in the batch."""
    events, close = day()
    till = [sales_envelope(r) for r in sampledata.store_day("org", "s1", DAY, 4, seed=9, register_id="k2").events()]
    batch = [*events, close, events[0], *till, events[3]]
    firsts = prepare_rows(batch).items
    assert len(firsts) == len(events) + len(till)  # the repeats and the day close left out
    plan = {"gift_card": 2500}
    acc = Accumulator()
    acc._plans["org"] = (plan, acc.clock())
    from_rows, own = acc.presum(batch, firsts), acc.presum(batch)
    assert from_rows.keys() == own.keys() == {("org", "s1", DAY, ""), ("org", "s1", DAY, "k2")}
    for key, pre in own.items():
        assert (dict(from_rows[key].buckets), from_rows[key].rows, from_rows[key].plan) == (
            dict(pre.buckets),
            pre.rows,
            plan,
        )


def test_sums_made_with_a_plan_that_changed_since_are_made_again_with_the_plan_staged_with() -> None:
    """The loop's thread sums with the single-purpose plans known then; the writer may have read a newer one before
    it stages: then it sums again, so what is flushed always matches the plan it is flushed with."""
    events, _ = day(receipts=60)
    presums = Accumulator().presum(events)  # no plan known yet: no single-purpose card
    plan = {"gift_card": 2500}
    staged = Accumulator.stage(events, [written("s1", len(events))], lambda _org: plan, presums)
    own = Accumulator.stage(events, [written("s1", len(events))], lambda _org: plan)
    key = ("org", "s1", DAY, "")
    assert dict(presums[key].buckets) != dict(own[key].buckets)  # the plan matters to this day's sums
    assert dict(staged[key].buckets) == dict(own[key].buckets)

"""The consumer's running totals (consumer/accumulator.py) against a real PostgreSQL: summed in memory, flushed
count-checked, and exact whatever happens to the memory — a crash that loses it, a store handed to another
consumer mid-day, a batch mixing redeliveries with new events, a plan change of single-purpose methods.

The oracle is :meth:`mapping.totals.DayTotals.of` over the events a test sent, and a day close's export books
exactly the day (``export.totals``) after a flush that left no tail to read.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date
from typing import Any

import psycopg
import pytest
from psycopg.types.json import Jsonb
from psycopg_pool import ConnectionPool

from consumer import accumulator
from consumer.accumulator import FLUSH_EVERY_S, Accumulator
from consumer.events import AvroEvents
from consumer.ingest import BatchResult, Decoded, write_batch
from consumer.records import sales_envelope
from dayclose.keys import KeyVault
from devstack import sampledata
from mapping.totals import DayTotals
from service.messages import DayClosed, SalesEnvelope, Trigger
from service.model import Export
from service.secrets import Secret
from storage import totals as running
from storage.exports import PostgresExports
from storage.uow import PostgresUnitOfWork, unit_of_work

pytestmark = pytest.mark.integration
ORG, STORE, DAY = "org-running", "s1", date(2026, 11, 26)
KEY = (ORG, STORE, DAY, "")


@pytest.fixture
def uow(database_url: str) -> Iterator[Any]:
    pool: ConnectionPool[Any] = ConnectionPool(database_url, min_size=1, max_size=3, open=True)
    try:
        yield unit_of_work(pool, KeyVault(Secret(KeyVault.generate_key())), AvroEvents("out", "dlq", "commands"))
    finally:
        pool.close()


def the_day(receipts: int = 60, seed: int = 5) -> tuple[list[SalesEnvelope], SalesEnvelope]:
    d = sampledata.store_day(ORG, STORE, DAY, receipts, seed=seed)
    return [sales_envelope(r) for r in d.events()], sales_envelope(d.day_closed())


def write(make: Any, acc: Accumulator, envelopes: Sequence[SalesEnvelope]) -> BatchResult:
    uow: PostgresUnitOfWork
    with make() as uow:
        return write_batch(uow, Decoded(sales=list(envelopes)), acc)


def of(envelopes: Sequence[SalesEnvelope], single_purpose: dict[str, int] | None = None) -> DayTotals:
    items = [e.item for e in envelopes if not isinstance(e.item, DayClosed)]
    return DayTotals.of(STORE, DAY, items, single_purpose or {})


def stored(database_url: str) -> tuple[DayTotals, int, int]:
    """The store-day's running totals, the id they are summed up to, and the highest id of its rows."""
    with psycopg.connect(database_url) as conn:
        totals, through = running.read(conn, KEY)
        top = conn.execute(
            "SELECT coalesce(max(id), 0) FROM sales WHERE organization_id = %s AND store_id = %s", (ORG, STORE)
        ).fetchone()
    return totals, through, int(top[0]) if top else 0


def claim_day_close(database_url: str, single_purpose: dict[str, int] | None = None) -> Export:
    with psycopg.connect(database_url, autocommit=True) as conn, conn.transaction():
        export = PostgresExports(conn).claim(
            ORG, STORE, DAY, Trigger.DAY_CLOSE, 1, include_day_close=True, single_purpose=single_purpose or {}
        )
    assert export is not None
    return export


def test_the_day_close_flushes_the_day_from_memory_and_its_claim_books_the_whole_day(
    uow: Any, database_url: str
) -> None:
    events, close = the_day()
    acc = Accumulator()
    for i in range(0, len(events), 25):
        write(uow, acc, events[i : i + 25])
    assert acc.pending and stored(database_url)[1] == 0  # summed in memory, nothing flushed yet
    result = write(uow, acc, [close])
    totals, through, top = stored(database_url)
    assert (result.flushed_from_memory, result.flushed_from_rows) == (1, 0)
    assert totals == of(events) and through == top  # no tail left for the claim to read
    assert not acc.pending
    export = claim_day_close(database_url)
    assert export.totals == of(events) and export.day == of(events)


def test_sums_lost_in_a_crash_cost_a_read_of_the_rows_never_a_wrong_total(uow: Any, database_url: str) -> None:
    events, close = the_day()
    crashed = Accumulator()
    write(uow, crashed, events[:40])  # committed, offsets stored; then the process dies with its memory
    restarted = Accumulator()
    write(uow, restarted, events[40:])
    result = write(uow, restarted, [close])
    assert (result.flushed_from_memory, result.flushed_from_rows) == (0, 1)
    totals, through, top = stored(database_url)
    assert totals == of(events) and through == top
    assert claim_day_close(database_url).totals == of(events)


def test_a_store_handed_to_another_consumer_mid_day_is_summed_once(uow: Any, database_url: str) -> None:
    """A rebalance: both consumers wrote rows of the store-day and both hold sums of them; the day close reaches
    the new owner, and the old owner flushes what it still holds later."""
    events, close = the_day(80)
    old_owner, new_owner = Accumulator(), Accumulator()
    write(uow, old_owner, events[:30])
    write(uow, new_owner, events[30:50])
    write(uow, old_owner, events[50:60])  # the old owner had not let go yet
    write(uow, new_owner, events[60:])
    write(uow, new_owner, [close])
    assert stored(database_url)[0] == of(events)
    old_owner.flush_all(uow)  # its periodic flush, or its revocation
    totals, through, top = stored(database_url)
    assert totals == of(events) and through == top and not old_owner.pending
    assert claim_day_close(database_url).totals == of(events)


def test_a_batch_mixing_redelivered_and_new_events_is_summed_from_the_rows(uow: Any, database_url: str) -> None:
    events, close = the_day()
    acc = Accumulator()
    write(uow, acc, events[:30])
    redelivered = write(uow, acc, events[20:45])  # the batch's offsets were lost: 10 duplicates, 15 new
    assert (redelivered.new_events, redelivered.duplicates) == (15, 10)
    write(uow, acc, events[45:])
    result = write(uow, acc, [close])
    assert (result.flushed_from_memory, result.flushed_from_rows) == (0, 1)
    assert stored(database_url)[0] == of(events)
    assert claim_day_close(database_url).totals == of(events)


def test_a_periodic_flush_moves_the_sums_and_the_claim_reads_only_what_came_after(uow: Any, database_url: str) -> None:
    events, close = the_day()
    now = [0.0]
    acc = Accumulator(clock=lambda: now[0])
    write(uow, acc, events[:50])
    assert not acc.due()
    now[0] += FLUSH_EVERY_S
    assert acc.due()
    flushed = acc.flush_all(uow)
    assert (flushed.from_memory, flushed.folded) == (1, 0) and not acc.pending
    assert stored(database_url)[0] == of(events[:50])
    crashed = Accumulator()  # the rest is never flushed: the day close goes to a consumer without the sums
    write(uow, crashed, events[50:])
    export = claim_day_close(database_url)
    assert export.totals == of(events)
    assert stored(database_url)[0] == of(events)


def test_a_single_purpose_method_added_to_the_plan_mid_day_is_booked_at_its_rate(uow: Any, database_url: str) -> None:
    """Sums taken under the old plan are stale for the new one: the claim sums the day again from its rows."""
    events, close = the_day()
    spa = {"gift_card": 600}  # the sample day's gift card payments, now single-purpose at 6 %
    with psycopg.connect(database_url) as conn:
        conn.execute("INSERT INTO integrations (organization_id) VALUES (%s)", (ORG,))
        conn.execute(
            "INSERT INTO account_plans (organization_id, plan) VALUES (%s, %s)",
            (ORG, Jsonb({"version": 2, "single_purpose_methods": {}})),
        )
    acc = Accumulator()
    write(uow, acc, events[:40])
    assert acc.flush_all(uow).from_memory == 1  # summed and flushed under the old plan
    with psycopg.connect(database_url) as conn:
        conn.execute("UPDATE account_plans SET plan = %s", (Jsonb({"version": 2, "single_purpose_methods": spa}),))
    write(uow, Accumulator(), [*events[40:], close])  # a restarted consumer reads the new plan
    assert stored(database_url)[0] != of(events, spa)  # stale: partly summed for the old plan
    export = claim_day_close(database_url, spa)
    assert export.totals == of(events, spa) and stored(database_url)[0] == of(events, spa)


def test_a_store_day_reaching_the_row_bound_is_flushed_with_the_batch_that_reaches_it(
    uow: Any, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(accumulator, "FLUSH_ROWS", 25)
    events, close = the_day()
    acc = Accumulator()
    assert write(uow, acc, events[:20]).flushed_from_memory == 0
    reached = write(uow, acc, events[20:30])
    assert (reached.flushed_from_memory, reached.flushed_from_rows) == (1, 0) and not acc.pending
    totals, through, top = stored(database_url)
    assert totals == of(events[:30]) and through == top
    write(uow, acc, events[30:40])
    write(uow, acc, [*events[40:], close])
    totals, through, top = stored(database_url)
    assert totals == of(events) and through == top
    assert claim_day_close(database_url).totals == of(events)

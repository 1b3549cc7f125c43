"""The ingest is the hot path: how many round trips to PostgreSQL one consumed batch costs, counted on the wire
(libpq's protocol trace: every ``Sync`` of the extended protocol and every simple ``Query`` is one round trip).

The counts are exact. They were measured on main before the sales batch became a command handled in
:mod:`service.sales` (#23) and are the same after it: a batch's decisions moved, its statements did not.
Since #27 the running totals set and reset their two planner settings in one round trip each (two less), and the
store-day locks, the partition check and the rows are sent together in libpq's pipeline mode: one wait, not three
(two less again; ``tests/wire.py`` counts waits, which is what the Syncs counted before pipelining).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from psycopg_pool import ConnectionPool

from consumer.accumulator import Accumulator
from consumer.events import AvroEvents
from consumer.ingest import BatchResult, Decoded, write_batch
from consumer.records import sales_envelope
from dayclose.keys import KeyVault
from devstack import sampledata
from service.messages import SalesEnvelope
from service.secrets import Secret
from storage.uow import PostgresUnitOfWork, unit_of_work
from tests.wire import Wire

pytestmark = pytest.mark.integration
ORG = "org-trips"
DAY = date(2026, 11, 26)


@pytest.fixture
def make(database_url: str) -> Iterator[Any]:
    pool: ConnectionPool[Any] = ConnectionPool(database_url, min_size=1, max_size=1, open=True)
    try:
        yield unit_of_work(pool, KeyVault(Secret(KeyVault.generate_key())), AvroEvents("out", "dlq", "commands"))
    finally:
        pool.close()


def traced(make: Any, envelopes: list[SalesEnvelope], acc: Accumulator) -> tuple[BatchResult, int]:
    """The batch written with its unit of work's connection traced; (what it did, its round trips incl. COMMIT)."""
    uow: PostgresUnitOfWork
    with make() as uow, Wire(uow.conn) as trips:
        result = write_batch(uow, Decoded(sales=envelopes), acc)
    return result, trips.count


def jobs(make: Any) -> list[tuple[Any, ...]]:
    """(store, trigger, source id, Z number, register) of every queued job, in the order they were queued."""
    uow: PostgresUnitOfWork
    with make() as uow:
        rows: list[tuple[Any, ...]] = uow.conn.execute(
            "SELECT store_id, trigger, source_id, z_report_number, register_id FROM export_jobs ORDER BY id"
        ).fetchall()
    return rows


def day(store: str, receipts: int, z: int = 1, seed: int = 1) -> sampledata.StoreDay:
    return sampledata.store_day(ORG, store, DAY, receipts, seed=seed, z_report_number=z)


def test_a_batch_costs_the_same_round_trips_whatever_decides_its_jobs(make: Any) -> None:
    """Receipts of three stores, two day closes (new), a day close sent again and late sales of a closed day: the
    lock, the partition check and the rows (one wait), the store names, a statement per day close, a job (and its
    ``NOTIFY``) per new day close and per closed register-day with new rows, the running totals of the closing days,
    COMMIT."""
    acc = Accumulator()
    s1, s2, s3 = day("s1", 20), day("s2", 20, seed=2), day("s3", 5, seed=3)
    first = [*s1.events(), s1.day_closed(), *s2.events(), s2.day_closed(), *s3.events()]
    result, trips = traced(make, [sales_envelope(r) for r in first], acc)
    assert (result.new_events, result.jobs, result.duplicates) == (59, 0, 0)
    assert trips == 18  # BEGIN … COMMIT
    assert jobs(make) == [
        ("s1", "DAY_CLOSE", f"dayclose:s1:{DAY}:1", 1, ""),
        ("s2", "DAY_CLOSE", f"dayclose:s2:{DAY}:1", 1, ""),
    ]

    late = day("s1", 23)  # the same ids for the first 20, three more receipts: late sales of a closed day
    again = [*late.receipts[20:], s1.day_closed(), *day("s3", 8, seed=3).receipts[5:]]
    result, trips = traced(make, [sales_envelope(r) for r in again], acc)
    assert (result.new_events, result.jobs, result.duplicates) == (6, 1, 1)
    assert trips == 14
    (late_job,) = jobs(make)[2:]
    assert late_job[:2] == ("s1", "DAY_CLOSE") and late_job[2].startswith(f"late:{ORG}:s1::{DAY}:")


def test_a_redelivered_batch_costs_one_statement_per_day_close_and_queues_nothing(make: Any) -> None:
    acc = Accumulator()
    s1 = day("s1", 10)
    batch = [sales_envelope(r) for r in [*s1.events(), s1.day_closed()]]
    traced(make, batch, acc)
    result, trips = traced(make, batch, acc)
    assert (result.new_events, result.jobs, result.duplicates) == (0, 0, len(batch))
    assert trips == 5
    assert len(jobs(make)) == 1

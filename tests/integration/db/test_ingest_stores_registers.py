"""The ingest records every store and every register (till) it sees, once: the registers are what a store-day's
"anything not exported?" looks at (storage/claims.py, UNEXPORTED), so a register left out would leave its sales
unbooked. Known ones are looked up before the insert (storage/sales.py): these pin that new ones are still added,
in a batch of known and new, and that known ones are left as they were."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import psycopg
import pytest

from consumer.records import sales_envelope
from devstack import sampledata
from tests.recording import record

pytestmark = pytest.mark.integration
ORG = "org-registers"
OTHER = "org-registers-2"
DAY = date(2026, 3, 2)


@pytest.fixture
def conn(database_url: str) -> Iterator[psycopg.Connection[Any]]:
    with psycopg.connect(database_url, autocommit=True) as c:
        yield c


def ingest(conn: psycopg.Connection[Any], *days: sampledata.StoreDay) -> None:
    with conn.transaction():
        record(conn, [sales_envelope(r) for d in days for r in d.receipts])


def registers(conn: psycopg.Connection[Any], org: str) -> dict[tuple[str, str], Any]:
    rows = conn.execute(
        "SELECT store_id, register_id, first_seen FROM registers WHERE organization_id = %s", (org,)
    ).fetchall()
    return {(store, register): seen for store, register, seen in rows}


def stores(conn: psycopg.Connection[Any], org: str) -> list[str]:
    return [r[0] for r in conn.execute("SELECT store_id FROM stores WHERE organization_id = %s ORDER BY 1", (org,))]


def test_new_stores_and_registers_are_recorded_beside_known_ones_and_known_ones_are_left_as_they_were(
    conn: psycopg.Connection[Any],
) -> None:
    ingest(conn, sampledata.store_day(ORG, "s1", DAY, 2, seed=1))
    first = registers(conn, ORG)
    assert set(first) == {("s1", "")}
    assert stores(conn, ORG) == ["s1"]

    # One batch: the known store's known register (its next day), a second till of the known store, and a new store.
    ingest(
        conn,
        sampledata.store_day(ORG, "s1", DAY + timedelta(days=1), 2, seed=2),
        sampledata.store_day(ORG, "s1", DAY, 2, seed=3, register_id="k2"),
        sampledata.store_day(ORG, "s2", DAY, 2, seed=4, register_id="k1"),
    )
    now = registers(conn, ORG)
    assert set(now) == {("s1", ""), ("s1", "k2"), ("s2", "k1")}
    assert now[("s1", "")] == first[("s1", "")]  # not written again
    assert stores(conn, ORG) == ["s1", "s2"]


def test_the_same_store_and_register_ids_of_another_organization_are_its_own(conn: psycopg.Connection[Any]) -> None:
    ingest(conn, sampledata.store_day(ORG, "s1", DAY, 2, seed=5, register_id="k1"))
    ingest(conn, sampledata.store_day(OTHER, "s1", DAY, 2, seed=6, register_id="k1"))
    assert set(registers(conn, OTHER)) == {("s1", "k1")}
    assert stores(conn, OTHER) == ["s1"]

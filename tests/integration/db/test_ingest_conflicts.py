"""An id seen again: the same content is a duplicate (ignored), other content a conflict (reported), within a
batch and across batches, for every kind of event keyed by id (#13, finding 5)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import psycopg
import pytest

from consumer.conflicts import describe
from consumer.records import sales_envelope
from devstack import sampledata
from service.ports import Ingested
from storage.codecs import content
from storage.sales import ingest_sales, prepare_rows
from tests.recording import record

pytestmark = pytest.mark.integration
ORG = "org-conflicts"
DAY = date(2026, 3, 2)


@pytest.fixture
def conn(database_url: str) -> Iterator[psycopg.Connection[Any]]:
    with psycopg.connect(database_url, autocommit=True) as c:
        yield c


def ingest(conn: psycopg.Connection[Any], *records: dict[str, Any]) -> Ingested:
    """The batch stored and its jobs queued, as the Kafka ingest does (storage, then service/sales.py)."""
    with conn.transaction():
        return record(conn, [sales_envelope(r) for r in records]).ingested


def changed(record: dict[str, Any], event_id: str = "", **fields: Any) -> dict[str, Any]:
    name, payload = record["payload"]
    return {**record, "event_id": event_id or record["event_id"] + "-again", "payload": (name, {**payload, **fields})}


def day() -> sampledata.StoreDay:
    return sampledata.store_day(ORG, "s1", DAY, 3, seed=7)


def conflicts(result: Ingested) -> list[tuple[str, str, str]]:
    """(event key, event id of the rejected version, what the detail names) per conflict."""
    out = []
    for c in result.conflicts:
        detail = describe(c.envelope, c.stored, content(c.envelope))
        out.append((c.envelope.event_key, c.envelope.event_id, f"{detail.kind}:{detail.code}"))
    return out


def test_a_receipt_sent_again_with_other_amounts_is_a_conflict_and_the_first_version_stands(
    conn: psycopg.Connection[Any],
) -> None:
    d = day()
    first = d.receipts[0]
    rid = first["payload"][1]["receipt_id"]
    assert ingest(conn, first).new == 1
    paid = first["payload"][1]["payments"][0]
    other = changed(
        first,
        lines=[{**ln, "gross_ore": ln["gross_ore"] + 100} for ln in first["payload"][1]["lines"]],
        payments=[{**paid, "amount_ore": paid["amount_ore"] + 100 * len(first["payload"][1]["lines"])}],
    )
    result = ingest(conn, other)
    assert (result.new, conflicts(result)) == (0, [(f"receipt:{rid}", other["event_id"], f"receipt:{rid}")])
    detail = describe(result.conflicts[0].envelope, result.conflicts[0].stored, content(result.conflicts[0].envelope))
    assert "differs in: lines, payments;" in (detail.message or "")
    total = paid["amount_ore"]
    assert f"total first {total // 100}.{total % 100:02d} SEK" in (detail.message or "")
    stored = conn.execute("SELECT payload FROM sales WHERE event_key = %s", (f"receipt:{rid}",)).fetchone()
    assert stored is not None and stored[0]["payments"] == [[paid["method"], paid["amount_ore"]]]


def test_the_same_content_under_a_new_event_id_is_a_silent_duplicate(conn: psycopg.Connection[Any]) -> None:
    d = day()
    records = [*d.events(), d.day_closed()]
    first = ingest(conn, *records)
    again = ingest(conn, *(changed(r) for r in records), *records)
    assert first.new == len(records) and (again.new, again.conflicts) == (0, [])


def test_a_store_or_business_date_of_its_own_is_other_content(conn: psycopg.Connection[Any]) -> None:
    d = day()
    first = d.receipts[1]
    ingest(conn, first)
    moved = {**changed(first), "store_id": "s2"}
    later = {**changed(first), "business_date": date(2026, 3, 3)}
    result = ingest(conn, moved, later)
    assert [c.envelope.event_id for c in result.conflicts] == [moved["event_id"], later["event_id"]]
    assert differing(result, 0) == ["store_id"] and differing(result, 1) == ["business_date"]


def differing(result: Ingested, n: int) -> list[str]:
    from consumer.conflicts import differing_fields, subject

    c = result.conflicts[n]
    return differing_fields(subject(c.envelope)[0], c.stored, content(c.envelope))


@pytest.mark.parametrize("kind", ["cash_movement", "gift_card_expired"])
def test_cash_movements_and_gift_card_expiries_are_keyed_by_id_the_same_way(
    conn: psycopg.Connection[Any], kind: str
) -> None:
    d = day()
    event = next(
        e
        for e in d.others
        if e["payload"][0].endswith("CashMovement" if kind == "cash_movement" else "GiftCardExpired")
    )
    ingest(conn, event)
    result = ingest(conn, changed(event, amount_ore=event["payload"][1]["amount_ore"] + 1))
    assert [c.envelope.kind for c in result.conflicts] == [kind]
    assert differing(result, 0) == ["amount_ore"]


def test_a_day_close_with_the_same_z_number_but_other_totals_is_a_conflict(conn: psycopg.Connection[Any]) -> None:
    d = day()
    close = d.day_closed()
    ingest(conn, *d.events(), close)
    renamed_and_reclosed = changed(
        close, store_name="Nytt namn", closed_at=close["payload"][1]["closed_at"] + timedelta(minutes=3)
    )
    assert ingest(conn, renamed_and_reclosed).conflicts == []  # a label is not content
    other = changed(close, grand_total_ore=close["payload"][1]["grand_total_ore"] + 100)
    result = ingest(conn, other)
    assert conflicts(result) == [(f"dayclose:s1:{DAY}:1", other["event_id"], f"day_close:s1/{DAY}/Z1")]
    assert differing(result, 0) == ["grand_total_ore"]
    jobs = conn.execute("SELECT count(*) FROM export_jobs WHERE organization_id = %s", (ORG,)).fetchone()
    assert jobs == (1,)  # the conflicting Z-report queued nothing


def test_within_one_batch_the_first_version_stands(conn: psycopg.Connection[Any]) -> None:
    d = day()
    first = d.receipts[2]
    tip = changed(
        first,
        event_id="tip",
        tip_ore=first["payload"][1]["tip_ore"] + 500,
        payments=[{**p, "amount_ore": p["amount_ore"] + 500} for p in first["payload"][1]["payments"]],
    )
    result = ingest(conn, first, changed(first, event_id="same"), tip)
    assert result.new == 1 and [c.envelope.event_id for c in result.conflicts] == ["tip"]
    assert differing(result, 0) == ["payments", "tip_ore"]


def test_a_repeat_in_the_batch_is_compared_with_the_stored_version_not_the_batchs_first(
    conn: psycopg.Connection[Any],
) -> None:
    """Stored A; then a batch with B (conflicts with A) and A again under a new event id (A stands: silent)."""
    d = day()
    a = d.others[0]
    ingest(conn, a)
    b = changed(a, event_id="b", amount_ore=1)
    result = ingest(conn, b, changed(a, event_id="a-again"), changed(a, event_id="c", amount_ore=2))
    assert [c.envelope.event_id for c in result.conflicts] == ["b", "c"]
    assert all(c.stored["amount_ore"] == a["payload"][1]["amount_ore"] for c in result.conflicts)


def test_rows_prepared_on_the_loop_s_thread_are_used_only_for_the_batch_they_were_made_from(
    conn: psycopg.Connection[Any],
) -> None:
    """The Kafka loop prepares a batch's rows (storage.sales.prepare_rows) while the writer writes the batch before.
    Rows prepared from another batch, even one with equal contents, are never sent for this one."""
    d = sampledata.store_day(ORG, "s-prepared", DAY, 6, seed=11)
    batch = [sales_envelope(r) for r in d.receipts[:3]]
    stranger = [sales_envelope(r) for r in d.receipts[3:]]
    with conn.transaction():
        first = ingest_sales(conn, batch, prepared=prepare_rows(stranger))
    assert first.new == 3
    stored = {r[0] for r in conn.execute("SELECT event_key FROM sales WHERE store_id = 's-prepared'")}
    assert stored == {e.event_key for e in batch}
    with conn.transaction():
        second = ingest_sales(conn, stranger, prepared=prepare_rows(stranger))
        again = ingest_sales(conn, list(batch), prepared=prepare_rows(list(batch)))
    assert (second.new, again.new) == (3, 0)
    stored = {r[0] for r in conn.execute("SELECT event_key FROM sales WHERE store_id = 's-prepared'")}
    assert stored == {e.event_key for e in [*batch, *stranger]}

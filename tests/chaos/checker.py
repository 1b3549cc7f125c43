"""The independent checker (#24), Jepsen-style: the history is what the POS produced (the workload's own record),
what BL holds (the stand-in's admin API, over HTTP) and what reached the outcome and dead-letter topics (read from
Kafka, decoded by the Apache ``avro`` package from the ``.avsc`` files as any consumer would). Nothing from the
product is imported or read (not its database, not its code): ``tests/unit/chaos/test_checker_is_independent.py``.

Rules:

1. every voucher balances and books one store-day we produced;
2. every store-day's vouchers sum, account by account, to what its events must book (:mod:`tests.chaos.books`),
   and the books as a whole equal the whole oracle;
3. no Z-report is booked by two standing vouchers ("Dagsavslut … Z n", not reversed); with ``one_voucher_per_z``
   (issue #21: a reopened day books one voucher per Z-report) also: a store-day without a manual export is booked
   by exactly one standing voucher per Z-report that booked anything, its latest Z-report among them, and by nothing
   else;
4. every voucher is reported by exactly one SUCCEEDED outcome (distinct event ids, after dropping redelivered
   copies of an event), naming the voucher's store-day; no SUCCEEDED outcome names a voucher BL does not hold;
5. every poison message is dead-lettered once (one dead-letter id per source offset), nothing else is, and no
   dead-lettered sale is booked (its content is not among the events the oracle counts);
6. failures carry only the reason codes the run's faults can cause.
"""

from __future__ import annotations

import json
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
from confluent_kafka import Consumer, TopicPartition

from tests.avro_spec import apache_decode_single_object
from tests.chaos.books import Booked, StoreDay, expected_books, imbalance, net, read_vouchers, total

SCHEMAS = Path(__file__).resolve().parents[2] / "schemas"


@dataclass
class History:
    """What the checker is given: the POS's side of the story and where to read the rest."""

    records: list[dict[str, Any]]  # every sales event that stands (first versions), as published
    plans: dict[str, dict[str, Any]]  # organization → its account plan (JSON, the final one)
    companies: dict[str, str]  # organization → its BL company's user key
    stores: dict[str, dict[str, str]]  # organization → store name → store id
    poison: set[tuple[str, int, int]]  # (topic, partition, offset) of every message that must be dead-lettered
    dead_lettered_content: list[dict[str, Any]]  # sales events that must never be booked (conflicting re-sends)
    manual_days: set[StoreDay]  # store-days a manual export may have booked a part of
    allowed_failures: set[str]


@dataclass
class Verdict:
    problems: list[str] = field(default_factory=list)
    store_days: int = 0
    vouchers: int = 0
    outcomes: int = 0
    duplicate_outcomes: int = 0
    dead_letters: int = 0
    duplicate_dead_letters: int = 0
    failures: Counter[str] = field(default_factory=Counter)


def check(
    history: History,
    bl_admin_url: str,
    bootstrap: str,
    outcomes_topic: str,
    dead_letter_topic: str,
    *,
    one_voucher_per_z: bool = False,
) -> Verdict:
    """Read BL's books and both topics, then :func:`judge`."""
    vouchers = {}
    for org, user_key in sorted(history.companies.items()):
        response = requests.get(f"{bl_admin_url}/companies/{user_key}/vouchers", timeout=30)
        response.raise_for_status()
        vouchers[org] = response.json()
    outcomes = read_topic(bootstrap, outcomes_topic, "export_outcome.avsc")
    dead = read_topic(bootstrap, dead_letter_topic, "dead_letter.avsc")
    return judge(history, vouchers, outcomes, dead, one_voucher_per_z=one_voucher_per_z)


def judge(
    history: History,
    vouchers: dict[str, list[dict[str, Any]]],
    outcomes: list[dict[str, Any]],
    dead: list[dict[str, Any]],
    *,
    one_voucher_per_z: bool = False,
) -> Verdict:
    """The rules over the history: BL's vouchers per organization (in booking order), every outcome and dead letter
    read from the topics (copies included)."""
    verdict = Verdict()
    books = expected_books(history.records, history.plans)
    verdict.store_days = len(books)
    booked: list[Booked] = []
    for org in sorted(history.companies):
        read, problems = read_vouchers(org, vouchers.get(org, []), history.stores.get(org, {}))
        booked += read
        verdict.problems += problems
    verdict.vouchers = len(booked)
    verdict.problems += _books(books, booked)
    verdict.problems += _z_reports(history, booked, one_voucher_per_z)
    verdict.problems += _outcomes(history, booked, outcomes, verdict)
    verdict.problems += _dead_letters(history, dead, verdict)
    return verdict


def _books(books: dict[StoreDay, Counter[str]], booked: list[Booked]) -> list[str]:
    problems = [
        f"{b.org}: voucher {b.series} {b.number} does not balance ({imbalance(b.voucher)} SEK)"
        for b in booked
        if imbalance(b.voucher) != 0
    ]
    per_day: dict[StoreDay, list[dict[str, Any]]] = defaultdict(list)
    for b in booked:
        if b.store_day is not None:
            per_day[b.store_day].append(b.voucher)
    for key in sorted(set(books) | set(per_day)):
        got, want = net(per_day.get(key, [])), books.get(key, Counter())
        if got != want:
            diff = {
                a: got.get(a, 0) - want.get(a, 0) for a in sorted(set(got) | set(want)) if got.get(a) != want.get(a)
            }
            problems.append(f"store-day {key}: booked − expected per account (öre) {diff}")
    if net(b.voucher for b in booked) != total(books.values()):
        problems.append("the books as a whole differ from the oracle")
    return problems


def _z_reports(history: History, booked: list[Booked], strict: bool) -> list[str]:
    reversed_refs = {b.reverses for b in booked if b.reverses}
    standing = [b for b in booked if b.reference not in reversed_refs and b.kind != "Återföring"]
    per_z: Counter[tuple[StoreDay, int]] = Counter(
        (b.store_day, b.z) for b in standing if b.kind == "Dagsavslut" and b.store_day and b.z is not None
    )
    problems = [f"store-day {k[0]} Z {k[1]} booked by {n} standing vouchers" for k, n in per_z.items() if n > 1]
    if not strict:
        return problems
    latest: dict[StoreDay, int] = {}
    for rec in history.records:
        name, p = rec["payload"]
        if name.endswith(".DayClosed"):
            key = (rec["organization_id"], rec["store_id"], rec["business_date"])
            latest[key] = max(latest.get(key, 0), p["z_report_number"])
    per_day: dict[StoreDay, list[Booked]] = defaultdict(list)
    for b in standing:
        if b.store_day:
            per_day[b.store_day].append(b)
    for key, z in sorted(latest.items()):
        if key in history.manual_days or any(b.kind == "Rättelse" for b in per_day.get(key, [])):
            continue
        kinds = Counter((b.kind, b.z) for b in per_day.get(key, []))
        if kinds and (("Dagsavslut", z) not in kinds or any(k != "Dagsavslut" for k, _ in kinds)):
            problems.append(f"store-day {key}: not one voucher per Z-report ending with Z {z}: {dict(kinds)}")
    return problems


def _outcomes(history: History, booked: list[Booked], outcomes: list[dict[str, Any]], verdict: Verdict) -> list[str]:
    unique = {o["event_id"]: o for o in outcomes}
    verdict.outcomes, verdict.duplicate_outcomes = len(unique), len(outcomes) - len(unique)
    problems = []
    succeeded: dict[tuple[str, str, int, int], list[dict[str, Any]]] = defaultdict(list)
    for o in unique.values():
        if o["status"] == "SUCCEEDED" and o["voucher"]:
            v = o["voucher"]
            succeeded[(o["organization_id"], v["series"], v["number"], v["entry_date"].year)].append(o)
        elif o["status"] == "FAILED":
            verdict.failures[o["failure"]["reason_code"]] += 1
    held = {(b.org, b.series, b.number, b.year): b for b in booked}
    for key, b in held.items():
        reports = succeeded.get(key, [])
        if len(reports) != 1:
            problems.append(f"{b.org}: voucher {b.series} {b.number} reported by {len(reports)} SUCCEEDED outcomes")
        elif b.store_day and (reports[0]["store_id"], reports[0]["business_date"]) != b.store_day[1:]:
            problems.append(f"{b.org}: voucher {b.series} {b.number} of {b.store_day} reported for another day")
    problems += [f"a SUCCEEDED outcome names voucher {k} that BL does not hold" for k in succeeded if k not in held]
    unexpected = set(verdict.failures) - history.allowed_failures
    if unexpected:
        problems.append(f"failure reasons no fault of this run explains: {dict(verdict.failures)}")
    return problems


def _dead_letters(history: History, dead: list[dict[str, Any]], verdict: Verdict) -> list[str]:
    unique = {d["dead_letter_id"]: d for d in dead}
    verdict.dead_letters, verdict.duplicate_dead_letters = len(unique), len(dead) - len(unique)
    per_offset = Counter((d["source_topic"], d["source_partition"], d["source_offset"]) for d in unique.values())
    problems = [f"message {k} dead-lettered {n} times" for k, n in per_offset.items() if n > 1]
    problems += [f"message {k} dead-lettered but never poison" for k in per_offset if k not in history.poison]
    problems += [f"poison message {k} never dead-lettered" for k in history.poison if k not in per_offset]
    standing = {_content(r) for r in history.records}
    for d in unique.values():
        try:
            sale = apache_decode_single_object(_schema("sales_event.avsc"), d["original_value"] or b"")
        except Exception:  # noqa: BLE001, S112 - undecodable poison: no sale in it
            continue
        if _content(sale) in standing:
            problems.append(f"sale {sale['event_id']} both dead-lettered and among the events booked")
    return problems


def _content(record: dict[str, Any]) -> str:
    """A sales event's payload, comparable whether it was published (a ``(type, fields)`` pair) or read back."""
    payload = record["payload"]
    body = payload[1] if isinstance(payload, tuple | list) else payload
    return json.dumps(body, sort_keys=True, default=str)


def _schema(name: str) -> str:
    return (SCHEMAS / name).read_text()


def read_topic(bootstrap: str, topic: str, schema_file: str) -> list[dict[str, Any]]:
    """Every event on ``topic``, from the beginning to each partition's end now, decoded from its single-object
    encoding with the schema file (redelivered copies included)."""
    schema = _schema(schema_file)
    consumer = Consumer(
        {"bootstrap.servers": bootstrap, "group.id": f"checker-{uuid.uuid4().hex[:8]}", "enable.auto.commit": False}
    )
    try:
        partitions = consumer.list_topics(topic, timeout=30).topics[topic].partitions
        ends = {p: consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=30)[1] for p in partitions}
        consumer.assign([TopicPartition(topic, p, 0) for p in partitions])
        events: list[dict[str, Any]] = []
        left = {p for p, end in ends.items() if end > 0}
        deadline = time.monotonic() + 120
        while left:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{topic}: partitions {sorted(left)} not read to their end in 120 s")
            for msg in consumer.consume(500, timeout=5):
                if msg.error():
                    continue
                events.append(apache_decode_single_object(schema, msg.value()))
                if msg.offset() + 1 >= ends[msg.partition()]:
                    left.discard(msg.partition())
        return events
    finally:
        consumer.close()

"""Midnight: many stores close their day at once and BL is slow (100 ms a request) with a server-side limit
of 1.25 × our client's limit. Two sizes: the 1,000-store burst of one merchant (issue #8, as before) and a
simulated midnight of 10,000 stores of 2,500 merchants, each merchant its own BL company.

Each size runs two nights on one database, one set of merchants and BL companies (issue #27): the first ever,
when nothing is known of any company, and the next day's, when what the first night learnt of each company
(the pre-flight's fiscal years and accounts) is known — as at every production midnight after a company's
first. Each night runs in a new ``dayclose run`` process (as after a deploy), so the steady state's facts come
from PostgreSQL, not from the process's memory.

Each night, every store's (small) day is ingested first; then every day-closed event is published at once and
the benchmark reads outcome events until every store has one. Figures per night: BL requests ÷ their time span
against the client's limit (the stand-in's request log), BL requests per booked day (by endpoint in the
detail), the time to book, FAILED outcomes, and from the stand-in's books that every store-day so far has
exactly one voucher (the store is found in the voucher text, the date is the voucher's); the CPU per booked day
summed over the pod's processes; and the peak RSS (``VmHWM``) of each of its processes and their sum.

The pod runs as production would on this 2-core node: ``DAYCLOSE_CONSUMER_PROCESSES`` consumer processes
(``Sizes.midnight_processes``; ``python -m bench --processes N``), each taking 1/n of the BL budgets and export
workers (:mod:`dayclose.supervisor`). With more than one, the midnight books a third night with one process — the
alternative, measured in the same run (``Sizes.midnight_compare``).
"""

from __future__ import annotations

import re
import time
from collections import Counter
from dataclasses import replace
from datetime import date, timedelta
from typing import Any

import psycopg

from bench import workload
from bench.measures import DAY, OutcomeReader, Sizes, partitions_for
from bench.midnight_figures import figures
from bench.pod import Pod, machine_busy_seconds, rig_cpu_seconds
from bench.progress import Progress
from bench.report import Figure
from bench.stack import ORG, START, OffsetProbe, Stack, fast_producer, produce_all
from bench.watch import until_committed
from devstack.harness import Topics
from devstack.sampledata import SAMPLE_PLAN

RECEIPTS_PER_STORE = 3
BL_LATENCY_S = 0.1
#: Enough export workers that BL's latency never leaves the client's rate budget unused.
WORKERS = 16


def burst(stack: Stack, sizes: Sizes) -> list[Figure]:
    n, processes = sizes.burst_stores, sizes.midnight_processes
    stores = [(ORG, workload.store_id(s, "b")) for s in range(n)]
    nights = _midnights(stack, stores, sizes.burst_client_limit, "burst", nights_of(processes, compare=False))
    return figures(f"burst, {n:,} stores of 1 merchant", nights, with_rss=False)


def midnight(stack: Stack, sizes: Sizes) -> list[Figure]:
    n, per_org, processes = sizes.midnight_stores, sizes.midnight_stores_per_org, sizes.midnight_processes
    stores = [(f"org-m{s // per_org:05d}", workload.store_id(s, "m")) for s in range(n)]
    nights = nights_of(processes, compare=sizes.midnight_compare)
    measured = _midnights(stack, stores, sizes.midnight_client_limit, "midnight", nights)
    return figures(f"midnight, {n:,} stores of {-(-n // per_org):,} merchants", measured, with_rss=True)


#: Nights in one run, each in a new ``dayclose run`` pod (as after a deploy): the first ever, when nothing is known
#: of any company, and the next, when what the first learnt is known (in PostgreSQL, not in the process); with a pod
#: of several consumer processes, a third night (steady too) with one, to compare. (key, words, processes).
Night = tuple[str, str, int]


def nights_of(processes: int, *, compare: bool) -> list[Night]:
    """The nights a size books with a pod of ``processes`` consumer processes (``compare``: and one with one)."""
    pod = f"{processes} processes" if processes > 1 else "1 process"
    nights = [
        ("cold", f"first night, nothing known, {pod}", processes),
        ("steady", f"steady state, the night before known, {pod}", processes),
    ]
    if compare and processes > 1:
        nights.append(("steady-one-process", "steady state, the night before known, 1 process", 1))
    return nights


def _midnights(
    stack: Stack, stores: list[tuple[str, str]], limit: float, label: str, nights_run: list[Night]
) -> list[dict[str, Any]]:
    """Every night of ``nights_run`` on one database, one set of merchants and BL companies, one set of topics."""
    days = [DAY + timedelta(days=i) for i in range(len(nights_run))]
    work: list[tuple[list[workload.Message], list[workload.Message]]] = []
    for day in days:
        work.append(_day(stores, day, work[-1][1] if work else None))
    partitions = partitions_for([m for messages, closes in work for m in messages + closes])
    topics = Topics.fresh(stack.kafka.create_topic, partitions)
    db = stack.database()
    settings = stack.settings(topics, db, workers=WORKERS, bl_rate=limit)
    # A restarted member gets its partitions once the old session times out (the mock cluster): keep that short.
    settings = replace(settings, kafka=replace(settings.kafka, session_timeout_ms=6_000, heartbeat_interval_ms=500))
    keys = _merchants(stack, settings, topics, sorted({org for org, _ in stores}), label)
    reader = OutcomeReader(stack, topics)
    probe = OffsetProbe(stack.kafka.bootstrap_servers, settings.kafka.group_id, topics.sales, partitions)
    producer = fast_producer(stack.kafka.bootstrap_servers)
    nights, consumed = [], 0
    try:
        for (night, words, processes), day, (messages, closes) in zip(nights_run, days, work, strict=True):
            clients = (reader, probe, producer)
            pod = replace(settings, consumer_processes=processes)
            summary = _night(stack, pod, clients, stores, keys, day, (messages, closes), consumed, limit, label)
            nights.append(summary | {"night": night, "words": words, "business_date": day.isoformat()})
            consumed += len(messages) + len(closes)
        nights[-1] |= _bytes_per_store_day(db, len(stores) * len(nights))
    finally:
        probe.close()
        reader.close()
        stack.bl.reset_faults()
        stack.drop(db)
    return nights


def _day(
    stores: list[tuple[str, str]], day: date, previous: list[workload.Message] | None
) -> tuple[list[workload.Message], list[workload.Message]]:
    """Every store's (small) day: its receipts, and its day close (the Z-report after ``previous``, if any)."""
    messages = workload.receipts_of(stores, RECEIPTS_PER_STORE, day, interleave=False)
    closes = [
        workload.day_close(
            org,
            sid,
            day,
            messages[i * RECEIPTS_PER_STORE : (i + 1) * RECEIPTS_PER_STORE],
            previous[i] if previous else None,
        )
        for i, (org, sid) in enumerate(stores)
    ]
    return messages, closes


def _night(
    stack: Stack,
    settings: Any,
    clients: tuple[OutcomeReader, OffsetProbe, Any],
    stores: list[tuple[str, str]],
    keys: dict[str, str],
    day: date,
    work: tuple[list[workload.Message], list[workload.Message]],
    consumed: int,
    limit: float,
    size: str,
) -> dict[str, Any]:
    """One midnight in a new ``dayclose run``: ingest the day, then publish every day close at once and read an
    outcome for each."""
    reader, probe, producer = clients
    messages, closes = work
    n, label = len(stores), f"{size} {day}"
    proc = stack.service(settings, label)
    outcomes: list[dict[str, Any]] = []
    try:
        produce_all(producer, settings.kafka.sales_topic, messages, label=f"{label} receipts")
        target = consumed + len(messages)
        until_committed(probe, target, proc, f"{label} ingest", timeout=max(300, len(messages) / 100))
        pod = Pod.of(proc.pid, settings.consumer_processes)
        stack.bl.set_faults(latency_s=BL_LATENCY_S, rate_limit_per_s=limit * 1.25, retry_after_s=1)
        stack.bl.requests.clear()
        cpu_before, machine_before = pod.cpu_seconds(), machine_busy_seconds()
        rig_before = rig_cpu_seconds(pod, stack.postgres.data_dir)
        started = time.time()
        produce_all(producer, settings.kafka.sales_topic, closes)
        published_s = time.time() - started
        last = started
        with Progress(f"{label} exports", n, "exp") as bar:
            while len(outcomes) < n:
                got = reader.next(timeout=max(120.0, 4 * n / limit))
                if got is None:
                    raise TimeoutError(f"{label}: {len(outcomes)} outcomes of {n}:\n{proc.log_tail()}")
                last, _, outcome = got
                outcomes.append(outcome)
                bar.update(len(outcomes))
        cpu = {pid: s - cpu_before[pid] for pid, s in pod.cpu_seconds().items()}
        machine_s = machine_busy_seconds() - machine_before
        rig = {k: v - rig_before[k] for k, v in rig_cpu_seconds(pod, stack.postgres.data_dir).items()}
        peaks = pod.peak_rss_bytes()
        pod.check()  # the same processes throughout: none ended, none missing from the sums
    finally:
        stack.bl.reset_faults()
        proc.stop()
    summary = _summary(stack, stores, keys, outcomes, day, limit, started, last, published_s)
    # What one export costs the pod (user + system CPU of every process): with the requests per export at the floor,
    # this, not BL's limit, may bound how fast a pod books a midnight (a process runs one thread at a time).
    cpu_s = sum(cpu.values())
    return summary | {
        "processes": settings.consumer_processes,
        "cpu_s": round(cpu_s, 2),
        "cpu_s_by_process": [round(cpu[pid], 2) for pid in pod.pids],
        "cpu_ms_per_export": round(1000 * cpu_s / n, 2),
        # Every process of the machine: on this rig the node's two cores also run PostgreSQL, the BL stand-in and
        # the mock broker, so this, over the cores, bounds the exports per second whatever the pod's processes.
        "machine_cpu_ms_per_export": round(1000 * machine_s / n, 2),
        "rig_cpu_ms_per_export": {k: round(1000 * v / n, 2) for k, v in rig.items()},
        "peak_rss_mb_by_process": [round(peaks[pid] / 10**6, 1) for pid in pod.pids],
        "peak_rss_mb_pod": round(sum(peaks.values()) / 10**6, 1),
    }


def _bytes_per_store_day(db: str, stores: int) -> dict[str, float]:
    """What one booked store-day leaves besides its sales rows (day close, export with its voucher, outbox), over
    ``stores`` booked store-days."""
    with psycopg.connect(db) as conn:
        row = conn.execute(
            "SELECT pg_total_relation_size('day_closes') + pg_total_relation_size('exports'), "
            "pg_total_relation_size('outbox')"
        ).fetchone()
    if row is None:
        raise RuntimeError("the query returned no row")
    return {"store_day_bytes": round(row[0] / stores, 1), "outbox_bytes_per_store_day": round(row[1] / stores, 1)}


def _merchants(stack: Stack, settings: Any, topics: Topics, orgs: list[str], label: str) -> dict[str, str]:
    """One BL company per merchant in the stand-in, and an active integration with the sample plan."""
    harness = stack.harness(settings, topics, activate=False)
    keys = {}
    with Progress(f"{label} merchants", len(orgs), "orgs") as bar:
        for i, org in enumerate(orgs):
            keys[org] = stack.bl.register_company(name=f"Bench {org} AB").user_key
            harness.activate(org, keys[org], SAMPLE_PLAN, START)
            bar.update(i + 1)
    return keys


def _summary(
    stack: Stack,
    stores: list[tuple[str, str]],
    keys: dict[str, str],
    outcomes: list[dict[str, Any]],
    day: date,
    limit: float,
    started: float,
    last: float,
    published_s: float,
) -> dict[str, Any]:
    n = len(stores)
    reqs = stack.bl.requests.all()
    span = max(r.at for r in reqs) - min(r.at for r in reqs) if len(reqs) > 1 else 0.0
    rate = len(reqs) / span if span else 0.0
    failed = [o for o in outcomes if o["status"] != "SUCCEEDED"]
    booked = _vouchers_per_store_day(stack, keys)
    # Every store-day of this night and the nights before booked once, nothing else booked (BL's books, not ours).
    days = [(DAY + timedelta(days=i)).isoformat() for i in range((day - DAY).days + 1)]
    wanted = {(keys[org], sid, d) for org, sid in stores for d in days}
    not_once = sum(1 for k in wanted if booked[k] != 1) + sum(1 for k in booked if k not in wanted)
    took = last - started
    return {
        "stores": n,
        "merchants": len(keys),
        "receipts_per_store": RECEIPTS_PER_STORE,
        "published_closes_in_s": round(published_s, 3),
        "seconds": round(took, 2),
        "exports_per_s": round(n / took, 2),
        "bl_requests": len(reqs),
        "requests_per_export": round(len(reqs) / n, 3),
        "bl_request_rate": round(rate, 2),
        "rate_share": rate / limit,
        "client_limit_per_s": limit,
        "server_limit_per_s": limit * 1.25,
        "bl_latency_s": BL_LATENCY_S,
        "workers": WORKERS,
        "requests_by_path": dict(Counter(f"{r.method} {ENDPOINT.sub('/…', r.path)}" for r in reqs)),
        "peak_1s": stack.bl.requests.peak_rate(),
        "http_429": sum(1 for r in reqs if r.status == 429),
        "failed_outcomes": len(failed),
        "failed_reasons": dict(Counter((o["failure"] or {}).get("reason_code") for o in failed)),
        "not_booked_once": not_once,
        "vouchers": sum(v for k, v in booked.items() if k[2] == day.isoformat()),
    }


#: A path's ids and dates (every segment that starts with a digit) as "…": requests counted by endpoint.
ENDPOINT = re.compile(r"/[0-9][0-9-]*(?=/|$)")
STORE_IN_TEXT = re.compile(r"\b([bm]\d{5})\b")


def _vouchers_per_store_day(stack: Stack, keys: dict[str, str]) -> Counter[tuple[str, str, str]]:
    """(company, store, date) → vouchers the stand-in holds: BL's books, not ours."""
    found: Counter[tuple[str, str, str]] = Counter()
    for key in keys.values():
        for v in stack.bl.vouchers(key):
            match = STORE_IN_TEXT.search(str(v.get("journalEntryText") or ""))
            found[(key, match.group(1) if match else "?", str(v.get("journalEntryDate")))] += 1
    return found

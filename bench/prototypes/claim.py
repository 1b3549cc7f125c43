"""A day close's claim by watermark, measured for a 5,000- and a 50,000-receipt day; and the checks that the SQL
totals are the pure ones (:mod:`mapping.totals`), that redelivery and a conflict add nothing, and that a
correction's re-export books the reversed export's sales again, once, naming the same rows.

The claim is one transaction of short statements, none of which reads or writes a sales row in the normal case:

1. ``pg_advisory_xact_lock`` on the store-day (ingest holds it shared while it writes that store-day's rows
   and totals, so once the claim has it, every row with an id up to the sequence's last value is committed);
2. deferred totals only: fold the store-day's rows not yet in its totals (:func:`bench.prototypes.fold.fold`);
3. the store-day's cumulative totals (one row per bucket: a few dozen rows whatever the day's size);
4. the latest export's snapshot (the cumulative totals when it claimed) and the totals of exports reversed
   since then (a correction releases them: the next claim books them again);
5. the new export: totals = cumulative − (snapshot − released) (:meth:`DayTotals.__sub__`), its own snapshot,
   and the id ranges that name its rows for the receipt → voucher link: (previous watermark, ``last_value``
   of the sales sequence], plus the ranges of the exports it books again.

Two ways to keep the totals are timed: updated in the ingest statement, and deferred (accumulated by the
consumer, flushed when the day close is ingested, the claim folding whatever came after); the deferred
claim is also timed with nothing flushed since midday (the claim folds half the day from the stored rows).
Each claim is timed ``RUNS`` times and rolled back; "commit alone" is what a durable commit adds.
"""

from __future__ import annotations

import statistics
import time
import uuid
from collections import defaultdict
from collections.abc import Sequence
from datetime import date
from typing import TYPE_CHECKING, Any

import psycopg
from psycopg.types.json import Jsonb

from bench import workload
from bench.measures import DAY
from bench.prototypes import fold
from bench.prototypes import ingest_schema as sql
from bench.prototypes import ingest_writers as w
from consumer import records
from devstack.sampledata import SAMPLE_PLAN
from mapping.totals import DayTotals
from mapping.totals_booking import build_voucher_from_totals
from service import messages
from storage.codecs import plan_from_json

if TYPE_CHECKING:
    from bench.prototypes.ingest_sql import Server

ORG = "org-claim"
RUNS = 30
AT_INGEST = "updated in the ingest statement"
DEFERRED = "deferred (memory, flushed; claim folds the tail)"
EXPORTS = """
CREATE TABLE exports (
    export_id       uuid PRIMARY KEY,
    organization_id text NOT NULL,
    store_id        text NOT NULL,
    business_date   date NOT NULL,
    reason_code     text,             -- 'REVERSED' once a correction's reversal is booked
    released_by     uuid,             -- the export that booked a reversed export's sales again
    totals          jsonb NOT NULL,   -- what this export books (DayTotals JSON)
    through         jsonb NOT NULL,   -- the store-day's cumulative totals when it claimed
    watermark       bigint NOT NULL,  -- sales.id up to which the store-day's rows were in those totals
    sales_ids       int8multirange NOT NULL,  -- the rows it books: the receipt → voucher link
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX exports_by_day ON exports (organization_id, store_id, business_date)"""


def claim(
    conn: psycopg.Connection[Any], org: str, store: str, day: date, *, fold_tail: bool, commit: bool = True
) -> tuple[uuid.UUID, DayTotals]:
    """Claim what is new in the store-day since its standing exports; returns the export id and its totals.
    ``fold_tail``: the totals are folded (:mod:`bench.prototypes.fold`), so fold this store-day's tail first.
    ``commit=False`` rolls the claim back (to time the same claim again)."""
    key = (org, store, day)
    export_id = uuid.uuid4()
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s || '/' || %s || '/' || %s::date::text, 0))", key)
        if fold_tail:
            fold.fold(conn, [key], in_sql=True)
        rows = conn.execute(
            "SELECT kind, key, rate, a, b, n, m FROM day_totals WHERE organization_id = %s "
            "AND store_id = %s AND business_date = %s",
            key,
        ).fetchall()
        earlier = conn.execute(
            """(SELECT 'latest', through, watermark, sales_ids, export_id FROM exports
                WHERE organization_id = %s AND store_id = %s AND business_date = %s ORDER BY watermark DESC LIMIT 1)
               UNION ALL
               SELECT 'released', totals, NULL, sales_ids, export_id FROM exports
               WHERE organization_id = %s AND store_id = %s AND business_date = %s AND reason_code = 'REVERSED'
                 AND released_by IS NULL""",
            key + key,
        ).fetchall()
        watermark = conn.execute("SELECT last_value FROM sales_id_seq").fetchone()[0]  # type: ignore[index]
        cumulative = DayTotals.from_rows(store, day, rows)
        standing, since = DayTotals.empty(store, day), 0
        ranges: list[Any] = []
        released: list[uuid.UUID] = []
        for what, totals, upto, ids, earlier_id in earlier:
            if what == "latest":
                standing, since = standing + DayTotals.from_json(totals), upto
            else:
                standing = standing - DayTotals.from_json(totals)
                ranges.append(ids)
                released.append(earlier_id)
        claimed = cumulative - standing
        insert = (
            "INSERT INTO exports (export_id, organization_id, store_id, business_date, totals, through, "  # noqa: S608
            "watermark, sales_ids) VALUES (%s, %s, %s, %s, %s, %s, %s, int8multirange(int8range(%s, %s, '(]'))"
            + " + %s::int8multirange" * len(ranges)
            + ")"
        )
        conn.execute(
            insert,
            (
                export_id,
                *key,
                Jsonb(claimed.to_json()),
                Jsonb(cumulative.to_json()),
                watermark,
                since,
                watermark,
                *ranges,
            ),
        )
        if released:
            conn.execute("UPDATE exports SET released_by = %s WHERE export_id = ANY(%s)", (export_id, released))
        if not commit:
            raise psycopg.Rollback()
    return export_id, claimed


def _batches(receipts: Sequence[messages.SalesEnvelope], totals: bool) -> list[w.Batch]:
    return [
        w.Batch(
            receipts[i : i + 500],
            [w.staging_row(e) for e in receipts[i : i + 500]],
            [b for e in receipts[i : i + 500] for b in w.bucket_stage(e)] if totals else [],
            [],
        )
        for i in range(0, len(receipts), 500)
    ]


def _ingest(
    conn: psycopg.Connection[Any],
    receipts: Sequence[messages.SalesEnvelope],
    mode: str,
    memory: fold.Accumulator | None = None,
) -> int:
    write = w.copy_writer(binary=True, totals="update" if mode == AT_INGEST else False, partitioned=False)
    new = 0
    for batch in _batches(receipts, True):
        with conn.transaction():
            result = write(conn, batch)
        if memory is not None:
            memory.add(result, batch.buckets)
        new += w.new_rows(result)
    return new


def _flush(conn: psycopg.Connection[Any], memory: fold.Accumulator) -> None:
    with conn.transaction():
        memory.flush(conn)


def _day(receipts: int, extra: int, prefix: str) -> list[messages.SalesEnvelope]:
    codec = workload.codec()
    return [
        records.sales_envelope(codec.decode(v))
        for _, v in workload.receipts(ORG, 1, receipts + extra, DAY, prefix=prefix)
    ]


def _timed(fn: Any) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def _ms(seconds: Sequence[float]) -> dict[str, float]:
    ordered = sorted(seconds)
    return {"p50_ms": statistics.median(ordered) * 1e3, "p99_ms": ordered[max(0, round(0.99 * len(ordered)) - 1)] * 1e3}


def _durable_commit(conn: psycopg.Connection[Any]) -> None:
    """The floor under any claim: a transaction that writes its commit record and waits for the disk."""
    with conn.transaction():
        conn.execute("SELECT txid_current()")


def _one_day(conn: psycopg.Connection[Any], receipts: int, mode: str) -> dict[str, Any]:
    """A manual export at midday, then the day close, timed ``RUNS`` times (rolled back) with the afternoon new.
    Deferred totals are timed twice: never flushed since midday (the claim folds the whole afternoon from the
    stored rows) and flushed when the day close is ingested (the claim folds the last few receipts).
    Then the day close is committed, with the checks."""
    deferred = mode == DEFERRED
    memory = fold.Accumulator() if deferred else None
    envelopes = _day(receipts, RUNS * 10, f"{mode[0]}{receipts}-")
    store = envelopes[0].store_id
    day, rest = envelopes[:receipts], envelopes[receipts:]
    half = receipts // 2
    _ingest(conn, day[:half], mode, memory)
    if memory is not None:
        _flush(conn, memory)
    _, manual = claim(conn, ORG, store, DAY, fold_tail=deferred)
    assert manual == DayTotals.of(store, DAY, [e.item for e in day[:half]])  # type: ignore[misc]
    _ingest(conn, day[half:], mode, memory)
    result: dict[str, Any] = {"receipts": receipts, "mode": mode}
    claims = [_timed(lambda: claim(conn, ORG, store, DAY, fold_tail=deferred, commit=False)) for _ in range(RUNS)]
    result["day_close_claim" + ("_unflushed" if deferred else "")] = _ms(claims)
    if memory is not None:
        _flush(conn, memory)  # as the ingest of the day close would: the claim then folds only what came after
        timings = []
        for run in range(RUNS):
            _ingest(conn, rest[run * 10 : (run + 1) * 10], mode, memory)
            timings.append(_timed(lambda: claim(conn, ORG, store, DAY, fold_tail=True, commit=False)))
        result["day_close_claim_flushed"] = _ms(timings)
        assert memory.fallbacks == 0, "a flush had to fold from the stored rows"
    else:
        _ingest(conn, rest, mode)
    result["commit_floor"] = _ms([_timed(lambda: _durable_commit(conn)) for _ in range(RUNS)])
    export_id, claimed = claim(conn, ORG, store, DAY, fold_tail=deferred)
    assert claimed == DayTotals.of(store, DAY, [e.item for e in [*day[half:], *rest]])  # type: ignore[misc]
    plan = plan_from_json(ORG, SAMPLE_PLAN)
    result["voucher_from_totals"] = _ms(
        [
            _timed(lambda: build_voucher_from_totals(claimed, plan, store_name="Butik", reference="DC-1"))
            for _ in range(RUNS)
        ]
    )
    _redelivery_and_conflict_add_nothing(conn, store, _batches(day[half : half + 500], True)[0], mode)
    _a_correction_books_the_reversed_export_again(conn, store, export_id, claimed, deferred)
    result["buckets"] = len(_totals(conn, store).rows())
    return result


def _a_correction_books_the_reversed_export_again(
    conn: psycopg.Connection[Any], store: str, reversed_id: uuid.UUID, booked: DayTotals, folded: bool
) -> None:
    """Reverse the day close's export (its reversal booked): the next claim books its sales again, once, and
    names the same rows (the reversed export's id ranges become the re-export's)."""
    conn.execute("UPDATE exports SET reason_code = 'REVERSED' WHERE export_id = %s", (reversed_id,))
    again_id, again = claim(conn, ORG, store, DAY, fold_tail=folded)
    assert again == booked, "the re-export does not book the reversed export's sales"
    rows = conn.execute(
        """SELECT (SELECT count(*) FROM sales s, exports e WHERE e.export_id = %s
                                   AND s.store_id = e.store_id AND e.sales_ids @> s.id),
                                  (SELECT count(*) FROM sales s, exports e WHERE e.export_id = %s
                                   AND s.store_id = e.store_id AND e.sales_ids @> s.id)""",
        (again_id, reversed_id),
    ).fetchone()
    assert rows is not None and rows[0] == rows[1] > 0, f"the re-export names other rows: {rows}"
    _, nothing = claim(conn, ORG, store, DAY, fold_tail=folded)
    assert nothing.is_empty, "a reversed export's sales were booked again twice"


def _redelivery_and_conflict_add_nothing(conn: psycopg.Connection[Any], store: str, batch: w.Batch, mode: str) -> None:
    before = _totals(conn, store)
    assert _ingest(conn, batch.envelopes, mode) == 0, "a redelivered batch stored rows again"
    changed = list(batch.rows[0])
    changed[5] = str(changed[5]).replace('"tip_ore":', '"tip_ore":1', 1)  # the same id with other content
    with conn.transaction(), conn.cursor() as cur:
        w._copy(cur, "staging", sql.STAGING_COLUMNS, [tuple(changed)], sql.STAGING_TYPES)
        cur.execute(sql.LOCK_STORE_DAYS)
        statement = sql.insert_statement(
            source="staging", totals="update" if mode == AT_INGEST else False, partitioned=False
        )
        result = cur.execute(statement).fetchall()
    assert [(r[5], r[9]) for r in result] == [(changed[4], True)], f"the conflict was not returned: {result}"
    if mode == DEFERRED:
        with conn.transaction():
            fold.fold(conn, [(ORG, store, DAY)], in_sql=True)
    assert _totals(conn, store) == before, "redelivery or a conflict changed the totals"


def _totals(conn: psycopg.Connection[Any], store: str) -> DayTotals:
    rows = conn.execute("SELECT kind, key, rate, a, b, n, m FROM day_totals WHERE store_id = %s", (store,)).fetchall()
    return DayTotals.from_rows(store, DAY, rows)


def check_totals(conn: psycopg.Connection[Any], batches: Sequence[w.Batch]) -> dict[str, Any]:
    """Every store-day's totals in the table equal :meth:`DayTotals.of` its items (the SQL sums what Python sums)."""
    items: defaultdict[str, list[Any]] = defaultdict(list)
    for batch in batches:
        for env in batch.envelopes:
            items[env.store_id].append(env.item)
    stored: defaultdict[str, list[Any]] = defaultdict(list)
    for store, *row in conn.execute(
        "SELECT store_id, kind, key, rate, a, b, n, m FROM day_totals WHERE business_date = %s", (DAY,)
    ):
        stored[store].append(tuple(row))
    wrong = [s for s in items if DayTotals.from_rows(s, DAY, stored[s]) != DayTotals.of(s, DAY, items[s])]
    if wrong:
        raise AssertionError(f"SQL totals differ from mapping.totals for {len(wrong)} stores, e.g. {wrong[0]}")
    return {"totals_checked_store_days": len(items), "bucket_rows": sum(len(v) for v in stored.values())}


def measure(server: Server, sizes: Sequence[int]) -> list[dict[str, Any]]:
    results = []
    for mode in (AT_INGEST, DEFERRED):
        url = server.database(sql.schema(partitioned=False) + ";\n" + EXPORTS + ";\n" + fold.FOLDS)
        try:
            with psycopg.connect(url, autocommit=True) as conn:
                w.prepare(conn)
                results += [_one_day(conn, n, mode) for n in sizes]
        finally:
            server.drop(url)
    return results


def table(results: list[dict[str, Any]]) -> str:
    lines = [
        "| totals | day | claim: day close, half the day new, p50 / p99 | … flushed at the day close | "
        "commit alone | voucher from totals |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        close = r.get("day_close_claim") or r["day_close_claim_unflushed"]
        kept = r.get("day_close_claim_flushed")
        lines.append(
            f"| {r['mode']} | {r['receipts']:,} receipts | {close['p50_ms']:.2f} / {close['p99_ms']:.2f} ms | "
            + (f"{kept['p50_ms']:.2f} / {kept['p99_ms']:.2f} ms" if kept else "—")
            + f" | {r['commit_floor']['p50_ms']:.2f} ms | {r['voucher_from_totals']['p50_ms']:.3f} ms |"
        )
    return "\n".join(lines)

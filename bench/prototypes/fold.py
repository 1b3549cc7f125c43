"""Deferred running totals: the ingest writes only the rows; a fold adds a store-day's rows since its last fold to
its totals, later, in its own transaction. The other way to keep totals, measured against updating them in the
ingest's statement (:mod:`bench.prototypes.ingest_schema`).

A fold of a store-day: take its advisory lock exclusively (as a claim does: every row up to the sales
sequence's last value is then committed), read the rows with an id above the store-day's fold watermark,
sum them with :meth:`mapping.totals.DayTotals.of` (the pure core, no money rules in SQL), add the sums to
``day_totals`` and move the watermark. Several store-days fold in one transaction, set-based.

Two ways to sum a tail: in Python with the pure core (:func:`fold`, ``in_sql=False``: no rule is written twice,
but every stored payload is parsed and rebuilt as a receipt), or in SQL (:data:`SUM_TAILS`: the bucket
definition of :mod:`mapping.totals` written again as SQL sums over the stored JSON, checked against the pure
core on every store-day the prototype writes). The SQL form leaves single-purpose redemptions to Python (a
merchant with single-purpose methods folds in Python): their VAT is a money rule, not a sum.

A claim folds its own store-day's tail first, so the totals it reads are never stale: a fold that lags only
makes the claim read more rows, it cannot make it wrong. The folder keeps that tail short.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import psycopg

from mapping.totals import DayTotals
from storage.codecs import item_from_json

FOLDS = """CREATE TABLE day_folds (
    organization_id text NOT NULL, store_id text NOT NULL, business_date date NOT NULL,
    through bigint NOT NULL,  -- sales.id up to which the store-day's rows are in day_totals
    PRIMARY KEY (organization_id, store_id, business_date))"""

StoreDay = tuple[str, str, date]

ADD = """
WITH d AS (
    SELECT * FROM unnest(%b::text[], %b::text[], %b::date[], %b::text[], %b::text[], %b::int4[], %b::int8[],
                         %b::int8[], %b::int8[], %b::int8[])
        AS d(organization_id, store_id, business_date, kind, key, rate, a, b, n, m)),
upd AS (
    UPDATE day_totals t SET a = t.a + d.a, b = t.b + d.b, n = t.n + d.n, m = t.m + d.m
    FROM d
    WHERE t.organization_id = d.organization_id AND t.store_id = d.store_id AND t.business_date = d.business_date
      AND t.kind = d.kind AND t.key = d.key AND t.rate = d.rate)
-- New buckets: those the statement's snapshot does not hold (the UPDATE above took the others). One created
-- meanwhile by another transaction is caught by ON CONFLICT. (An anti-join against the UPDATE's RETURNING
-- was planned as a nested loop over both: 29 µs per bucket at 6,400 buckets.)
INSERT INTO day_totals (organization_id, store_id, business_date, kind, key, rate, a, b, n, m)
SELECT d.* FROM d LEFT JOIN day_totals t
    ON t.organization_id = d.organization_id AND t.store_id = d.store_id AND t.business_date = d.business_date
   AND t.kind = d.kind AND t.key = d.key AND t.rate = d.rate
WHERE t.organization_id IS NULL
ON CONFLICT (organization_id, store_id, business_date, kind, key, rate) DO UPDATE
SET a = day_totals.a + excluded.a, b = day_totals.b + excluded.b, n = day_totals.n + excluded.n,
    m = day_totals.m + excluded.m"""

TAILS = """
WITH k AS MATERIALIZED (
    SELECT k.*, coalesce(f.through, 0) AS since
    FROM unnest(%b::text[], %b::text[], %b::date[]) AS k(organization_id, store_id, business_date)
    LEFT JOIN day_folds f USING (organization_id, store_id, business_date))
SELECT s.organization_id, s.store_id, s.business_date, s.kind, s.payload, s.id
FROM k JOIN LATERAL (SELECT * FROM sales s WHERE s.organization_id = k.organization_id AND s.store_id = k.store_id
                     AND s.business_date = k.business_date AND s.id > k.since AND s.id <= %s) s ON true"""

MOVE = """
INSERT INTO day_folds (organization_id, store_id, business_date, through)
SELECT * FROM unnest(%b::text[], %b::text[], %b::date[]) AS k, (SELECT %s::bigint) w
ON CONFLICT (organization_id, store_id, business_date) DO UPDATE SET through = excluded.through"""


# The buckets of mapping.totals as SQL sums over the tails' stored JSON (consumer.messages.item_to_json). The
# receipt's first group at a rate is min(group) in code point order, as Python compares strings: COLLATE "C".
SUM_TAILS = """
WITH k AS MATERIALIZED (
    -- Each store-day's watermark first, so that it bounds the index scan below (joined after the scan, it was a
    -- filter over every row of the store-day: 79 ms for 10 new receipts of a 50,000-receipt day).
    SELECT k.*, coalesce(f.through, 0) AS since
    FROM unnest(%(o)s::text[], %(s)s::text[], %(d)s::date[]) AS k(organization_id, store_id, business_date)
    LEFT JOIN day_folds f USING (organization_id, store_id, business_date)),
r AS MATERIALIZED (
    SELECT s.organization_id AS o, s.store_id AS st, s.business_date AS d, s.id, s.kind, s.payload AS p,
           CASE s.payload->>'kind' WHEN 'return' THEN -1 ELSE 1 END AS sg
    FROM k JOIN LATERAL (SELECT * FROM sales s WHERE s.organization_id = k.organization_id AND s.store_id = k.store_id
                         AND s.business_date = k.business_date AND s.id > k.since AND s.id <= %(w)s) s ON true),
l AS MATERIALIZED (
    SELECT r.o, r.st, r.d, r.id, r.sg, e->>0 AS grp, (e->>1)::int AS rate, (e->>2)::bigint AS gross,
           (e->>3)::bigint AS vat
    FROM r, jsonb_array_elements(r.p->'lines') AS e WHERE r.kind = 'receipt'),
pay AS (
    SELECT r.o, r.st, r.d, r.sg, e.v->>0 AS method, (e.v->>1)::bigint AS amount, e.n
    FROM r, jsonb_array_elements(r.p->'payments') WITH ORDINALITY AS e(v, n) WHERE r.kind = 'receipt'),
b AS (
    SELECT o, st, d, 'line' AS kind, grp AS key, rate, sum(sg * gross) AS a, sum(sg * vat) AS b, count(*) AS n,
           0 AS m FROM l GROUP BY o, st, d, grp, rate
    UNION ALL
    SELECT o, st, d, 'line', grp, rate, 0, 0, 0, count(*)
    FROM (SELECT o, st, d, min(grp COLLATE "C") AS grp, rate FROM l GROUP BY o, st, d, id, rate) firsts
    GROUP BY o, st, d, grp, rate
    UNION ALL
    SELECT o, st, d, 'payment', method, 0, sum(sg * amount), 0, count(*), count(*) FILTER (WHERE n = 1)
    FROM pay GROUP BY o, st, d, method
    UNION ALL
    SELECT o, st, d, 'receipt', '', 0, 0, 0, count(*), 0 FROM r
    WHERE kind = 'receipt' AND jsonb_array_length(p->'payments') = 0 GROUP BY o, st, d
    UNION ALL
    SELECT o, st, d, 'tip', '', 0, sum(sg * (p->>'tip_ore')::bigint), 0, count(*), 0 FROM r
    WHERE kind = 'receipt' AND (p->>'tip_ore')::bigint <> 0 GROUP BY o, st, d
    UNION ALL
    SELECT o, st, d, 'rounding', '', 0, sum(sg * (p->>'rounding_ore')::bigint), 0, count(*), 0 FROM r
    WHERE kind = 'receipt' AND (p->>'rounding_ore')::bigint <> 0 GROUP BY o, st, d
    UNION ALL
    SELECT o, st, d, 'movement', p->>'kind', 0, sum((p->>'amount_ore')::bigint), 0, count(*), 0 FROM r
    WHERE kind = 'cash_movement' GROUP BY o, st, d, p->>'kind'
    UNION ALL
    SELECT o, st, d, 'expiry', '', 0, sum((p->>'amount_ore')::bigint), 0, count(*), 0 FROM r
    WHERE kind = 'gift_card_expired' GROUP BY o, st, d)
SELECT o, st, d, kind, key, rate, sum(a)::bigint, sum(b)::bigint, sum(n)::bigint, sum(m)::bigint
FROM b GROUP BY o, st, d, kind, key, rate"""


def fold(
    conn: psycopg.Connection[Any],
    days: Sequence[StoreDay],
    single_purpose: dict[str, int] | None = None,
    *,
    in_sql: bool = False,
) -> None:
    """Fold these store-days' tails into their totals (call inside a transaction)."""
    ordered = sorted(set(days))
    keys = [[d[i] for d in ordered] for i in range(3)]
    conn.execute(
        "SELECT count(pg_advisory_xact_lock(hashtextextended(o || '/' || s || '/' || d::text, 0))) "
        "FROM unnest(%b::text[], %b::text[], %b::date[]) AS k(o, s, d)",
        keys,
    )
    watermark = conn.execute("SELECT last_value FROM sales_id_seq").fetchone()[0]  # type: ignore[index]
    if in_sql and not single_purpose:
        rows = conn.execute(SUM_TAILS, {"o": keys[0], "s": keys[1], "d": keys[2], "w": watermark}).fetchall()
    else:
        rows = _sum_in_python(conn, keys, watermark, single_purpose)
    add(conn, rows)
    conn.execute(MOVE, [*keys, watermark])


def add(conn: psycopg.Connection[Any], rows: Sequence[tuple[Any, ...]]) -> None:
    """Add bucket rows (organization, store, date, kind, key, rate, a, b, n, m) to ``day_totals``. The UPDATE
    must probe the key for each row: on a small table the planner prefers hashing all of it (measured: 136 ms
    for 6,400 buckets against 210,000 rows), and a real one only grows."""
    if rows:
        conn.execute("SET LOCAL enable_hashjoin = off")
        conn.execute("SET LOCAL enable_mergejoin = off")
        conn.execute(ADD, [[r[i] for r in rows] for i in range(10)])


def _sum_in_python(
    conn: psycopg.Connection[Any], keys: list[list[Any]], watermark: int, single_purpose: dict[str, int] | None
) -> list[tuple[Any, ...]]:
    items: defaultdict[StoreDay, list[Any]] = defaultdict(list)
    for org, store, day, kind, payload, _ in conn.execute(TAILS, [*keys, watermark]):
        items[(org, store, day)].append(item_from_json(kind, store, day, payload))
    tails = {sd: DayTotals.of(sd[1], sd[2], listed, single_purpose or {}) for sd, listed in items.items()}
    return [(*sd, *row) for sd, tail in tails.items() for row in tail.rows()]


# --- totals accumulated in the consumer's memory, flushed now and then -----------------------------------------

COUNT_TAILS = """
SELECT k.organization_id, k.store_id, k.business_date, coalesce(f.through, 0),
       (SELECT count(*) FROM sales s WHERE s.organization_id = k.organization_id AND s.store_id = k.store_id
        AND s.business_date = k.business_date AND s.id > coalesce(f.through, 0) AND s.id <= %s)
FROM unnest(%b::text[], %b::text[], %b::date[]) AS k(organization_id, store_id, business_date)
LEFT JOIN day_folds f USING (organization_id, store_id, business_date)"""


@dataclass
class Pending:
    """What this process inserted for one store-day since its last flush: the rows' buckets and ids."""

    buckets: defaultdict[tuple[str, str, int], list[int]] = field(default_factory=lambda: defaultdict(_zeros))
    rows: int = 0
    first_id: int = 0


def _zeros() -> list[int]:
    return [0, 0, 0, 0]


class Accumulator:
    """The ingest adds the buckets of the rows its statement inserted (after the commit); a flush adds them to
    ``day_totals`` only if the store-day's rows since its fold watermark are exactly the ones accumulated (same
    count, none older than the watermark). Otherwise (a restart lost the memory, another consumer wrote rows
    during a rebalance) the store-day's tail is folded from the stored rows. Exact either way."""

    def __init__(self) -> None:
        self.pending: dict[StoreDay, Pending] = {}
        self.fallbacks = 0

    def add(self, result: Sequence[tuple[Any, ...]], buckets: Sequence[tuple[Any, ...]]) -> None:
        not_new = {r[5] for r in result if r[5] is not None}
        for r in result:
            if r[3] is not None:
                pending = self.pending.setdefault((r[0], r[1], r[2]), Pending())
                pending.first_id = min(pending.first_id or r[7], r[7])
                pending.rows += r[3]
        for org, event_key, store, day, kind, key, rate, a, b, n, m in buckets:
            if event_key not in not_new:
                bucket = self.pending[(org, store, day)].buckets[(kind, key, rate)]
                bucket[0] += a
                bucket[1] += b
                bucket[2] += n
                bucket[3] += m

    def flush(self, conn: psycopg.Connection[Any], days: Sequence[StoreDay] | None = None) -> None:
        """Flush these store-days (all pending ones by default); call inside a transaction."""
        ordered = sorted(set(days if days is not None else self.pending))
        keys = [[d[i] for d in ordered] for i in range(3)]
        conn.execute(
            "SELECT count(pg_advisory_xact_lock(hashtextextended(o || '/' || s || '/' || d::text, 0))) "
            "FROM unnest(%b::text[], %b::text[], %b::date[]) AS k(o, s, d)",
            keys,
        )
        watermark = conn.execute("SELECT last_value FROM sales_id_seq").fetchone()[0]  # type: ignore[index]
        rows: list[tuple[Any, ...]] = []
        stale: list[StoreDay] = []
        for org, store, day, through, count in conn.execute(COUNT_TAILS, [watermark, *keys]):
            pending = self.pending.pop((org, store, day), Pending())
            if count == pending.rows and (not count or pending.first_id > through):
                rows += [(org, store, day, kind, key, rate, *v) for (kind, key, rate), v in pending.buckets.items()]
            else:
                stale.append((org, store, day))
        if stale:
            self.fallbacks += len(stale)
            sk = [[d[i] for d in stale] for i in range(3)]
            rows += conn.execute(SUM_TAILS, {"o": sk[0], "s": sk[1], "d": sk[2], "w": watermark}).fetchall()
        add(conn, rows)
        conn.execute(MOVE, [*keys, watermark])


class Folding:
    """Runs a variant's deferred totals during a timed ingest: every ``every`` batches it folds (``"python"`` or
    ``"sql"``) or flushes (``"memory"``) the store-days written since; that time and WAL are kept apart. In
    ``"memory"`` mode the accumulation after each commit is ingest work and stays in the ingest's time."""

    def __init__(self, mode: str, every: int, lsn: Callable[[], int]) -> None:
        self.mode, self.every, self.lsn = mode, every, lsn
        self.seconds = 0.0
        self.wal_bytes = 0
        self.batches = 0
        self.written: set[StoreDay] = set()
        self.memory = Accumulator()

    def after(
        self, conn: psycopg.Connection[Any], batch: Any, result: Sequence[tuple[Any, ...]], *, last: bool
    ) -> None:
        if not self.mode:
            return
        if self.mode == "memory":
            self.memory.add(result, batch.buckets)
        self.written |= {(e.organization_id, e.store_id, e.business_date) for e in batch.envelopes}
        self.batches += 1
        if self.batches % self.every and not last:
            return
        start, started = self.lsn(), time.perf_counter()
        with conn.transaction():
            if self.mode == "memory":
                self.memory.flush(conn)
            else:
                fold(conn, sorted(self.written), in_sql=self.mode == "sql")
        self.seconds += time.perf_counter() - started
        self.wal_bytes += self.lsn() - start
        self.written.clear()

    def figures(self, n: int) -> dict[str, float]:
        if not self.mode:
            return {}
        return {
            "fold_us_per_event": self.seconds / n * 1e6,
            "fold_wal_bytes_per_event": self.wal_bytes / n,
            "flush_fallbacks": self.memory.fallbacks,
        }

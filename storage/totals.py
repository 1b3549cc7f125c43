"""A register-day's running totals (:class:`mapping.totals.DayTotals` buckets) in ``day_totals``, summed over its rows
up to ``day_folds.through``.

The invariant every writer keeps: **a register-day's ``day_totals`` are the buckets of exactly its rows with an id up
to its ``through``**. A writer takes its store-day's advisory lock exclusively (:func:`lock`; a store's registers
share it), then reads the watermark (:func:`watermark`): the ingest holds the same lock shared while it draws ids, so
every row of the store-day up to the watermark is committed and none can appear below it later. It then adds
exactly the rows in ``(through, watermark]`` and moves ``through`` to the watermark:

* :func:`fold` reads them from ``sales`` and sums them with the pure core (a claim's tail, a fallback);
* :func:`flush` takes the consumer's in-memory sums of the rows it inserted, when a count proves they are all of
  those rows (none lost in a crash, none written by another consumer during a rebalance), and folds otherwise.

Single-purpose gift card redemptions depend on the plan (:mod:`mapping.totals`): a register-day whose totals were
summed for other single-purpose methods than the plan has now is summed again from its rows (:func:`refold`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import psycopg

from mapping.buckets import SalesItem
from mapping.totals import DayTotals
from service.ports import Flushed, Pending, RegisterDay, SinglePurposeOf, StoreDay
from storage.codecs import item_from_json

__all__ = ["Flushed", "Pending", "PostgresTotals", "RegisterDay", "SinglePurposeOf", "StoreDay"]


def lock(conn: psycopg.Connection[Any], days: Iterable[RegisterDay]) -> list[RegisterDay]:
    """Take the advisory locks of the register-days' store-days exclusively, in a fixed order (no deadlock between
    two writers, or with the ingest's shared locks). Returns the register-days in order."""
    ordered = sorted(set(days))
    stores = sorted({d[:3] for d in ordered})
    conn.execute(
        "SELECT count(pg_advisory_xact_lock(sales_day_lock_key(o, s, d))) FROM "
        "(SELECT * FROM unnest(%b::text[], %b::text[], %b::date[]) AS k(o, s, d) "
        "ORDER BY sales_day_lock_key(o, s, d)) k",
        [[d[0] for d in stores], [d[1] for d in stores], [d[2] for d in stores]],
    )
    return ordered


def watermark(conn: psycopg.Connection[Any]) -> int:
    """The highest id handed out so far (read after :func:`lock`: every row of a locked store-day up to it is
    committed). ``is_called`` is false until the first id is drawn: then nothing is handed out yet."""
    row = conn.execute(
        "SELECT CASE WHEN is_called THEN last_value ELSE last_value - 1 END FROM sales_id_seq"
    ).fetchone()
    return int(row[0]) if row else 0


_DAY = "organization_id = %s AND store_id = %s AND business_date = %s AND register_id = %s"


def read(conn: psycopg.Connection[Any], day: RegisterDay) -> tuple[DayTotals, int]:
    """The register-day's totals and the id up to which they are summed (0: nothing yet)."""
    org, store, business_date, register = day
    rows = conn.execute(
        f"SELECT kind, key, rate, a, b, n, m FROM day_totals WHERE {_DAY}",  # noqa: S608 - constant
        day,
    ).fetchall()
    through = conn.execute(f"SELECT through FROM day_folds WHERE {_DAY}", day).fetchone()  # noqa: S608 - constant
    return DayTotals.from_rows(store, business_date, rows, register), int(through[0]) if through else 0


def items(conn: psycopg.Connection[Any], day: RegisterDay, above: int, upto: int) -> list[SalesItem]:
    """The register-day's sales with an id in ``(above, upto]``, in id order."""
    org, store, business_date, register = day
    rows = conn.execute(
        f"SELECT kind, payload FROM sales WHERE {_DAY} AND id > %s AND id <= %s ORDER BY id",  # noqa: S608
        (*day, above, upto),
    ).fetchall()
    return [item_from_json(kind, store, business_date, payload, register) for kind, payload in rows]


def fold(
    conn: psycopg.Connection[Any], day: RegisterDay, upto: int, single_purpose: Mapping[str, int]
) -> tuple[DayTotals, int]:
    """Add the register-day's rows up to ``upto`` not summed yet to its totals (the caller holds its lock and read
    ``upto`` after taking it). Returns the totals and how many rows were read."""
    totals, through = read(conn, day)
    if through >= upto:
        return totals, 0
    tail = items(conn, day, through, upto)
    if tail:
        added = DayTotals.of(day[1], day[2], tail, single_purpose, register_id=day[3])
        add(conn, [(*day, *row) for row in added.rows()])
        totals = totals + added
    move(conn, [day], upto)
    return totals, len(tail)


def refold(conn: psycopg.Connection[Any], day: RegisterDay, upto: int, single_purpose: Mapping[str, int]) -> DayTotals:
    """Sum the register-day again from all its rows up to ``upto``, for these single-purpose methods (the plan's
    changed since its totals were summed). O(day), once per such change."""
    totals = DayTotals.of(day[1], day[2], items(conn, day, 0, upto), single_purpose, register_id=day[3])
    conn.execute(f"DELETE FROM day_totals WHERE {_DAY}", day)  # noqa: S608 - constant
    add(conn, [(*day, *row) for row in totals.rows()])
    move(conn, [day], upto)
    return totals


# --- set-based writes --------------------------------------------------------------------------------------------

_ADD = """
WITH d AS (
    SELECT * FROM unnest(%b::text[], %b::text[], %b::date[], %b::text[], %b::text[], %b::text[], %b::int4[],
                         %b::int8[], %b::int8[], %b::int8[], %b::int8[])
        AS d(organization_id, store_id, business_date, register_id, kind, key, rate, a, b, n, m)),
upd AS (
    UPDATE day_totals t SET a = t.a + d.a, b = t.b + d.b, n = t.n + d.n, m = t.m + d.m
    FROM d
    WHERE t.organization_id = d.organization_id AND t.store_id = d.store_id AND t.business_date = d.business_date
      AND t.register_id = d.register_id AND t.kind = d.kind AND t.key = d.key AND t.rate = d.rate)
-- New buckets: those the statement's snapshot does not hold (the UPDATE took the others; every writer holds the
-- store-day's lock, so none appears meanwhile). A plain UPDATE writes one WAL record per bucket where
-- ON CONFLICT DO UPDATE writes two (it locks the row first).
INSERT INTO day_totals (organization_id, store_id, business_date, register_id, kind, key, rate, a, b, n, m)
SELECT d.* FROM d LEFT JOIN day_totals t
    ON t.organization_id = d.organization_id AND t.store_id = d.store_id AND t.business_date = d.business_date
   AND t.register_id = d.register_id AND t.kind = d.kind AND t.key = d.key AND t.rate = d.rate
WHERE t.organization_id IS NULL"""


def add(conn: psycopg.Connection[Any], rows: Sequence[tuple[Any, ...]]) -> None:
    """Add bucket rows (organization, store, date, register, kind, key, rate, a, b, n, m) to ``day_totals`` (the
    caller holds the store-days' locks). The UPDATE must probe the key per row: on a small table the planner prefers
    hashing all of it (measured in phase 1: 136 ms for 6,400 buckets against 210,000 rows)."""
    if not rows:
        return
    summed: defaultdict[tuple[Any, ...], list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for *key, a, b, n, m in rows:
        bucket = summed[tuple(key)]
        bucket[0] += a
        bucket[1] += b
        bucket[2] += n
        bucket[3] += m
    flat = [(*key, *values) for key, values in summed.items()]
    conn.execute("SET LOCAL enable_hashjoin = off; SET LOCAL enable_mergejoin = off")  # one round trip
    conn.execute(_ADD, [[r[i] for r in flat] for i in range(11)])
    conn.execute("RESET enable_hashjoin; RESET enable_mergejoin")


def move(conn: psycopg.Connection[Any], days: Sequence[RegisterDay], through: int) -> None:
    conn.execute(
        """INSERT INTO day_folds (organization_id, store_id, business_date, register_id, through)
           SELECT k.*, %s FROM unnest(%b::text[], %b::text[], %b::date[], %b::text[]) AS k
           ON CONFLICT (organization_id, store_id, business_date, register_id)
           DO UPDATE SET through = excluded.through""",
        [through, *_columns(days)],
    )


def _columns(days: Sequence[RegisterDay]) -> list[list[Any]]:
    return [[d[0] for d in days], [d[1] for d in days], [d[2] for d in days], [d[3] for d in days]]


# --- the consumer's sums, flushed --------------------------------------------------------------------------------


_COUNT_TAILS = """
SELECT k.organization_id, k.store_id, k.business_date, k.register_id, coalesce(f.through, 0),
       (SELECT count(*) FROM sales s WHERE s.organization_id = k.organization_id AND s.store_id = k.store_id
        AND s.business_date = k.business_date AND s.register_id = k.register_id
        AND s.id > coalesce(f.through, 0) AND s.id <= %s)
FROM unnest(%b::text[], %b::text[], %b::date[], %b::text[]) AS k(organization_id, store_id, business_date, register_id)
LEFT JOIN day_folds f USING (organization_id, store_id, business_date, register_id)"""


def flush(
    conn: psycopg.Connection[Any], pending: Mapping[RegisterDay, Pending], single_purpose_of: SinglePurposeOf
) -> Flushed:
    """Add the pending sums of these register-days to their totals (call inside a transaction).

    For each register-day, the rows in ``(through, watermark]`` are counted. The pending rows are among them (all
    committed, all inserted after the last flush this process saw, so above ``through`` unless a claim folded
    them since): when none is at or below ``through`` and the counts are equal, they are exactly those rows and
    their sums are added. Otherwise the tail is folded from the stored rows."""
    days = lock(conn, pending)
    upto = watermark(conn)
    rows: list[tuple[Any, ...]] = []
    moved: list[RegisterDay] = []
    fallback: list[RegisterDay] = []
    for org, store, day, register, through, count in conn.execute(_COUNT_TAILS, [upto, *_columns(days)]).fetchall():
        key = (org, store, day, register)
        p = pending[key]
        if p.exact and count == p.rows and p.first_id > through:
            rows += [(*key, k, key_, rate, *v) for (k, key_, rate), v in p.buckets.items() if any(v)]
            moved.append(key)
        elif count:
            fallback.append(key)
    add(conn, rows)
    if moved:
        move(conn, moved, upto)
    read_rows = 0
    for key in fallback:
        read_rows += fold(conn, key, upto, single_purpose_of(key[0]))[1]
    return Flushed(len(days), len(moved), len(fallback), read_rows)


class PostgresTotals:
    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self.conn = conn

    def flush(self, pending: Mapping[RegisterDay, Pending], single_purpose_of: SinglePurposeOf) -> Flushed:
        return flush(self.conn, pending, single_purpose_of) if pending else Flushed(0, 0, 0, 0)

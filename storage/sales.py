"""Ingestion of the sales stream: idempotent on (organization, event key), one transaction per batch; an
id seen again with other content is a conflict, reported rather than dropped."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from service.messages import Conflict, DayClosed, SalesEnvelope
from service.ports import Ingested, NewDayClose, RegisterDay, StoreDay, Written
from storage import partitions
from storage.claims import UNEXPORTED
from storage.codecs import LABELS, content, control_to_json, item_row_json


class PostgresSales:
    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self.conn = conn

    def ingest(
        self,
        envelopes: Sequence[SalesEnvelope],
        *,
        closing: Collection[RegisterDay] = (),
        prepared: object | None = None,
    ) -> Ingested:
        return ingest_sales(self.conn, envelopes, closing=closing, prepared=prepared)

    def unbooked_before(self, org: str, day: date) -> tuple[int, date | None, date | None]:
        """(days, first, last) of stored sales before ``day`` that no export claimed."""
        row = self.conn.execute(
            f"""SELECT count(*), min(business_date), max(business_date) FROM (
                   SELECT DISTINCT s.organization_id, s.store_id, s.business_date FROM sales s
                   WHERE s.organization_id = %s AND s.business_date < %s) d
               WHERE {UNEXPORTED.format(d="d")}""",  # noqa: S608 - constant
            (org, day),
        ).fetchone()
        return (int(row[0]), row[1], row[2]) if row else (0, None, None)


@dataclass(frozen=True)
class PreparedRows:
    """A batch's rows as :func:`ingest_sales` sends them, made from its envelopes alone (no connection, no state):
    made by :func:`prepare_rows` on the Kafka loop's thread while the writer thread writes the batch before, so the
    writer (ingest's bottleneck: it waits on PostgreSQL in between) only sends them."""

    envelopes: Sequence[SalesEnvelope]
    #: Every later event of an id in the batch, paired with the first.
    repeats: list[tuple[SalesEnvelope, SalesEnvelope]]
    #: The first event of each id that is a receipt, cash movement or gift card expiry (the rows inserted) ...
    items: list[SalesEnvelope]
    #: ... and that is a day close.
    closes: list[SalesEnvelope]
    #: The insert's arrays, one entry per item: organization, store, business date, kind, event key, the stored
    #: row's JSON, register.
    columns: tuple[list[Any], ...]


def prepare_rows(envelopes: Sequence[SalesEnvelope]) -> PreparedRows:
    """The batch's first event of each id (the store keeps the first; every later one is paired with it, to be
    compared), split into items and day closes, and the insert's arrays. One pass: each event's key is made once (a
    property, built on every read)."""
    first: dict[tuple[str, str], SalesEnvelope] = {}
    repeats: list[tuple[SalesEnvelope, SalesEnvelope]] = []
    items: list[SalesEnvelope] = []
    closes: list[SalesEnvelope] = []
    keys: list[str] = []
    for env in envelopes:
        key = env.event_key
        seen = first.get((env.organization_id, key))
        if seen is not None:
            repeats.append((env, seen))
            continue
        first[(env.organization_id, key)] = env
        if isinstance(env.item, DayClosed):
            closes.append(env)
        else:
            items.append(env)
            keys.append(key)
    columns = (
        [e.organization_id for e in items],
        [e.store_id for e in items],
        [e.business_date for e in items],
        [e.kind for e in items],
        keys,
        [item_row_json(e.item) for e in items],  # type: ignore[arg-type]
        [e.register_id for e in items],
    )
    return PreparedRows(envelopes, repeats, items, closes, columns)


def ingest_sales(
    conn: psycopg.Connection[Any],
    envelopes: Sequence[SalesEnvelope],
    *,
    closing: Collection[RegisterDay] = (),
    prepared: object | None = None,
) -> Ingested:
    """Store receipts, cash movements, gift card expiries and day closes, and report what was new: the rows per
    register-day, the day closes stored now (``Ingested.closed``); which jobs they ask for is the service's decision
    (:func:`service.sales.record_sales`), and nothing here queues one. An id seen again with the same content is a
    duplicate (redelivery, a POS re-send) and ignored; with other content it is a :class:`Conflict`, returned for
    the caller to dead-letter. The store-days of ``closing`` are locked exclusively (their totals are flushed in this
    transaction), the others shared. What the batch wrote per register-day says whether that day was closed already
    (``Written.closed``: computed before this batch's own day closes are stored, so receipts that precede their day
    close in the stream are on time); what late sales do is the service's decision (:mod:`service.late_sales`).

    ``prepared``: :func:`prepare_rows` of these very ``envelopes`` (the same sequence object), made beforehand on
    another thread; anything else is ignored and the rows are prepared here."""
    rows = prepared if isinstance(prepared, PreparedRows) and prepared.envelopes is envelopes else None
    rows = rows or prepare_rows(envelopes)
    result = Ingested()
    items, closes = rows.items, rows.closes
    # One wait for the locks, the partitions and the insert: sent together (libpq's pipeline mode), run by the server
    # in order, each failing the ones after it as before. (The transaction's BEGIN is a wait of its own.)
    with conn.pipeline():
        _lock_days(conn, {(e.organization_id, e.store_id, e.business_date) for e in items}, {d[:3] for d in closing})
        if items:
            partitions.ensure(conn, set(rows.columns[2]))
            written = _insert_items(conn, rows, result.conflicts)
            result.new = sum(w.count for w in written)
            result.written = written
    if closes:
        _name_stores(conn, closes)
    for env in closes:
        if (close := _insert_day_close(conn, env, result.conflicts)) is not None:
            result.closed.append(close)
            result.new += 1
    _repeats_in_batch(rows.repeats, result.conflicts)
    return result


def _repeats_in_batch(repeats: list[tuple[SalesEnvelope, SalesEnvelope]], conflicts: list[Conflict]) -> None:
    """A repeat within the batch is compared with the version that stands: the stored one when the batch's
    first was itself a conflict, the batch's first otherwise."""
    standing = {id(c.envelope): c.stored for c in conflicts}
    for env, first in repeats:
        stands = standing.get(id(first)) or content(first)
        received = content(env)
        if received != stands:
            conflicts.append(Conflict(env, stands, received))


def _name_stores(conn: psycopg.Connection[Any], closes: Sequence[SalesEnvelope]) -> None:
    """A day close names its store: stored, or renamed when the name changed. Receipts never carry a name, so
    the ingest of receipts only inserts stores it has not seen (``DO NOTHING``: no WAL for a known store)."""
    names: dict[tuple[str, str], str] = {}
    for env in closes:
        if isinstance(env.item, DayClosed):
            names[(env.organization_id, env.store_id)] = env.item.store_name
    keys = sorted(names)
    conn.execute(
        """WITH v AS (SELECT * FROM unnest(%b::text[], %b::text[], %b::text[]) AS v(o, s, name)),
           upd AS (UPDATE stores t SET name = v.name FROM v
                   WHERE t.organization_id = v.o AND t.store_id = v.s AND t.name IS DISTINCT FROM v.name)
           INSERT INTO stores (organization_id, store_id, name) SELECT o, s, name FROM v ON CONFLICT DO NOTHING""",
        ([o for o, _ in keys], [st for _, st in keys], [names[k] for k in keys]),
    )


#: One statement per batch: the new rows, the stores not seen before, and for every row what it did — one row per
#: store-day with new rows (how many, their id range, whether the day is closed already), one per id that was
#: stored before and differs (the stored version: a conflict).
_INSERT = """
WITH input AS MATERIALIZED (
    SELECT * FROM unnest(%b::text[], %b::text[], %b::date[], %b::text[], %b::text[], %b::text[], %b::text[])
        AS t(organization_id, store_id, business_date, kind, event_key, p, register_id)),
ins AS (
    INSERT INTO sales (organization_id, store_id, business_date, kind, event_key, payload, register_id)
    SELECT i.organization_id, i.store_id, i.business_date, i.kind, i.event_key, i.p::jsonb, i.register_id
    FROM input i
    -- Stored under any business date: an id is stored once. A LATERAL probe with LIMIT is one index probe per
    -- partition; NOT EXISTS would be planned as an anti-join over every partition's rows.
    LEFT JOIN LATERAL (SELECT true AS found FROM sales x WHERE x.organization_id = i.organization_id
                       AND x.event_key = i.event_key LIMIT 1) seen ON true
    WHERE seen.found IS NULL
    ON CONFLICT (organization_id, event_key, business_date) DO NOTHING  -- a twin written meanwhile
    RETURNING id, organization_id, store_id, business_date, register_id, event_key),
-- The stores and registers not seen before. Looked up first: a known one is one index probe, where ON CONFLICT
-- alone would run the insert's machinery for it (a speculative insertion's check, the heap tuple read): 2-3 µs of
-- PostgreSQL's CPU per event when a batch holds hundreds of stores. ON CONFLICT stays for one inserted meanwhile.
st AS (
    INSERT INTO stores (organization_id, store_id) SELECT DISTINCT organization_id, store_id FROM input i
    WHERE NOT EXISTS (SELECT 1 FROM stores t WHERE t.organization_id = i.organization_id AND t.store_id = i.store_id)
    ON CONFLICT DO NOTHING),
rg AS (
    INSERT INTO registers (organization_id, store_id, register_id)
    SELECT DISTINCT organization_id, store_id, register_id FROM input i
    WHERE NOT EXISTS (SELECT 1 FROM registers g WHERE g.organization_id = i.organization_id
                      AND g.store_id = i.store_id AND g.register_id = i.register_id)
    ON CONFLICT DO NOTHING),
again AS MATERIALIZED (
    SELECT * FROM input i
    WHERE NOT EXISTS (SELECT 1 FROM ins WHERE ins.organization_id = i.organization_id
                                          AND ins.event_key = i.event_key))
SELECT n.organization_id, n.store_id, n.business_date, n.register_id, n.new, n.first_id, n.last_id,
       EXISTS (SELECT 1 FROM day_closes c WHERE c.organization_id = n.organization_id AND c.store_id = n.store_id
               AND c.register_id = n.register_id AND c.business_date = n.business_date), NULL::text, NULL::jsonb
FROM (SELECT organization_id, store_id, business_date, register_id, count(*) AS new, min(id) AS first_id,
             max(id) AS last_id
      FROM ins GROUP BY 1, 2, 3, 4) n
UNION ALL
SELECT a.organization_id, x.store_id, x.business_date, x.register_id, NULL, NULL, NULL, NULL, a.event_key, x.payload
FROM again a CROSS JOIN LATERAL (SELECT store_id, business_date, register_id, payload FROM sales x
                                 WHERE x.organization_id = a.organization_id AND x.event_key = a.event_key
                                 LIMIT 1) x
WHERE (x.store_id, x.business_date, x.register_id, x.payload - %s::text[])
      IS DISTINCT FROM (a.store_id, a.business_date, a.register_id, a.p::jsonb - %s::text[])"""

#: The store-days' advisory locks, in a fixed order, before any id is drawn: shared for the rows (a claim takes
#: its store-day's lock exclusively and then reads the sequence, so every row below that watermark is committed),
#: exclusive for the store-days this transaction flushes. One pass in key order: two writers never wait on each
#: other in a cycle, as they could if a shared lock were upgraded later.
_LOCK_DAYS = """SELECT count(CASE WHEN x THEN pg_advisory_xact_lock(k) ELSE pg_advisory_xact_lock_shared(k) END)
    FROM (SELECT sales_day_lock_key(o, s, d) AS k, bool_or(x) AS x
          FROM unnest(%b::text[], %b::text[], %b::date[], %b::bool[]) AS t(o, s, d, x) GROUP BY 1 ORDER BY 1) keys"""


def _lock_days(conn: psycopg.Connection[Any], shared: set[StoreDay], exclusive: set[StoreDay]) -> None:
    days = sorted(shared | exclusive)
    if days:
        conn.execute(
            _LOCK_DAYS,
            ([d[0] for d in days], [d[1] for d in days], [d[2] for d in days], [d in exclusive for d in days]),
        )


def _insert_items(conn: psycopg.Connection[Any], rows: PreparedRows, conflicts: list[Conflict]) -> list[Written]:
    """The batch's rows, in one statement with the arrays sent in binary (``%b``: the text format escapes every
    quote of every JSON payload). Returns what each store-day got; appends the conflicts found."""
    found = conn.execute(_INSERT, (*rows.columns, list(LABELS), list(LABELS))).fetchall()
    written: list[Written] = []
    by_key: dict[tuple[str, str], SalesEnvelope] = {}
    for org, store, day, register, count, first_id, last_id, closed, conflicting_key, stored in found:
        if conflicting_key is None:
            written.append(Written(org, store, day, count, first_id, last_id, closed, register))
        else:
            labels_dropped = {k: v for k, v in stored.items() if k not in LABELS}
            by_key = by_key or {(e.organization_id, e.event_key): e for e in rows.items}
            env = by_key[(org, conflicting_key)]
            conflicts.append(Conflict(env, {**_where(store, day, register), **labels_dropped}, content(env)))
    return written


def _where(store: str, day: date, register: str) -> dict[str, Any]:
    """The stored version's place, as :func:`storage.codecs.content` writes it."""
    where: dict[str, Any] = {"store_id": store, "business_date": day.isoformat()}
    if register:
        where["register_id"] = register
    return where


def _insert_day_close(
    conn: psycopg.Connection[Any], env: SalesEnvelope, conflicts: list[Conflict]
) -> NewDayClose | None:
    """The day close when it is new, None when its Z-report was stored before: then the stored totals, read by the
    same statement, tell a re-send from a conflict."""
    if not isinstance(env.item, DayClosed):
        raise TypeError(f"not a day close: {env.kind}")
    register = env.item.day_close.register_id
    key = (env.organization_id, env.store_id, register, env.business_date, env.item.day_close.z_report_number)
    inserted, stored = conn.execute(
        """WITH ins AS (
               INSERT INTO day_closes (organization_id, store_id, register_id, business_date, z_report_number, payload,
                                       closed_at)
               VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING RETURNING 1)
           SELECT EXISTS (SELECT 1 FROM ins),
                  (SELECT payload FROM day_closes
                   WHERE organization_id = %s AND store_id = %s AND register_id = %s AND business_date = %s
                     AND z_report_number = %s)""",
        (*key, Jsonb(control_to_json(env.item)), env.item.closed_at, *key),
    ).fetchone() or (False, None)
    if inserted:
        z = env.item.day_close.z_report_number
        return NewDayClose(env.organization_id, env.store_id, env.business_date, register, z, env.event_key)
    if stored is not None:
        stands = {**_where(env.store_id, env.business_date, register), **stored}
        stands.pop("store_name", None)
        stands.pop("opening_float_reported", None)
        received = content(env)
        if stands != received:
            conflicts.append(Conflict(env, stands, received))
    return None

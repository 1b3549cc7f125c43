"""Ingestion of the sales stream: idempotent on (organization, event key), one transaction per batch; an
id seen again with other content is a conflict, reported rather than dropped."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from datetime import date
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from service.messages import Conflict, DayClosed, SalesEnvelope, SalesItem, Trigger
from service.ports import Ingested
from storage.codecs import LABELS, content, control_to_json, item_from_json, item_to_json
from storage.jobs import PostgresJobs


class PostgresSales:
    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self.conn = conn

    def ingest(self, envelopes: Sequence[SalesEnvelope]) -> Ingested:
        return ingest_sales(self.conn, envelopes)

    def exported_day_items(self, org: str, store: str, day: date, *, besides: uuid.UUID | None) -> list[SalesItem]:
        """Every receipt, cash movement and gift card expiry of the store-day claimed by exports other than
        ``besides``: with the ones just claimed, the whole day the Z-report's totals and cash count cover."""
        rows = self.conn.execute(
            "SELECT kind, payload FROM sales_events WHERE organization_id = %s AND store_id = %s "
            "AND business_date = %s AND export_id IS NOT NULL AND export_id IS DISTINCT FROM %s ORDER BY id",
            (org, store, day, besides),
        ).fetchall()
        return [item_from_json(kind, store, day, payload) for kind, payload in rows]

    def unbooked_before(self, org: str, day: date) -> tuple[int, date | None, date | None]:
        """(days, first, last) of stored sales before ``day`` that were never booked."""
        row = self.conn.execute(
            """SELECT count(DISTINCT business_date), min(business_date), max(business_date) FROM sales_events
               WHERE organization_id = %s AND business_date < %s AND export_id IS NULL""",
            (org, day),
        ).fetchone()
        return (int(row[0]), row[1], row[2]) if row else (0, None, None)


def ingest_sales(conn: psycopg.Connection[Any], envelopes: Sequence[SalesEnvelope]) -> Ingested:
    """Store receipts, cash movements, gift card expiries and day closes; queue the export jobs they
    trigger. An id seen again with the same content is a duplicate (redelivery, a POS re-send) and ignored;
    with other content it is a :class:`Conflict`, returned for the caller to dead-letter."""
    firsts, repeats = _first_of_each(envelopes)
    result = Ingested()
    _upsert_stores(conn, firsts)
    items = [env for env in firsts if not isinstance(env.item, DayClosed)]
    closes = [env for env in firsts if isinstance(env.item, DayClosed)]
    late_days: set[tuple[str, str, date]] = set()
    if items:
        result.new, late_days = _insert_items(conn, items, result.conflicts)
    if late_days:
        # Before this batch's own day closes are stored: receipts that precede their day close in the
        # stream are on time, not late.
        _queue_late_sales(conn, late_days)
    for env in closes:
        result.new += _insert_day_close(conn, env, result.conflicts)
    _repeats_in_batch(repeats, result.conflicts)
    return result


def _first_of_each(
    envelopes: Sequence[SalesEnvelope],
) -> tuple[list[SalesEnvelope], list[tuple[SalesEnvelope, SalesEnvelope]]]:
    """The first event of each id in the batch, and every later one paired with that first."""
    first: dict[tuple[str, str], SalesEnvelope] = {}
    repeats = []
    for env in envelopes:
        key = (env.organization_id, env.event_key)
        if key in first:
            repeats.append((env, first[key]))
        else:
            first[key] = env
    return list(first.values()), repeats


def _repeats_in_batch(repeats: list[tuple[SalesEnvelope, SalesEnvelope]], conflicts: list[Conflict]) -> None:
    """A repeat within the batch is compared with the version that stands: the stored one when the batch's
    first was itself a conflict, the batch's first otherwise."""
    standing = {id(c.envelope): c.stored for c in conflicts}
    for env, first in repeats:
        stands = standing.get(id(first)) or content(first)
        received = content(env)
        if received != stands:
            conflicts.append(Conflict(env, stands, received))


def _upsert_stores(conn: psycopg.Connection[Any], envelopes: Sequence[SalesEnvelope]) -> None:
    stores: dict[tuple[str, str], str | None] = {}
    for env in envelopes:
        if isinstance(env.item, DayClosed):
            stores[(env.organization_id, env.store_id)] = env.item.store_name
        else:
            stores.setdefault((env.organization_id, env.store_id), None)
    if stores:
        with conn.cursor() as cur:
            cur.executemany(
                """INSERT INTO stores (organization_id, store_id, name) VALUES (%s, %s, %s)
                   ON CONFLICT (organization_id, store_id) DO UPDATE
                   SET name = coalesce(excluded.name, stores.name)
                   WHERE excluded.name IS NOT NULL AND excluded.name IS DISTINCT FROM stores.name""",
                [(org, store, name) for (org, store), name in sorted(stores.items())],
            )


def _insert_items(
    conn: psycopg.Connection[Any], items: Sequence[SalesEnvelope], conflicts: list[Conflict]
) -> tuple[int, set[tuple[str, str, date]]]:
    """One statement per batch (arrays + unnest) instead of one per event, with the arrays sent in binary
    (%b): the text format escapes every quote of every JSON payload. Per-row round trips and that escaping
    were the ingest bottleneck (see docs/performance.md).

    The same statement returns, for the ids that were already stored, the stored version when it differs:
    the rows it did not insert are looked up (the statement's snapshot predates its own inserts, so this
    finds the earlier version), only those, so a batch of new events pays nothing for the check."""
    rows = conn.execute(
        """WITH input AS (
               SELECT * FROM unnest(%b::text[], %b::text[], %b::date[], %b::text[], %b::text[], %b::text[])
                   AS t(o, s, d, k, e, p)),
           ins AS (
               INSERT INTO sales_events (organization_id, store_id, business_date, kind, event_key, payload)
               SELECT o, s, d, k, e, p::jsonb FROM input
               ON CONFLICT (organization_id, event_key) DO NOTHING
               RETURNING organization_id, store_id, business_date, event_key),
           again AS MATERIALIZED (
               SELECT * FROM input i
               WHERE NOT EXISTS (SELECT 1 FROM ins WHERE ins.organization_id = i.o AND ins.event_key = i.e))
           SELECT organization_id, store_id, business_date, count(*), NULL::text, NULL::jsonb
           FROM ins GROUP BY 1, 2, 3
           UNION ALL
           SELECT a.o, x.store_id, x.business_date, NULL, a.e, x.payload
           FROM again a JOIN sales_events x ON x.organization_id = a.o AND x.event_key = a.e
           WHERE (x.store_id, x.business_date, x.payload - %s::text[])
                 IS DISTINCT FROM (a.s, a.d, a.p::jsonb - %s::text[])""",
        (
            [e.organization_id for e in items],
            [e.store_id for e in items],
            [e.business_date for e in items],
            [e.kind for e in items],
            [e.event_key for e in items],
            [json.dumps(item_to_json(e.item), separators=(",", ":")) for e in items],  # type: ignore[arg-type]
            list(LABELS),
            list(LABELS),
        ),
    ).fetchall()
    new = 0
    days: set[tuple[str, str, date]] = set()
    by_key = {(e.organization_id, e.event_key): e for e in items}
    for org, store, day, count, conflicting_key, stored in rows:
        if conflicting_key is None:
            new += count
            days.add((org, store, day))
        else:
            labels_dropped = {k: v for k, v in stored.items() if k not in LABELS}
            env = by_key[(org, conflicting_key)]
            conflicts.append(
                Conflict(env, {"store_id": store, "business_date": day.isoformat(), **labels_dropped}, content(env))
            )
    return new, days


def _insert_day_close(conn: psycopg.Connection[Any], env: SalesEnvelope, conflicts: list[Conflict]) -> int:
    """1 when the day close is new (and its export job queued), 0 when its Z-report was stored before: then
    the stored totals, read by the same statement, tell a re-send from a conflict."""
    if not isinstance(env.item, DayClosed):
        raise TypeError(f"not a day close: {env.kind}")
    key = (env.organization_id, env.store_id, env.business_date, env.item.day_close.z_report_number)
    inserted, stored = conn.execute(
        """WITH ins AS (
               INSERT INTO day_closes (organization_id, store_id, business_date, z_report_number, payload, closed_at)
               VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING RETURNING 1)
           SELECT EXISTS (SELECT 1 FROM ins),
                  (SELECT payload FROM day_closes
                   WHERE organization_id = %s AND store_id = %s AND business_date = %s AND z_report_number = %s)""",
        (*key, Jsonb(control_to_json(env.item)), env.item.closed_at, *key),
    ).fetchone() or (False, None)
    if inserted:
        PostgresJobs(conn).queue(
            env.organization_id,
            env.store_id,
            env.business_date,
            Trigger.DAY_CLOSE,
            env.event_key,
            env.item.day_close.z_report_number,
        )
        return 1
    if stored is not None:
        stands = {"store_id": env.store_id, "business_date": env.business_date.isoformat(), **stored}
        stands.pop("store_name", None)
        received = content(env)
        if stands != received:
            conflicts.append(Conflict(env, stands, received))
    return 0


def _queue_late_sales(conn: psycopg.Connection[Any], days: set[tuple[str, str, date]]) -> None:
    """Sales that arrive for a day already closed are exported too (nothing is lost): queue a retry job
    for that store-day. Keyed on the day close and the count of its sales so redelivery adds nothing.
    One query for the whole batch: most of its store-days are not closed, and this is the ingest path."""
    ordered = sorted(days)
    closed = conn.execute(
        """SELECT t.o, t.s, t.d, (SELECT count(*) FROM sales_events e
                                  WHERE e.organization_id = t.o AND e.store_id = t.s AND e.business_date = t.d)
           FROM unnest(%b::text[], %b::text[], %b::date[]) AS t(o, s, d)
           WHERE EXISTS (SELECT 1 FROM day_closes c
                         WHERE c.organization_id = t.o AND c.store_id = t.s AND c.business_date = t.d)
           ORDER BY 1, 2, 3""",
        ([o for o, _, _ in ordered], [s for _, s, _ in ordered], [d for _, _, d in ordered]),
    ).fetchall()
    jobs = PostgresJobs(conn)
    for org, store, day, count in closed:
        jobs.queue(org, store, day, Trigger.RETRY, f"late:{org}:{store}:{day}:{count}")

"""Ingestion of the sales stream: idempotent on (organization, event key), one transaction per batch."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from consumer.messages import (
    Command,
    DayClosed,
    ManualExportRequested,
    SalesEnvelope,
    control_to_json,
    item_to_json,
)

DAY_CLOSE = "DAY_CLOSE"
MANUAL = "MANUAL"
RETRY = "RETRY"
JOBS_CHANNEL = "dayclose_jobs"
#: A manual export starts this long after its request is read (see ingest_command).
MANUAL_GRACE = timedelta(seconds=1)


def ingest_sales(conn: psycopg.Connection[Any], envelopes: Sequence[SalesEnvelope]) -> int:
    """Store receipts, cash movements, gift card expiries and day closes; queue the export jobs they
    trigger. Returns how many events were new (duplicates and redeliveries are ignored)."""
    stores: dict[tuple[str, str], str | None] = {}
    items = []
    closes = []
    for env in envelopes:
        if isinstance(env.item, DayClosed):
            closes.append(env)
            stores[(env.organization_id, env.store_id)] = env.item.store_name
        else:
            items.append(env)
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
    new = 0
    late_days: set[tuple[str, str, date]] = set()
    if items:
        # One statement per batch (arrays + unnest) instead of one per event, with the arrays sent in binary
        # (%b): the text format escapes every quote of every JSON payload. Per-row round trips and that
        # escaping were the ingest bottleneck (see docs/performance.md).
        rows = conn.execute(
            """WITH ins AS (
                   INSERT INTO sales_events (organization_id, store_id, business_date, kind, event_key, payload)
                   SELECT o, s, d, k, e, p::jsonb
                   FROM unnest(%b::text[], %b::text[], %b::date[], %b::text[], %b::text[], %b::text[])
                        AS t(o, s, d, k, e, p)
                   ON CONFLICT (organization_id, event_key) DO NOTHING
                   RETURNING organization_id, store_id, business_date)
               SELECT organization_id, store_id, business_date, count(*) FROM ins GROUP BY 1, 2, 3""",
            (
                [e.organization_id for e in items],
                [e.store_id for e in items],
                [e.business_date for e in items],
                [e.kind for e in items],
                [e.event_key for e in items],
                [json.dumps(item_to_json(e.item), separators=(",", ":")) for e in items],  # type: ignore[arg-type]
            ),
        ).fetchall()
        for org, store, day, count in rows:
            new += count
            late_days.add((org, store, day))
    if late_days:
        # Before this batch's own day closes are stored: receipts that precede their day close in the
        # stream are on time, not late.
        _queue_late_sales(conn, late_days)
    for env in closes:
        assert isinstance(env.item, DayClosed)
        inserted = conn.execute(
            """INSERT INTO day_closes (organization_id, store_id, business_date, z_report_number, payload, closed_at)
               VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING RETURNING 1""",
            (env.organization_id, env.store_id, env.business_date, env.item.day_close.z_report_number,
             Jsonb(control_to_json(env.item)), env.item.closed_at),
        ).fetchone()
        if inserted:
            new += 1
            enqueue_job(conn, env.organization_id, env.store_id, env.business_date, DAY_CLOSE, env.event_key,
                        env.item.day_close.z_report_number)
    return new


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
    for org, store, day, count in closed:
        enqueue_job(conn, org, store, day, RETRY, f"late:{org}:{store}:{day}:{count}")


def enqueue_job(
    conn: psycopg.Connection[Any], org: str, store: str, day: date | None, trigger: str, source_id: str,
    z_report_number: int | None = None, delay: timedelta | None = None,
) -> bool:
    row = conn.execute(
        """INSERT INTO export_jobs (organization_id, store_id, business_date, trigger, source_id, z_report_number,
                                    not_before)
           VALUES (%s, %s, %s, %s, %s, %s, now() + %s) ON CONFLICT (source_id) DO NOTHING RETURNING id""",
        (org, store, day, trigger, source_id, z_report_number, delay or timedelta(0)),
    ).fetchone()
    if row is not None:
        conn.execute(f"NOTIFY {JOBS_CHANNEL}")  # delivered at commit: wakes the export workers
    return row is not None


def ingest_command(conn: psycopg.Connection[Any], cmd: Command) -> int:
    """Act on a BackOffice command once: queue one job per store that has something to export
    (manual) or a failed export to retry. Returns the number of jobs queued."""
    fresh = conn.execute(
        "INSERT INTO processed_commands (command_id, organization_id) VALUES (%s, %s) "
        "ON CONFLICT DO NOTHING RETURNING 1",
        (cmd.command_id, cmd.organization_id),
    ).fetchone()
    if not fresh:
        return 0
    # Stores with an export not yet booked: both commands retry those first.
    query = """SELECT DISTINCT store_id FROM exports
               WHERE organization_id = %(org)s AND status <> 'booked'
                 AND (%(store)s::text IS NULL OR store_id = %(store)s)"""
    delay, trigger = None, RETRY
    if isinstance(cmd, ManualExportRequested):
        # Every store we know (or the one named), not only those with unexported rows right now: the
        # sales topic may lag the commands topic by a moment. The jobs also start after a short grace
        # so sales the POS sent just before the click are in (docs/events.md).
        delay, trigger = MANUAL_GRACE, MANUAL
        query = """SELECT store_id FROM stores
                   WHERE organization_id = %(org)s AND (%(store)s::text IS NULL OR store_id = %(store)s)
                   UNION
                   SELECT %(store)s::text WHERE %(store)s::text IS NOT NULL
                   UNION """ + query  # noqa: S608 - constants only
    stores = conn.execute(
        query + " ORDER BY 1",
        {"org": cmd.organization_id, "store": cmd.store_id},
    ).fetchall()
    queued = 0
    for (store,) in stores:
        queued += enqueue_job(conn, cmd.organization_id, store, None, trigger, f"{cmd.command_id}:{store}",
                              delay=delay)
    return queued

"""What the BackOffice API keeps besides integrations and plans: the items the POS registers, and manual
export requests (whose commands go through the outbox in the same transaction)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

import psycopg

COALESCE_WINDOW = timedelta(hours=1)


class PostgresRegisteredItems:
    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self.conn = conn

    def register(
        self,
        org: str,
        kind: str,
        items: Iterable[tuple[str, str | None, list[int] | None]],
    ) -> None:
        """Add items (code, name, VAT rates a product group is sold at or None); rates only ever grow."""
        with self.conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO registered_items (organization_id, kind, code, name, vat_rates) "
                "VALUES (%s, %s, %s, %s, %s) "
                "ON CONFLICT (organization_id, kind, code) DO UPDATE "
                "SET name = coalesce(excluded.name, registered_items.name), "
                "    vat_rates = CASE WHEN excluded.vat_rates IS NULL THEN registered_items.vat_rates "
                "                     ELSE ARRAY(SELECT DISTINCT r FROM unnest(coalesce(registered_items.vat_rates, "
                "                                '{}'::int[]) || excluded.vat_rates) AS r ORDER BY r) END",
                [
                    (org, kind, code, name, sorted(set(rates)) if rates is not None else None)
                    for code, name, rates in items
                ],
            )

    def all(self, org: str) -> list[tuple[str, str, str | None, list[int] | None]]:
        """(kind, code, name, VAT rates or None), sorted."""
        rows = self.conn.execute(
            "SELECT kind, code, name, vat_rates FROM registered_items WHERE organization_id = %s ORDER BY kind, code",
            (org,),
        ).fetchall()
        return [(r[0], r[1], r[2], list(r[3]) if r[3] is not None else None) for r in rows]


class PostgresManualExports:
    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self.conn = conn

    def lock(self, org: str) -> None:
        """Serialise manual export requests of one organization (so two clicks cannot both publish)."""
        self.conn.execute("SELECT pg_advisory_xact_lock(hashtext('manual-export'), hashtext(%s))", (org,))

    def pending(self, org: str, store: str | None) -> tuple[uuid.UUID, datetime] | None:
        """The newest request that covers ``store`` and is not done yet: the consumer has not taken the command,
        or one of the export jobs it queued is still waiting. Only recent requests count: one the service has
        not taken for that long is lost or stuck, and publishing anew is harmless (each sale is exported once)."""
        row = self.conn.execute(
            """SELECT r.request_id, r.requested_at FROM manual_export_requests r
               WHERE r.organization_id = %(org)s AND (r.store_id IS NULL OR r.store_id = %(store)s)
                 AND r.requested_at > now() - %(window)s
                 AND (NOT EXISTS (SELECT 1 FROM processed_commands c WHERE c.organization_id = r.organization_id
                                  AND c.command_id = r.request_id::text)
                      OR EXISTS (SELECT 1 FROM export_jobs j WHERE j.organization_id = %(org)s
                                 AND j.source_id LIKE r.request_id::text || ':%%'))
               ORDER BY r.requested_at DESC LIMIT 1""",
            {"org": org, "store": store, "window": COALESCE_WINDOW},
        ).fetchone()
        return (row[0], row[1]) if row else None

    def record(self, request_id: uuid.UUID, org: str, store: str | None, requested_by: str | None) -> datetime:
        row = self.conn.execute(
            "INSERT INTO manual_export_requests (request_id, organization_id, store_id, requested_by) "
            "VALUES (%s, %s, %s, %s) RETURNING requested_at",
            (request_id, org, store, requested_by),
        ).fetchone()
        if row is None:
            raise LookupError("INSERT … RETURNING returned no row")
        at: datetime = row[0]
        return at

    def get(self, org: str, request_id: uuid.UUID) -> dict[str, Any] | None:
        row = self.conn.execute(
            """SELECT r.store_id, r.requested_at,
                      EXISTS (SELECT 1 FROM processed_commands c WHERE c.organization_id = r.organization_id
                              AND c.command_id = r.request_id::text),
                      (SELECT count(*) FROM export_jobs j WHERE j.organization_id = r.organization_id
                       AND j.source_id LIKE r.request_id::text || ':%%')
               FROM manual_export_requests r WHERE r.organization_id = %s AND r.request_id = %s""",
            (org, request_id),
        ).fetchone()
        if row is None:
            return None
        store, at, taken, jobs = row
        state = "done" if taken and not jobs else ("exporting" if taken else "requested")
        return {"request_id": request_id, "store_id": store, "requested_at": at, "state": state}

"""What the BackOffice API reads and writes besides the plan: integration state, the key's digest,
items the POS registers, manual export requests and the export jobs the API queues itself."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import psycopg

from dayclose.db.integrations import save_integration
from dayclose.db.sales import RETRY, enqueue_job
from dayclose.keys import KeyVault, canonical_key
from dayclose.secrets import Secret

SETUP, ACTIVE, INACTIVE = "setup", "active", "inactive"
COALESCE_WINDOW = timedelta(hours=1)
BY_MERCHANT, BY_BL = "MERCHANT", "BL"


@dataclass(frozen=True)
class IntegrationState:
    organization_id: str
    status: str
    key_hint: str | None
    key_verified_at: datetime | None
    company_name: str | None
    company_org_number: str | None
    start_date: date | None
    activated_at: datetime | None
    deactivated_at: datetime | None
    deactivated_by: str | None
    plan_version: int | None


#: Stored in place of a digest for a stored key that is not a GUID (set by other tools): it names no key,
#: so no callback can find it, and the backfill does not decrypt it again at every callback.
NOT_A_KEY = "-"


def key_digest(user_key: str) -> str:
    """Look-up digest of a BL key, over its canonical form (raises ValueError when it is not a GUID).
    The key is a random GUID, so an unsalted hash cannot be reversed."""
    return hashlib.sha256(canonical_key(user_key).encode()).hexdigest()


def integration_state(conn: psycopg.Connection[Any], org: str, *, lock: bool = False) -> IntegrationState | None:
    """The integration row (``lock``: FOR UPDATE, to serialise state changes of one organization)."""
    row = conn.execute(
        "SELECT i.organization_id, i.status, i.bl_key_hint, i.key_verified_at, i.company_name, "
        "i.company_org_number, i.start_date, i.activated_at, i.deactivated_at, i.deactivated_by, p.version "
        "FROM integrations i LEFT JOIN account_plans p ON p.organization_id = i.organization_id "
        "WHERE i.organization_id = %s" + (" FOR UPDATE OF i" if lock else ""),
        (org,),
    ).fetchone()
    return IntegrationState(*row) if row else None


def store_verified_key(
    conn: psycopg.Connection[Any], org: str, vault: KeyVault, user_key: Secret, company_name: str, org_number: str
) -> None:
    """Stores the key in its canonical form: the form BL verified it in, and the one callbacks look up."""
    canonical = Secret(canonical_key(user_key.reveal()))
    save_integration(conn, org, vault, user_key=canonical, company_name=company_name, company_org_number=org_number)
    conn.execute(
        "UPDATE integrations SET bl_key_digest = %s, key_verified_at = now() WHERE organization_id = %s",
        (key_digest(canonical.reveal()), org),
    )


def set_start_date(conn: psycopg.Connection[Any], org: str, vault: KeyVault, day: date) -> None:
    save_integration(conn, org, vault, start_date=day)


def set_status(conn: psycopg.Connection[Any], org: str, vault: KeyVault, status: str, by: str | None = None) -> None:
    save_integration(conn, org, vault, status=status)
    conn.execute("UPDATE integrations SET deactivated_by = %s WHERE organization_id = %s",
                 (by if status == INACTIVE else None, org))


@dataclass(frozen=True)
class KeyHolder:
    """An integration found by its key: the BL org number and the key as stored (decrypted)."""

    organization_id: str
    company_org_number: str | None
    stored_key: Secret


def organizations_with_key(conn: psycopg.Connection[Any], user_key: str, vault: KeyVault) -> list[KeyHolder]:
    """Every integration using this key (compared in canonical form; none when it is not a GUID)."""
    try:
        digest = key_digest(user_key)
    except ValueError:
        return []
    _backfill_key_digests(conn, vault)
    rows = conn.execute(
        "SELECT organization_id, company_org_number, bl_key_encrypted FROM integrations "
        "WHERE bl_key_digest = %s AND bl_key_encrypted IS NOT NULL ORDER BY 1",
        (digest,),
    ).fetchall()
    return [KeyHolder(r[0], r[1], vault.decrypt(r[2])) for r in rows]


def _backfill_key_digests(conn: psycopg.Connection[Any], vault: KeyVault) -> None:
    """Keys stored before migration 0004 (or by other tools) have no digest yet: add it, once per row."""
    rows = conn.execute(
        "SELECT organization_id, bl_key_encrypted FROM integrations "
        "WHERE bl_key_digest IS NULL AND bl_key_encrypted IS NOT NULL"
    ).fetchall()
    for org, encrypted in rows:
        try:
            digest = key_digest(vault.decrypt(encrypted).reveal())
        except ValueError:
            digest = NOT_A_KEY
        conn.execute("UPDATE integrations SET bl_key_digest = %s WHERE organization_id = %s", (digest, org))


# --- what the POS registers ------------------------------------------------------------------------


def register_items(
    conn: psycopg.Connection[Any], org: str, kind: str,
    items: Iterable[tuple[str, str | None, list[int] | None]],
) -> None:
    """Add items (code, name, VAT rates a product group is sold at or None); rates only ever grow."""
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO registered_items (organization_id, kind, code, name, vat_rates) VALUES (%s, %s, %s, %s, %s) "
            "ON CONFLICT (organization_id, kind, code) DO UPDATE "
            "SET name = coalesce(excluded.name, registered_items.name), "
            "    vat_rates = CASE WHEN excluded.vat_rates IS NULL THEN registered_items.vat_rates "
            "                     ELSE ARRAY(SELECT DISTINCT r FROM unnest(coalesce(registered_items.vat_rates, "
            "                                '{}'::int[]) || excluded.vat_rates) AS r ORDER BY r) END",
            [(org, kind, code, name, sorted(set(rates)) if rates is not None else None) for code, name, rates in items],
        )


def registered_items(conn: psycopg.Connection[Any], org: str) -> list[tuple[str, str, str | None, list[int] | None]]:
    """(kind, code, name, VAT rates or None), sorted."""
    rows = conn.execute(
        "SELECT kind, code, name, vat_rates FROM registered_items WHERE organization_id = %s ORDER BY kind, code",
        (org,),
    ).fetchall()
    return [(r[0], r[1], r[2], list(r[3]) if r[3] is not None else None) for r in rows]


# --- manual exports ---------------------------------------------------------------------------------


def lock_manual_requests(conn: psycopg.Connection[Any], org: str) -> None:
    """Serialise manual export requests of one organization (so two clicks cannot both publish)."""
    conn.execute("SELECT pg_advisory_xact_lock(hashtext('manual-export'), hashtext(%s))", (org,))


def pending_manual_request(
    conn: psycopg.Connection[Any], org: str, store: str | None
) -> tuple[uuid.UUID, datetime] | None:
    """The newest request that covers ``store`` and is not done yet: the consumer has not taken the command,
    or one of the export jobs it queued is still waiting. Only recent requests count: one the service has
    not taken for that long is lost or stuck, and publishing anew is harmless (each sale is exported once)."""
    row = conn.execute(
        """SELECT r.request_id, r.requested_at FROM manual_export_requests r
           WHERE r.organization_id = %(org)s AND (r.store_id IS NULL OR r.store_id = %(store)s)
             AND r.requested_at > now() - %(window)s
             AND (NOT EXISTS (SELECT 1 FROM processed_commands c WHERE c.command_id = r.request_id::text)
                  OR EXISTS (SELECT 1 FROM export_jobs j WHERE j.organization_id = %(org)s
                             AND j.source_id LIKE r.request_id::text || ':%%'))
           ORDER BY r.requested_at DESC LIMIT 1""",
        {"org": org, "store": store, "window": COALESCE_WINDOW},
    ).fetchone()
    return (row[0], row[1]) if row else None


def record_manual_request(
    conn: psycopg.Connection[Any], request_id: uuid.UUID, org: str, store: str | None, requested_by: str | None
) -> datetime:
    row = conn.execute(
        "INSERT INTO manual_export_requests (request_id, organization_id, store_id, requested_by) "
        "VALUES (%s, %s, %s, %s) RETURNING requested_at",
        (request_id, org, store, requested_by),
    ).fetchone()
    assert row is not None
    return row[0]


def manual_request(conn: psycopg.Connection[Any], org: str, request_id: uuid.UUID) -> dict[str, Any] | None:
    row = conn.execute(
        """SELECT r.store_id, r.requested_at,
                  EXISTS (SELECT 1 FROM processed_commands c WHERE c.command_id = r.request_id::text),
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


# --- export jobs the API queues --------------------------------------------------------------------


def queue_unbooked_closed_days(conn: psycopg.Connection[Any], org: str, since: date, source: str) -> int:
    """Queue an export of every closed day since ``since`` that is not fully booked (closed while the
    integration was inactive or before it was set up, or with sales that came after an export).
    Their open exports are retried first by the same jobs. Returns the number of jobs queued."""
    rows = conn.execute(
        """SELECT DISTINCT d.store_id, d.business_date FROM day_closes d
           WHERE d.organization_id = %(org)s AND d.business_date >= %(since)s
             AND (d.status <> 'exported'
                  OR EXISTS (SELECT 1 FROM sales_events s WHERE s.organization_id = d.organization_id
                             AND s.store_id = d.store_id AND s.business_date = d.business_date
                             AND s.export_id IS NULL))
           ORDER BY 2, 1""",
        {"org": org, "since": since},
    ).fetchall()
    return sum(enqueue_job(conn, org, store, day, RETRY, f"{source}:{org}:{store}:{day}") for store, day in rows)


def failed_exports(conn: psycopg.Connection[Any], org: str) -> list[tuple[str, str | None, Any]]:
    """(store, reason_code, reason_details) of every export that was refused and waits for a fix."""
    rows = conn.execute(
        "SELECT store_id, reason_code, reason_details FROM exports WHERE organization_id = %s AND status = 'failed' "
        "ORDER BY store_id, business_date",
        (org,),
    ).fetchall()
    return [(r[0], r[1], r[2]) for r in rows]


def stores_with_open_exports(conn: psycopg.Connection[Any], org: str) -> list[str]:
    """Stores with an export not booked (refused, or left posting when the integration stopped)."""
    rows = conn.execute(
        "SELECT DISTINCT store_id FROM exports WHERE organization_id = %s AND status <> 'booked' ORDER BY 1", (org,)
    ).fetchall()
    return [r[0] for r in rows]


def queue_retries(conn: psycopg.Connection[Any], org: str, stores: Iterable[str], source: str) -> int:
    """One RETRY job per store: a store's job retries every open export of that store, oldest first."""
    return sum(enqueue_job(conn, org, store, None, RETRY, f"{source}:{store}") for store in sorted(set(stores)))


def unbooked_sales_before(conn: psycopg.Connection[Any], org: str, day: date) -> tuple[int, date | None, date | None]:
    """(days, first, last) of stored sales before ``day`` that were never booked."""
    row = conn.execute(
        """SELECT count(DISTINCT business_date), min(business_date), max(business_date) FROM sales_events
           WHERE organization_id = %s AND business_date < %s AND export_id IS NULL""",
        (org, day),
    ).fetchone()
    assert row is not None
    return int(row[0]), row[1], row[2]

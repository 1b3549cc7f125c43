"""Integrations (one per merchant organization) and their account plans, in PostgreSQL: the one reading of
the ``integrations`` table, for the export workers and the API alike. Merchants' BL keys are stored
encrypted (the :class:`service.ports.Cipher` given) with a look-up digest of their canonical form."""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from mapping.plan import AccountPlan
from mapping.vatperiods import DEFAULT_REPORTING, VatFrequency, VatReporting
from service.model import DeactivatedBy, Integration, IntegrationStatus
from service.ports import Cipher
from service.secrets import Secret, canonical_key, mask
from storage.codecs import plan_from_json, plan_to_json

#: Stored in place of a digest for a stored key that is not a GUID (set by other tools): it names no key,
#: so no callback can find it, and the backfill does not decrypt it again at every callback.
NOT_A_KEY = "-"


def key_digest(user_key: str) -> str:
    """Look-up digest of a BL key, over its canonical form (raises ValueError when it is not a GUID).
    The key is a random GUID, so an unsalted hash cannot be reversed."""
    return hashlib.sha256(canonical_key(user_key).encode()).hexdigest()


@dataclass(frozen=True)
class KeyHolder:
    """An integration found by its key: the BL org number and the key as stored (decrypted)."""

    organization_id: str
    company_org_number: str | None
    stored_key: Secret


class PostgresIntegrations:
    def __init__(self, conn: psycopg.Connection[Any], cipher: Cipher) -> None:
        self.conn = conn
        self.cipher = cipher

    def get(self, org: str, *, lock: bool = False) -> Integration | None:
        """The integration (``lock``: FOR UPDATE, to serialise state changes of one organization)."""
        row = self.conn.execute(
            "SELECT i.status, i.start_date, i.bl_key_encrypted, i.bl_key_hint, i.company_name, i.company_org_number, "
            "i.key_verified_at, i.activated_at, i.deactivated_at, i.deactivated_by, p.version, i.vat_frequency, "
            "i.vat_above_40_msek "
            "FROM integrations i LEFT JOIN account_plans p ON p.organization_id = i.organization_id "
            "WHERE i.organization_id = %s" + (" FOR UPDATE OF i" if lock else ""),
            (org,),
        ).fetchone()
        if row is None:
            return None
        status, start, encrypted, hint, company, orgnr, verified, activated, deactivated, by, version = row[:11]
        frequency, above_40 = row[11:]
        return Integration(
            org,
            IntegrationStatus(status),
            start,
            self.cipher.decrypt(encrypted) if encrypted is not None else None,
            key_hint=hint,
            company_name=company,
            company_org_number=orgnr,
            key_verified_at=verified,
            activated_at=activated,
            deactivated_at=deactivated,
            deactivated_by=DeactivatedBy(by) if by else None,
            plan_version=version,
            vat_reporting=VatReporting(VatFrequency(frequency), above_40) if frequency else DEFAULT_REPORTING,
        )

    def known(self, orgs: Collection[str]) -> set[str]:
        if not orgs:
            return set()
        rows = self.conn.execute(
            "SELECT organization_id FROM integrations WHERE organization_id = ANY(%s)", (sorted(orgs),)
        ).fetchall()
        return {r[0] for r in rows}

    def single_purpose(self, orgs: Collection[str]) -> dict[str, Mapping[str, int]]:
        found: dict[str, Mapping[str, int]] = {org: {} for org in orgs}
        if orgs:
            rows = self.conn.execute(
                "SELECT organization_id, plan->'single_purpose_methods' FROM account_plans "
                "WHERE organization_id = ANY(%s)",
                (sorted(orgs),),
            ).fetchall()
            for org, methods in rows:
                found[org] = {str(m): int(rate) for m, rate in (methods or {}).items()}
        return found

    def save(
        self,
        org: str,
        *,
        user_key: Secret | None = None,
        status: IntegrationStatus | None = None,
        start_date: date | None = None,
        company_name: str | None = None,
        company_org_number: str | None = None,
    ) -> None:
        """Create or update; only the given fields change. The key is stored as given: callers that take it
        from outside store :func:`service.secrets.canonical_key`'s form (see :meth:`store_verified_key`)."""
        encrypted = self.cipher.encrypt(user_key) if user_key is not None else None
        hint = mask(user_key.reveal()) if user_key is not None else None
        self.conn.execute(
            """INSERT INTO integrations (organization_id, status, bl_key_encrypted, bl_key_hint, start_date,
                                         company_name, company_org_number, activated_at)
               VALUES (%(org)s, coalesce(%(status)s, 'setup'), %(key)s, %(hint)s, %(start)s, %(company)s,
                       %(orgnr)s, CASE WHEN %(status)s = 'active' THEN now() END)
               ON CONFLICT (organization_id) DO UPDATE SET
                   status = coalesce(%(status)s, integrations.status),
                   bl_key_encrypted = coalesce(%(key)s, integrations.bl_key_encrypted),
                   bl_key_hint = coalesce(%(hint)s, integrations.bl_key_hint),
                   -- a new key makes the old key's look-up digest wrong: recomputed by the next look-up
                   bl_key_digest = CASE WHEN %(key)s::bytea IS NULL THEN integrations.bl_key_digest END,
                   start_date = coalesce(%(start)s, integrations.start_date),
                   company_name = coalesce(%(company)s, integrations.company_name),
                   company_org_number = coalesce(%(orgnr)s, integrations.company_org_number),
                   activated_at = CASE WHEN %(status)s = 'active' THEN now() ELSE integrations.activated_at END,
                   deactivated_at = CASE WHEN %(status)s = 'inactive' THEN now()
                                         ELSE integrations.deactivated_at END,
                   updated_at = now()""",
            {
                "org": org,
                "status": None if status is None else str(status),
                "key": encrypted,
                "hint": hint,
                "start": start_date,
                "company": company_name,
                "orgnr": company_org_number,
            },
        )

    def store_verified_key(self, org: str, user_key: Secret, company_name: str, org_number: str) -> None:
        """Stores the key in its canonical form: the form BL verified it in, and the one callbacks look up."""
        canonical = Secret(canonical_key(user_key.reveal()))
        self.save(org, user_key=canonical, company_name=company_name, company_org_number=org_number)
        self.conn.execute(
            "UPDATE integrations SET bl_key_digest = %s, key_verified_at = now() WHERE organization_id = %s",
            (key_digest(canonical.reveal()), org),
        )

    def set_vat_reporting(self, org: str, reporting: VatReporting) -> None:
        """How often the merchant files the VAT return (an integration is created in setup when there is none)."""
        self.save(org)
        self.conn.execute(
            "UPDATE integrations SET vat_frequency = %s, vat_above_40_msek = %s, updated_at = now() "
            "WHERE organization_id = %s",
            (reporting.frequency.value, reporting.above_40_msek, org),
        )

    def set_status(self, org: str, status: IntegrationStatus, by: DeactivatedBy | None = None) -> None:
        self.save(org, status=status)
        self.conn.execute(
            "UPDATE integrations SET deactivated_by = %s WHERE organization_id = %s",
            (str(by) if by and status == IntegrationStatus.INACTIVE else None, org),
        )

    def with_key(self, user_key: str) -> list[KeyHolder]:
        """Every integration using this key (compared in canonical form; none when it is not a GUID)."""
        try:
            digest = key_digest(user_key)
        except ValueError:
            return []
        self._backfill_key_digests()
        rows = self.conn.execute(
            "SELECT organization_id, company_org_number, bl_key_encrypted FROM integrations "
            "WHERE bl_key_digest = %s AND bl_key_encrypted IS NOT NULL ORDER BY 1",
            (digest,),
        ).fetchall()
        return [KeyHolder(r[0], r[1], self.cipher.decrypt(r[2])) for r in rows]

    def _backfill_key_digests(self) -> None:
        """Keys stored before migration 0004 (or by other tools) have no digest yet: add it, once per row."""
        rows = self.conn.execute(
            "SELECT organization_id, bl_key_encrypted FROM integrations "
            "WHERE bl_key_digest IS NULL AND bl_key_encrypted IS NOT NULL"
        ).fetchall()
        for org, encrypted in rows:
            try:
                digest = key_digest(self.cipher.decrypt(encrypted).reveal())
            except ValueError:
                digest = NOT_A_KEY
            self.conn.execute("UPDATE integrations SET bl_key_digest = %s WHERE organization_id = %s", (digest, org))

    # --- the account plan --------------------------------------------------------------------------

    def plan(self, org: str) -> AccountPlan | None:
        row = self.conn.execute("SELECT plan FROM account_plans WHERE organization_id = %s", (org,)).fetchone()
        return plan_from_json(org, row[0]) if row else None

    def plan_review(self, org: str) -> list[str]:
        """Field paths migration 0006 flagged for the merchant's review (e.g. ``product_groups.coffee.600``),
        until the plan is saved again."""
        row = self.conn.execute(
            "SELECT plan->'review' FROM account_plans WHERE organization_id = %s", (org,)
        ).fetchone()
        return [str(field) for field in row[0]] if row and isinstance(row[0], list) else []

    def save_plan(self, plan: AccountPlan) -> None:
        self.conn.execute(
            """INSERT INTO account_plans (organization_id, plan) VALUES (%s, %s)
               ON CONFLICT (organization_id) DO UPDATE
               SET plan = excluded.plan, version = account_plans.version + 1, updated_at = now()""",
            (plan.organization_id, Jsonb(plan_to_json(plan))),
        )

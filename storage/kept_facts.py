"""What the API forgets of an organization's kept BL facts (``bl_company_facts``, :mod:`storage.company_facts`) in
its own transaction: a plan saved or a key changed."""

from __future__ import annotations

from typing import Any

import psycopg


def forget_organization(conn: psycopg.Connection[Any], org: str) -> None:
    """Forget every company's facts of ``org`` in the caller's transaction (its plan was saved, its key changed):
    its next pre-flight asks BL, in every process."""
    conn.execute(
        "UPDATE bl_company_facts SET facts = NULL, fetched_at = NULL, forgotten_at = clock_timestamp() "
        "WHERE organization_id = %s",
        (org,),
    )


class PostgresOrganizationFacts:
    """What the API forgets of an organization's kept facts in its unit of work (the port
    :class:`service.integration_lifecycle.KeptFacts`)."""

    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self.conn = conn

    def forget_organization(self, org: str) -> None:
        forget_organization(self.conn, org)

"""The merchant's notifications: one row per outcome event of an organization (migration 0017), written by the
outbox with the outcome (:meth:`storage.outbox.PostgresOutbox.outcome`), read newest first by the API."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import psycopg

from service.messages import Outcome


@dataclass(frozen=True)
class StoredNotification:
    notification_id: int
    created_at: datetime
    status: str
    trigger: str
    reason_code: str | None
    store_id: str | None
    business_date: date | None
    export_id: str | None
    voucher_series: str | None
    voucher_number: int | None
    details: list[dict[str, Any]]


class PostgresNotifications:
    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self.conn = conn

    def record(self, event: Outcome) -> None:
        """The outcome as the organization's notification (the caller's transaction commits both)."""
        if event.organization_id is None:
            return  # an event about no organization (a poison message) is for operators, not a merchant
        voucher = event.voucher
        self.conn.execute(
            "INSERT INTO notifications (organization_id, status, trigger, reason_code, store_id, business_date, "
            "export_id, voucher_series, voucher_number, details) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            (
                event.organization_id,
                str(event.status),
                str(event.trigger),
                event.reason_code,
                event.store_id,
                event.business_date,
                event.export_id,
                voucher.series if voucher else None,
                voucher.number if voucher else None,
                json.dumps([d.as_json() for d in event.details]),
            ),
        )

    def recent(self, org: str, limit: int) -> list[StoredNotification]:
        rows = self.conn.execute(
            "SELECT notification_id, created_at, status, trigger, reason_code, store_id, business_date, export_id, "
            "voucher_series, voucher_number, details FROM notifications WHERE organization_id = %s "
            "ORDER BY notification_id DESC LIMIT %s",
            (org, limit),
        ).fetchall()
        return [
            StoredNotification(
                notification_id=r[0],
                created_at=r[1],
                status=r[2],
                trigger=r[3],
                reason_code=r[4],
                store_id=r[5],
                business_date=r[6],
                export_id=r[7],
                voucher_series=r[8],
                voucher_number=r[9],
                details=list(r[10] or []),
            )
            for r in rows
        ]

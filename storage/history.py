"""Read models for BackOffice: what the merchant's sales use, exports per store and day, days not booked."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import psycopg

from mapping.plan import MOVEMENT_EVENT, Event
from mapping.sales import CASH_METHOD, GIFT_CARD_METHOD
from service import plan_items
from storage.backoffice import PostgresRegisteredItems
from storage.claims import UNEXPORTED

#: (kind, code) → the last business date a sale used it.
SeenItems = plan_items.SeenItems

_SEEN_SQL = """
WITH s AS (
    SELECT kind, payload, business_date FROM sales
    WHERE organization_id = %(org)s AND business_date >= %(since)s
    UNION ALL
    -- Older sales no booked export holds: above their store-day's latest watermark, or named by an export that is
    -- not booked (failed, posting) or was reversed.
    SELECT s.kind, s.payload, s.business_date FROM sales s
    WHERE s.organization_id = %(org)s AND s.business_date < %(since)s
      AND NOT EXISTS (SELECT 1 FROM exports e WHERE e.organization_id = s.organization_id
                      AND e.store_id = s.store_id AND e.business_date = s.business_date
                      AND e.register_id = s.register_id
                      AND e.status = 'booked' AND e.trigger <> 'CORRECTION'
                      AND coalesce(e.reason_code, '') <> 'REVERSED' AND e.sales_ids @> s.id))
SELECT 'payment_method', p->>0, max(business_date) FROM s, jsonb_array_elements(s.payload->'payments') p
 WHERE s.kind = 'receipt' GROUP BY 2
UNION ALL
SELECT 'product_group', (l->>0) || '@' || (l->>1), max(business_date) FROM s, jsonb_array_elements(s.payload->'lines') l
 WHERE s.kind = 'receipt' GROUP BY 2
UNION ALL
SELECT 'vat_rate', l->>1, max(business_date) FROM s, jsonb_array_elements(s.payload->'lines') l
 WHERE s.kind = 'receipt' AND (l->>1)::int <> 0 GROUP BY 2
UNION ALL
SELECT 'tips', '', max(business_date) FROM s WHERE kind = 'receipt' AND (payload->>'tip_ore')::bigint <> 0
 HAVING count(*) > 0
UNION ALL
SELECT 'rounding', '', max(business_date) FROM s WHERE kind = 'receipt' AND (payload->>'rounding_ore')::bigint <> 0
 HAVING count(*) > 0
UNION ALL
SELECT 'movement', payload->>'kind', max(business_date) FROM s WHERE kind = 'cash_movement' GROUP BY 2
UNION ALL
SELECT 'expiry', coalesce(payload->>'method', 'gift_card'), max(business_date) FROM s WHERE kind = 'gift_card_expired'
GROUP BY 2
UNION ALL
SELECT 'cash_difference',
       CASE WHEN (payload->>'counted_cash_ore')::bigint < (payload->>'expected_cash_ore')::bigint
            THEN 'short' ELSE 'over' END,
       max(business_date) FROM day_closes
 WHERE organization_id = %(org)s AND (business_date >= %(since)s OR status <> 'exported')
   AND (payload->>'counted_cash_ore')::bigint <> (payload->>'expected_cash_ore')::bigint
 GROUP BY 2"""


def seen_items(conn: psycopg.Connection[Any], org: str, since: date) -> SeenItems:
    """Every payment method, product group at a VAT rate (code ``"<group>@<rate>"``), VAT rate and event that
    stored sales book on: sales since ``since`` and older sales that are not booked yet. The same rules as
    the day needs mapped (:func:`mapping.totals_booking.required_items`)."""
    seen: SeenItems = {}

    def add(kind: str, code: str, day: date) -> None:
        key = (kind, code)
        seen[key] = max(day, seen.get(key, day))

    for what, code, day in conn.execute(_SEEN_SQL, {"org": org, "since": since}).fetchall():
        if what in ("payment_method", "product_group", "vat_rate"):
            add(what, code, day)
        elif what == "tips":
            add("event", Event.TIPS.value, day)
        elif what == "rounding":
            add("event", Event.ROUNDING.value, day)
        elif what == "movement":
            add("payment_method", CASH_METHOD, day)
            add("event", MOVEMENT_EVENT[code].value, day)
        elif what == "expiry":
            add("payment_method", code or GIFT_CARD_METHOD, day)
            add("event", Event.EXPIRED_GIFT_CARD.value, day)
        elif what == "cash_difference":
            add("payment_method", CASH_METHOD, day)
            add("event", (Event.CASH_SHORTAGE if code == "short" else Event.CASH_OVERAGE).value, day)
    return seen


class PostgresPlanItems:
    """What still needing an account is decided on (the port :class:`service.plan_items.PlanItemReads`)."""

    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self.conn = conn

    def registered(self, org: str) -> list[plan_items.Registered]:
        return [(kind, code, rates) for kind, code, _, rates in PostgresRegisteredItems(self.conn).all(org)]

    def seen(self, org: str, since: date) -> SeenItems:
        return seen_items(self.conn, org, since)


@dataclass(frozen=True)
class ExportRow:
    export_id: str
    reference: str
    store_id: str
    store_name: str | None
    business_date: date
    trigger: str
    status: str
    z_report_number: int | None
    voucher_series: str | None
    voucher_number: int | None
    total_debit_ore: int | None
    event_count: int
    attempts: int
    reason_code: str | None
    reason_details: Any
    created_at: datetime
    updated_at: datetime
    booked_at: datetime | None
    reverses: str | None
    document_status: str | None = None
    document_id: int | None = None
    document_name: str | None = None
    #: Who corrected, when and why (set on a correction's reversals and its new voucher).
    correction: dict[str, Any] | None = None


def list_exports(
    conn: psycopg.Connection[Any],
    org: str,
    *,
    store: str | None,
    since: date | None,
    until: date | None,
    status: str | None,
    limit: int,
    offset: int,
) -> tuple[list[ExportRow], int]:
    rows = conn.execute(
        """SELECT e.export_id::text, e.reference, e.store_id, st.name, e.business_date, e.trigger, e.status,
                  e.z_report_number, e.voucher_series, e.voucher_number, e.total_debit_ore, e.event_count,
                  e.attempts, e.reason_code, e.reason_details, e.created_at, e.updated_at, e.booked_at,
                  e.reverses::text, e.document_status, e.document_id, e.document_name,
                  CASE WHEN c.correction_id IS NOT NULL THEN jsonb_build_object(
                      'correction_id', c.correction_id, 'reason', c.reason, 'requested_by', c.requested_by,
                      'requested_via', c.requested_via, 'requested_at', c.requested_at, 'entry_date', c.entry_date,
                      'in_original_period', c.in_original_period, 'found_on', c.found_on,
                      'requested_period', c.requested_period, 'period_statement', c.period_statement,
                      'dating', c.dating) END,
                  count(*) OVER ()
           FROM exports e
           LEFT JOIN stores st ON st.organization_id = e.organization_id AND st.store_id = e.store_id
           LEFT JOIN corrections c ON c.correction_id = e.correction_id
           WHERE e.organization_id = %(org)s
             AND (%(store)s::text IS NULL OR e.store_id = %(store)s)
             AND (%(since)s::date IS NULL OR e.business_date >= %(since)s)
             AND (%(until)s::date IS NULL OR e.business_date <= %(until)s)
             AND (%(status)s::text IS NULL OR e.status = %(status)s)
           ORDER BY e.business_date DESC, e.store_id, e.created_at DESC
           LIMIT %(limit)s OFFSET %(offset)s""",
        {
            "org": org,
            "store": store,
            "since": since,
            "until": until,
            "status": status,
            "limit": limit,
            "offset": offset,
        },
    ).fetchall()
    total = int(rows[0][-1]) if rows else 0
    return [ExportRow(*r[:-1]) for r in rows], total


@dataclass(frozen=True)
class DayState:
    """One store-day that is closed (or has sales and should have been) but is not fully booked."""

    store_id: str
    store_name: str | None
    business_date: date
    z_report_number: int | None
    mismatch: bool
    unexported_events: int
    open_exports: list[dict[str, Any]]
    queued: bool


def unbooked_days(conn: psycopg.Connection[Any], org: str, since: date, until: date, today: date) -> list[DayState]:
    rows = conn.execute(
        f"""WITH days AS (
               SELECT store_id, business_date, max(z_report_number) AS z, bool_or(status = 'mismatch') AS mismatch,
                      bool_and(status IN ('exported', 'superseded')) AS exported
               FROM day_closes WHERE organization_id = %(org)s AND business_date BETWEEN %(since)s AND %(until)s
               GROUP BY 1, 2
               UNION ALL
               -- Store-days with sales no export holds but no day close: each store × day probed, not every row
               -- scanned.
               SELECT k.store_id, k.business_date, NULL::bigint, false, false
               FROM (SELECT st.organization_id, st.store_id, g::date AS business_date
                     FROM stores st, generate_series(%(since)s::date, least(%(until)s::date, %(today)s::date - 1),
                                                     interval '1 day') g
                     WHERE st.organization_id = %(org)s) k
               WHERE {UNEXPORTED.format(d="k")}
                 AND NOT EXISTS (SELECT 1 FROM day_closes d WHERE d.organization_id = %(org)s
                                 AND d.store_id = k.store_id AND d.business_date = k.business_date))
           SELECT * FROM (
             SELECT d.store_id, st.name, d.business_date, d.z, d.mismatch, d.exported,
                    -- sales no export holds: above their register's latest watermark, and those of reversed
                    -- exports released
                    (SELECT coalesce(sum(c.n), 0) FROM registers g CROSS JOIN LATERAL (
                        SELECT count(*) AS n FROM sales s WHERE s.organization_id = %(org)s
                        AND s.store_id = d.store_id AND s.business_date = d.business_date
                        AND s.register_id = g.register_id
                        AND s.id > (SELECT coalesce(max(w.watermark), 0) FROM exports w
                                    WHERE w.organization_id = %(org)s AND w.store_id = d.store_id
                                      AND w.business_date = d.business_date AND w.register_id = g.register_id)) c
                     WHERE g.organization_id = %(org)s AND g.store_id = d.store_id)
                    + (SELECT coalesce(sum(r.event_count), 0) FROM exports r
                       WHERE r.organization_id = %(org)s AND r.store_id = d.store_id
                         AND r.business_date = d.business_date AND r.reason_code = 'REVERSED'
                         AND r.released_by IS NULL) AS unexported,
                    (SELECT coalesce(jsonb_agg(jsonb_build_object(
                                'export_id', e.export_id, 'status', e.status, 'reason_code', e.reason_code,
                                'reason_details', e.reason_details) ORDER BY e.created_at DESC), '[]'::jsonb)
                     FROM exports e WHERE e.organization_id = %(org)s AND e.store_id = d.store_id
                     AND e.business_date = d.business_date AND e.status <> 'booked') AS open_exports,
                    EXISTS (SELECT 1 FROM export_jobs j WHERE j.organization_id = %(org)s AND j.store_id = d.store_id
                            AND (j.business_date IS NULL OR j.business_date = d.business_date)) AS queued
             FROM days d
             LEFT JOIN stores st ON st.organization_id = %(org)s AND st.store_id = d.store_id) x
           WHERE NOT x.exported OR x.unexported > 0 OR jsonb_array_length(x.open_exports) > 0
           ORDER BY x.business_date, x.store_id""",  # noqa: S608 - constant
        {"org": org, "since": since, "until": until, "today": today},
    ).fetchall()
    return [DayState(r[0], r[1], r[2], r[3], r[4], int(r[6]), list(r[7]), r[8]) for r in rows]


def export_summary(conn: psycopg.Connection[Any], org: str) -> tuple[int, datetime | None]:
    """(failed exports waiting for a fix, when the last voucher was booked)."""
    row = conn.execute(
        "SELECT count(*) FILTER (WHERE status = 'failed'), max(booked_at) FROM exports WHERE organization_id = %s",
        (org,),
    ).fetchone()
    return (int(row[0]), row[1]) if row else (0, None)

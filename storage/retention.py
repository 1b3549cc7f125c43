"""How long sales are kept, and the purge that enforces it.

Every ingested sale is kept for ``DAYCLOSE_SALES_RETENTION_DAYS`` (default 400) after its business
date, whether or not its organization is active: a merchant who activates with a start date in the
past gets every day since then that we still hold. After that:

* booked sales go, but only once their voucher's audit record exists (:mod:`storage.audit`:
  the voucher as posted, the Z-report's control totals and every receipt id and number it holds);
  a booked day without that record keeps its sales. A day that booked nothing (its sales net to
  zero: NOTHING_TO_BOOK) has no voucher to trace and goes too;
* sales never claimed by an export go (inactive or unknown organizations, days before a start date);
* sales held by an export that is not booked (failed, or still posting) are NEVER purged: they are
  a merchant's unbooked day, and deleting them would lose it;
* outbox rows go a week after they were sent (never before); dead-letter keys with the sales;
* audit records go only after their ``retain_until``: the end of the seventh calendar year after the
  one in which the voucher's fiscal year ended (Bokföringslagen 7 kap. 2 §).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import psycopg


@dataclass(frozen=True)
class PurgeResult:
    sales_events: int
    day_closes: int
    processed_commands: int
    sent_outbox_rows: int = 0
    dead_letter_keys: int = 0
    audit_vouchers: int = 0


SENT_OUTBOX_DAYS = 7


def purge(conn: psycopg.Connection[Any], today: date, retention_days: int) -> PurgeResult:
    cutoff = today - timedelta(days=retention_days)
    sales = conn.execute(
        """DELETE FROM sales s
           WHERE s.business_date < %s
             AND NOT EXISTS (SELECT 1 FROM exports e WHERE e.organization_id = s.organization_id
                             AND e.store_id = s.store_id AND e.business_date = s.business_date
                             AND e.trigger <> 'CORRECTION' AND e.sales_ids @> s.id
                             AND NOT EXISTS (SELECT 1 FROM audit_vouchers a WHERE a.export_id = e.export_id)
                             AND NOT (e.status = 'booked' AND coalesce(e.reason_code, '') = 'NOTHING_TO_BOOK'))""",
        (cutoff,),
    ).rowcount
    closes = conn.execute(
        """DELETE FROM day_closes d WHERE d.business_date < %s
           AND NOT EXISTS (SELECT 1 FROM sales s WHERE s.organization_id = d.organization_id
                           AND s.store_id = d.store_id AND s.business_date = d.business_date)""",
        (cutoff,),
    ).rowcount
    commands = conn.execute("DELETE FROM processed_commands WHERE processed_at < %s", (cutoff,)).rowcount
    # Sent outbox rows are already on Kafka: a week is plenty for looking back at what was sent.
    # Unsent ones (including rows set aside after refusals) are never deleted here.
    sent = conn.execute(
        "DELETE FROM outbox WHERE sent_at IS NOT NULL AND sent_at < %s", (today - timedelta(days=SENT_OUTBOX_DAYS),)
    ).rowcount
    dead = conn.execute("DELETE FROM dead_letters WHERE dead_lettered_at < %s", (cutoff,)).rowcount
    audits = conn.execute("DELETE FROM audit_vouchers WHERE retain_until < %s", (today,)).rowcount
    return PurgeResult(sales, closes, commands, sent, dead, audits)

"""``dayclose purge``: drop whole quarters of sales past the retention, never one that still holds an unbooked
store-day; ``--dry-run`` says what each quarter holds and what blocks it, and nothing is dropped unconfirmed."""

from __future__ import annotations

import argparse
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from dayclose import exitcodes
from dayclose.commands.common import Subparsers, confirm, connect, print_table, settings
from storage.retention import QuarterPlan

HELP = """Drop the quarters of sales whose last day is more than DAYCLOSE_SALES_RETENTION_DAYS old, after copying the
receipt -> voucher link of their booked vouchers to the audit record (kept 7 years). A quarter holding a store-day
that is not booked (failed, posting, or sales not exported of an active organization) is kept whole and its
blocking store-days are listed. Also deletes processed commands and dead-letter keys past the retention, outbox
rows sent over a week ago and audit records past their retain-until date. Asks before it drops anything unless
--yes (required without a terminal, e.g. in the chart's CronJob)."""
#: Blocking store-days listed per quarter (the count is always given).
SHOWN_BLOCKERS = 20


def register(sub: Subparsers) -> None:
    purge = sub.add_parser(
        "purge", help="drop quarters of sales past the retention period (never unbooked ones)", description=HELP
    )
    purge.add_argument("--dry-run", action="store_true", help="show what each quarter holds and what blocks it")
    purge.add_argument("--yes", "-y", action="store_true", help="do not ask for confirmation")
    purge.set_defaults(func=purge_sales)


def purge_sales(args: argparse.Namespace) -> int:
    from dayclose.logs import configure_logging, get_logger
    from service import bus
    from service.retention import PurgeSales
    from storage.retention import plan
    from storage.uow import OnConnection

    loaded = settings()
    today = datetime.now(ZoneInfo("Europe/Stockholm")).date()
    retention = loaded.sales_retention_days
    with connect(loaded, autocommit=True) as conn:
        quarters, inside = plan(conn, today, retention)
        _print_plan(quarters, inside, today - timedelta(days=retention))
        if args.dry_run:
            return exitcodes.OK
        droppable = [q for q in quarters if q.droppable]
        question = (
            f"Drop {len(droppable)} quarter(s) ({sum(q.sales_rows for q in droppable)} sales rows) and the small "
            "tables' rows past the retention?"
        )
        if not confirm(question, assume_yes=args.yes):
            return exitcodes.FAILED
        configure_logging(loaded.log_level, loaded.log_format)
        # Autocommit: each quarter is dropped in a transaction of its own, so its locks end with it.
        result = bus.handle(OnConnection(conn), PurgeSales(today, retention))
    for q in result.quarters_dropped:
        print(f"dropped quarter {_name(q)}")
    for b in result.blockers:
        print(f"kept {_name(b.business_date)}: {b.organization_id} {b.store_id} {b.business_date}: {b.reason}")
    for d in result.discarded:
        print(f"discarded: {d.organization_id} {d.store_id} {d.business_date}: {d.reason}")
    if result.set_aside:
        print(f"set aside: {result.set_aside} sales sent again for store-days already purged (sales_after_purge)")
    print(
        f"deleted: {result.day_closes} day closes, {result.processed_commands} processed commands, "
        f"{result.sent_outbox_rows} sent outbox rows, {result.dead_letter_keys} dead-letter keys, "
        f"{result.notifications} notifications, {result.audit_vouchers} audit records past retention; "
        f"{result.audit_receipts} receipt links copied"
    )
    get_logger("dayclose.purge").info(
        "purge.done",
        retention_days=retention,
        quarters_dropped=[str(q) for q in result.quarters_dropped],
        quarters_kept=[str(q) for q in result.quarters_kept],
        blockers=len(result.blockers),
        audit_receipts_copied=result.audit_receipts,
        sales_set_aside_after_purge=result.set_aside,
    )
    return exitcodes.OK


def _name(day: date) -> str:
    return f"{day.year}Q{(day.month - 1) // 3 + 1}"


def _print_plan(quarters: list[QuarterPlan], inside: int, cutoff: date) -> None:
    print(f"retention: sales of business dates before {cutoff} may go; {inside} quarter(s) are inside the retention")
    if not quarters:
        print("no quarter is past the retention: nothing to drop")
        return
    rows = [
        (
            _name(q.first_day),
            f"{q.first_day}..{q.end - timedelta(days=1)}",
            q.sales_rows,
            q.store_days,
            q.booked_exports,
            "drop" if q.droppable else f"keep: {len(q.blockers)} blocking store-day(s)",
        )
        for q in quarters
    ]
    print_table(["quarter", "days", "sales rows>", "store-days>", "booked vouchers>", "verdict"], rows)
    for q in quarters:
        for b in q.blockers[:SHOWN_BLOCKERS]:
            print(f"  {_name(q.first_day)} blocked by {b.organization_id} {b.store_id} {b.business_date}: {b.reason}")
        if len(q.blockers) > SHOWN_BLOCKERS:
            print(f"  {_name(q.first_day)}: {len(q.blockers) - SHOWN_BLOCKERS} more blocking store-days")
        if q.late:
            print(f"  {_name(q.first_day)}: {len(q.late)} store-day(s) of late sales of purged days go with it")

"""``dayclose reexport``: correct a booked store-day: its reversal, then a new voucher (never an edit)."""

from __future__ import annotations

import argparse
import sys

from dayclose import exitcodes
from dayclose.commands.common import Subparsers, connect, iso_date, settings

HELP = """Correct a booked store-day: reverse its vouchers, then export the day anew through the current account plan
(a booked voucher is never edited). The running service dates the reversal and the new voucher on the day the
error is found (the first open day after it when BL has locked that period; BFNAR 2013:2 p. 2.17-2.18), or with
--original-period and the accountant's --statement on the original business date while BL takes it, and books
them; follow with `dayclose exports list --org ORG --store STORE --from DATE --to DATE`. Who asked
and why are kept with the correction. Exit 1 when the store-day has nothing booked to correct."""


def register(sub: Subparsers) -> None:
    rex = sub.add_parser(
        "reexport", help="correct a booked store-day: reversal + new voucher, never an edit", description=HELP
    )
    rex.add_argument("--org", required=True, help="organization id")
    rex.add_argument("--store", required=True, help="store id")
    rex.add_argument("--date", required=True, type=iso_date, help="business date, YYYY-MM-DD")
    rex.add_argument("--reason", required=True, help="why the day is corrected (kept with the correction)")
    rex.add_argument("--user", required=True, help="who asks for the correction (kept with it)")
    rex.add_argument(
        "--original-period", action="store_true", help="date it the original business date (default: today)"
    )
    rex.add_argument("--statement", help="with --original-period: why the work on that period is not finished")
    rex.set_defaults(func=reexport)


def reexport(args: argparse.Namespace) -> int:
    from mapping.periods import PeriodChoice
    from service import bus
    from service.correction_requests import CorrectDay, NothingToCorrect
    from storage.uow import OnConnection

    period = PeriodChoice.ORIGINAL if args.original_period else PeriodChoice.FOUND
    if (period == PeriodChoice.ORIGINAL) != bool(args.statement):
        print("--original-period and --statement go together (why the period's work is not finished)", file=sys.stderr)
        return exitcodes.USAGE
    with connect(settings()) as conn:
        try:
            command = CorrectDay(
                args.org,
                args.store,
                args.date,
                reason=args.reason,
                requested_by=args.user,
                via="CLI",
                period=period,
                statement=args.statement,
            )
            requested = bus.handle(OnConnection(conn), command)
        except NothingToCorrect as exc:
            print(exc, file=sys.stderr)
            return exitcodes.FAILED
    reversals = requested.reversal_export_ids
    print(
        f"correction {requested.correction_id}: queued {len(reversals)} reversal(s): "
        f"{', '.join(str(r) for r in reversals)}; the running service dates them "
        + ("the original business date (while BL takes it)" if args.original_period else "the day the error is found")
        + f", books them, then exports the day anew. Follow with: dayclose exports list --org {args.org} --store "
        f"{args.store} --from {args.date} --to {args.date}"
    )
    return exitcodes.OK

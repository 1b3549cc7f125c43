"""The ``dayclose`` command: one obvious entry point for every job.

    dayclose run        the Kafka consumer (ingest sales, export on day close / manual request)
    dayclose api        the BackOffice HTTP API (activation wizard, manual export, history)
    dayclose migrate    apply database migrations
    dayclose export-sie booked vouchers as an SIE 4I file, for accountants who want a file
    dayclose reexport   correct a booked store-day: its reversal, then a new voucher (never an edit)
    dayclose audit      which voucher holds a receipt; which receipts a voucher holds (kept 7 years)
    dayclose purge      delete sales past their retention period (never a day that is not booked)
    dayclose dead-letters show|replay   list and decode dead letters; send chosen ones back to their topic
    dayclose demo       the whole service on embedded defaults, end to end
    dayclose devstack   run one local service (postgres | kafka | bl) until SIGTERM
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any


def _cmd_migrate(_args: argparse.Namespace) -> int:
    from dayclose.config import load_settings
    from dayclose.logs import configure_logging, get_logger
    from storage.migrate import migrate

    settings = load_settings()
    configure_logging(settings.log_level, settings.log_format)
    applied = migrate(settings.database_url)
    get_logger("dayclose.migrate").info("migrations.applied", versions=[m.version for m in applied])
    return 0


def _cmd_purge(_args: argparse.Namespace) -> int:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    import psycopg

    from dayclose.config import load_settings
    from dayclose.logs import configure_logging, get_logger
    from storage.retention import purge

    settings = load_settings()
    configure_logging(settings.log_level, settings.log_format)
    today = datetime.now(ZoneInfo("Europe/Stockholm")).date()
    with psycopg.connect(settings.database_url) as conn:
        result = purge(conn, today, settings.sales_retention_days)
    get_logger("dayclose.purge").info("purge.done", retention_days=settings.sales_retention_days,
                                      sales_events=result.sales_events, day_closes=result.day_closes,
                                      processed_commands=result.processed_commands,
                                      sent_outbox_rows=result.sent_outbox_rows,
                                      dead_letter_keys=result.dead_letter_keys,
                                      audit_vouchers_past_retention=result.audit_vouchers)
    return 0


def _cmd_export_sie(args: argparse.Namespace) -> int:
    """Write the organization's booked vouchers in a date range as an SIE 4I import file."""
    from datetime import date, datetime
    from pathlib import Path
    from zoneinfo import ZoneInfo

    import psycopg

    from dayclose.config import load_settings
    from exporters.sie import SieNames, write_sie4i
    from storage.audit import booked_vouchers
    from storage.codecs import voucher_from_json

    settings = load_settings()
    since, until = date.fromisoformat(args.since), date.fromisoformat(args.until)
    with psycopg.connect(settings.database_url) as conn:
        stored = booked_vouchers(conn, args.org, since, until)
        row = conn.execute("SELECT company_name, company_org_number FROM integrations WHERE organization_id = %s",
                           (args.org,)).fetchone()
    company, org_number = (row[0] or args.org, row[1]) if row else (args.org, None)
    vouchers = [voucher_from_json(v) for v in stored]
    names = SieNames.from_stored(stored)
    data = write_sie4i(vouchers, company_name=company, org_number=org_number, names=names,
                       generated_on=datetime.now(ZoneInfo("Europe/Stockholm")).date())
    output = Path(args.output or f"dayclose-{args.org}-{since:%Y%m%d}-{until:%Y%m%d}.si")
    if not output.suffix:
        output = output.with_suffix(".si")  # SIE 4I import files are .si by convention
    output.write_bytes(data)
    print(f"wrote {len(vouchers)} vouchers to {output}")
    return 0


def _cmd_reexport(args: argparse.Namespace) -> int:
    """Correct a booked store-day: reverse its vouchers, then export it anew through the current plan."""
    from datetime import date

    import psycopg

    from dayclose.config import load_settings
    from storage.corrections import NothingToCorrect, request_reexport

    settings = load_settings()
    with psycopg.connect(settings.database_url) as conn:
        try:
            requested = request_reexport(conn, args.org, args.store, date.fromisoformat(args.date),
                                         reason=args.reason, requested_by=args.user, via="CLI")
        except NothingToCorrect as exc:
            print(exc, file=sys.stderr)
            return 2
    reversals = requested.reversal_export_ids
    print(f"correction {requested.correction_id}: queued {len(reversals)} reversal(s): "
          f"{', '.join(str(r) for r in reversals)}; the running service dates them by BL's period rules, books "
          "them, then exports the day anew (watch the outcomes topic or `exports` for CORRECTION)")
    return 0


def _cmd_audit(args: argparse.Namespace) -> int:
    """Answer the auditor's two questions from the audit record (kept 7 years after the fiscal year)."""
    import json

    import psycopg

    from dayclose.config import load_settings
    from storage import audit

    settings = load_settings()
    with psycopg.connect(settings.database_url) as conn:
        if args.what == "receipt":
            found = audit.vouchers_holding_receipt(conn, args.org, args.receipt_id)
            result = [{"receipt_number": number, **_audit_json(v)} for number, v in found]
        else:
            vouchers = audit.vouchers_by_number(conn, args.org, args.series, args.number, args.year)
            result = [{**_audit_json(v), "receipts": [{"receipt_id": r, "receipt_number": n}
                                                      for r, n in audit.receipts_of(conn, v.export_id)]}
                      for v in vouchers]
    if not result:
        print("nothing found in the audit record", file=sys.stderr)
        return 2
    print(json.dumps(result, indent=2, ensure_ascii=False, default=str))
    return 0


def _audit_json(v: object) -> dict[str, object]:
    data = dict(v.__dict__)
    data.pop("voucher", None)
    return data


def _cmd_dead_letters(args: argparse.Namespace) -> int:
    """List and decode the dead-letter topic, or replay chosen originals to their source topic."""
    from consumer import dead_letters
    from dayclose.bootstrap import schema_registry
    from dayclose.config import load_settings

    settings = load_settings()
    kafka = settings.kafka
    letters = dead_letters.read(kafka, schema_registry(settings))
    try:
        everything = args.all or (args.action == "show" and not args.ids)
        chosen = dead_letters.select(letters, args.ids, args.error_code, everything=everything)
    except KeyError as exc:
        print(exc.args[0], file=sys.stderr)
        return 2
    if args.action == "show":
        (dead_letters.print_json if args.json else dead_letters.print_text)(chosen, sys.stdout)
        return 0
    if not chosen:
        print("nothing to replay (name dead letters by id or position, or use --all)", file=sys.stderr)
        return 2
    problems = dead_letters.replay(chosen, kafka)
    for problem in problems:
        print(problem, file=sys.stderr)
    print(f"replayed {len(chosen) - len(problems)} of {len(chosen)} to their source topics "
          "(ingest is idempotent: what is already stored is ignored, what is still bad is dead-lettered again)")
    return 1 if problems else 0


def _cmd_run(_args: argparse.Namespace) -> int:
    from dayclose.run import main as run_service

    return run_service()


def _cmd_api(_args: argparse.Namespace) -> int:
    import uvicorn

    from dayclose.bootstrap import build_api
    from dayclose.config import API_TOKENS, KEY_ENCRYPTION_KEY, load_settings
    from dayclose.logs import configure_logging
    from dayclose.shutdown import Watchdog

    settings = load_settings(needs=(KEY_ENCRYPTION_KEY, API_TOKENS))  # no request could be authorized without
    configure_logging(settings.log_level, settings.log_format)
    watchdog = Watchdog(settings.shutdown_timeout_s, "dayclose api")

    class Server(uvicorn.Server):
        """uvicorn, with the process's end bounded: requests in flight get half the deadline, then the
        app's shutdown (the pool) runs, and the watchdog ends whatever is still going at the deadline."""

        def handle_exit(self, sig: int, frame: Any) -> None:
            watchdog.arm()
            super().handle_exit(sig, frame)

    # No access log: BL's activation callbacks carry the merchant's key in the path. The app logs each
    # request by its route template instead.
    config = uvicorn.Config(build_api(settings), host="0.0.0.0", port=settings.http_port,  # noqa: S104 - in a pod
                            access_log=False, log_config=None,
                            timeout_graceful_shutdown=max(1, int(settings.shutdown_timeout_s / 2)))
    Server(config).run()
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    from devstack.demo import main as run_demo

    return run_demo(quick=args.quick)


def _cmd_devstack(args: argparse.Namespace) -> int:
    import runpy

    module = {"postgres": "devstack.postgres", "kafka": "devstack.kafka", "bl": "devstack.bl_standin"}[args.service]
    sys.argv = [module, *args.rest]
    runpy.run_module(module, run_name="__main__", alter_sys=True)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="dayclose", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    commands: dict[str, tuple[str, Callable[[argparse.Namespace], int]]] = {
        "run": ("run the consumer service", _cmd_run),
        "api": ("run the BackOffice HTTP API", _cmd_api),
        "migrate": ("apply database migrations", _cmd_migrate),
        "demo": ("run the service end to end on embedded defaults", _cmd_demo),
        "purge": ("delete sales past the retention period (never unbooked ones)", _cmd_purge),
    }
    for name, (help_text, func) in commands.items():
        p = sub.add_parser(name, help=help_text)
        p.set_defaults(func=func)
        if name == "demo":
            p.add_argument("--quick", action="store_true", help="a smaller day, for CI")
    sie = sub.add_parser("export-sie", help="write booked vouchers as an SIE 4I import file")
    sie.add_argument("--org", required=True, help="organization id")
    sie.add_argument("--from", dest="since", required=True, help="first business date, YYYY-MM-DD")
    sie.add_argument("--to", dest="until", required=True, help="last business date, YYYY-MM-DD")
    sie.add_argument("--output", "-o", help="file to write (CP437; default dayclose-<org>-<from>-<to>.si)")
    sie.set_defaults(func=_cmd_export_sie)
    rex = sub.add_parser("reexport", help="correct a booked store-day: reversal + new voucher, never an edit")
    rex.add_argument("--org", required=True)
    rex.add_argument("--store", required=True)
    rex.add_argument("--date", required=True, help="business date, YYYY-MM-DD")
    rex.add_argument("--reason", required=True, help="why the day is corrected (kept with the correction)")
    rex.add_argument("--user", required=True, help="who asks for the correction (kept with it)")
    rex.set_defaults(func=_cmd_reexport)
    aud = sub.add_parser("audit", help="which voucher holds a receipt / which receipts a voucher holds")
    aud_sub = aud.add_subparsers(dest="what", required=True)
    rcp = aud_sub.add_parser("receipt", help="the vouchers that hold a receipt (by the POS's receipt id)")
    rcp.add_argument("receipt_id")
    rcp.add_argument("--org", required=True)
    vch = aud_sub.add_parser("voucher", help="the receipts in a voucher, e.g. `audit voucher D 123 --org o`")
    vch.add_argument("series")
    vch.add_argument("number", type=int)
    vch.add_argument("--org", required=True)
    vch.add_argument("--year", help="BL's fiscal year id (e.g. 202601); numbers restart every fiscal year")
    aud.set_defaults(func=_cmd_audit)
    dead = sub.add_parser("dead-letters", help="list/decode dead letters, or replay chosen ones to their topic")
    dead.add_argument("action", choices=["show", "replay"])
    dead.add_argument("ids", nargs="*", metavar="ID",
                      help="replay: dead_letter_id or position PARTITION:OFFSET in the dead-letter topic")
    dead.add_argument("--all", action="store_true", help="replay: every dead letter (narrowed by --error-code)")
    dead.add_argument("--error-code", help="only dead letters with this error code, e.g. SCHEMA_MISMATCH")
    dead.add_argument("--json", action="store_true", help="show: one JSON object per line")
    dead.set_defaults(func=_cmd_dead_letters)
    dev = sub.add_parser("devstack", help="run one local service until SIGTERM")
    dev.add_argument("service", choices=["postgres", "kafka", "bl"])
    dev.add_argument("rest", nargs=argparse.REMAINDER)
    dev.set_defaults(func=_cmd_devstack)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    result: int = args.func(args)
    return result


if __name__ == "__main__":
    sys.exit(main())

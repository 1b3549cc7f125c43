"""The ``dayclose`` command: one obvious entry point for every job.

dayclose run        the Kafka consumer (ingest sales, export on day close / manual request)
dayclose api        the BackOffice HTTP API (activation wizard, manual export, history)
dayclose migrate    apply database migrations
dayclose export-sie booked vouchers as an SIE 4I file, for accountants who want a file
dayclose reexport   correct a booked store-day: its reversal, then a new voucher (never an edit)
dayclose vat-report a VAT period's Z-reports against the books, the momsdeklaration's boxes, BL's balances
dayclose audit      which voucher holds a receipt; which receipts a voucher holds (kept 7 years)
dayclose purge      drop quarters of sales past their retention period (never a day that is not booked)
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
    config = uvicorn.Config(
        build_api(settings),
        host="0.0.0.0",  # noqa: S104 - in a pod
        port=settings.http_port,
        access_log=False,
        log_config=None,
        timeout_graceful_shutdown=max(1, int(settings.shutdown_timeout_s / 2)),
    )
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
    from dayclose import operations as ops
    from dayclose import vat_report_cli

    parser = argparse.ArgumentParser(
        prog="dayclose", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)
    commands: dict[str, tuple[str, Callable[[argparse.Namespace], int]]] = {
        "run": ("run the consumer service", _cmd_run),
        "api": ("run the BackOffice HTTP API", _cmd_api),
        "migrate": ("apply database migrations", _cmd_migrate),
        "demo": ("run the service end to end on embedded defaults", _cmd_demo),
        "purge": ("drop quarters of sales past the retention period (never unbooked ones)", ops.purge_sales),
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
    sie.add_argument("--unbooked", action="store_true", help="only the vouchers the integration did not book")
    sie.set_defaults(func=ops.export_sie)
    rex = sub.add_parser("reexport", help="correct a booked store-day: reversal + new voucher, never an edit")
    rex.add_argument("--org", required=True)
    rex.add_argument("--store", required=True)
    rex.add_argument("--date", required=True, help="business date, YYYY-MM-DD")
    rex.add_argument("--reason", required=True, help="why the day is corrected (kept with the correction)")
    rex.add_argument("--user", required=True, help="who asks for the correction (kept with it)")
    rex.add_argument(
        "--original-period", action="store_true", help="date it the original business date (default: today)"
    )
    rex.add_argument("--statement", help="with --original-period: why the work on that period is not finished")
    rex.set_defaults(func=ops.reexport)
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
    aud.set_defaults(func=ops.audit_trail)
    dead = sub.add_parser("dead-letters", help="list/decode dead letters, or replay chosen ones to their topic")
    dead.add_argument("action", choices=["show", "replay"])
    dead.add_argument(
        "ids",
        nargs="*",
        metavar="ID",
        help="replay: dead_letter_id or position PARTITION:OFFSET in the dead-letter topic",
    )
    dead.add_argument("--all", action="store_true", help="replay: every dead letter (narrowed by --error-code)")
    dead.add_argument("--error-code", help="only dead letters with this error code, e.g. SCHEMA_MISMATCH")
    dead.add_argument("--json", action="store_true", help="show: one JSON object per line")
    dead.set_defaults(func=ops.dead_letter_topic)
    vat_report_cli.add_parser(sub)
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

"""The dayclose command: one obvious entry point for every job of the service and its operators.

  dayclose run          the consumer process (ingest sales, export on day close / manual request)
  dayclose api          the BackOffice HTTP API
  dayclose migrate      apply database migrations
  dayclose exports      list exports, show one, retry refused ones
  dayclose reexport     correct a booked store-day: its reversal, then a new voucher (never an edit)
  dayclose audit        which voucher holds a receipt; which receipts a voucher holds (kept 7 years)
  dayclose export-sie   booked vouchers as an SIE 4I file, for accountants who want a file
  dayclose vat-report   a VAT period's Z-reports against the books, the momsdeklaration's boxes, BL's balances
  dayclose purge        drop quarters of sales past their retention (never a day that is not booked)
  dayclose dead-letters list and decode dead letters; send chosen ones back to their topic
  dayclose token        mint a BackOffice API token for one organization

`dayclose COMMAND --help` says more. Settings are environment variables (README, "Running against real services").
The local stack (PostgreSQL, Kafka, the BL stand-in, these processes) is another command: `dayclose-dev`.
"""

from __future__ import annotations

import argparse
import logging
import sys
from types import ModuleType

from dayclose import exitcodes
from dayclose.commands import audit, corrections, dead_letters, exports, purge, services, sie, token, vat_report
from dayclose.preflight import DependencyUnavailable
from dayclose.settings import ConfigError

#: Each module adds its commands (``register(subparsers)``), in the order ``--help`` lists them. A new command
#: group is a module in :mod:`dayclose.commands` and one entry here.
COMMANDS: tuple[ModuleType, ...] = (services, exports, corrections, audit, sie, vat_report, purge, dead_letters, token)


def build_parser() -> argparse.ArgumentParser:
    from dayclose.telemetry import version

    parser = argparse.ArgumentParser(
        prog="dayclose",
        description=__doc__,
        epilog=exitcodes.EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"dayclose {version()}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in COMMANDS:
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except ConfigError as exc:
        for problem in exc.problems:  # one line each, never a traceback: the operator fixes them all at once
            print(f"dayclose: {problem}", file=sys.stderr)
        return exitcodes.CONFIG
    except DependencyUnavailable as exc:
        if logging.getLogger().handlers:  # a process with its logging set up: one JSON line, like the rest
            from dayclose.logs import get_logger

            get_logger("dayclose.startup").error("startup.dependency_unavailable", problem=str(exc))
        else:
            print(f"dayclose: {exc}", file=sys.stderr)
        return exitcodes.UNAVAILABLE


if __name__ == "__main__":
    sys.exit(main())

"""``dayclose dead-letters show|replay``: read the dead-letter topic; send chosen originals back to their topic."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime

from dayclose import exitcodes
from dayclose.commands.common import Subparsers, iso_date, positive_int, settings

HELP = """Dead letters are the messages the consumer could not ingest (undecodable, wrong schema, invalid, a receipt
id sent again with other content), each with the original kept. `show` decodes them, oldest first; `replay`
sends the chosen originals, byte for byte, back to their source topic (safe: ingest is idempotent, and a message
still bad is dead-lettered again). Exit 1 when an id matches nothing, nothing is chosen, or a replay failed."""


def register(sub: Subparsers) -> None:
    dead = sub.add_parser(
        "dead-letters", help="list/decode dead letters, or replay chosen ones to their topic", description=HELP
    )
    dead.add_argument("action", choices=["show", "replay"])
    dead.add_argument(
        "ids",
        nargs="*",
        metavar="ID",
        help="dead_letter_id or position PARTITION:OFFSET in the dead-letter topic",
    )
    dead.add_argument("--all", action="store_true", help="replay: every dead letter (narrowed by the filters)")
    dead.add_argument("--error-code", help="only dead letters with this error code, e.g. SCHEMA_MISMATCH")
    dead.add_argument("--org", help="only dead letters whose decoded original names this organization")
    dead.add_argument("--since", type=iso_date, help="only those that failed on or after this date (UTC)")
    dead.add_argument("--limit", type=positive_int, help="show: only the newest N of those chosen")
    dead.add_argument("--json", action="store_true", help="show: one JSON object per line")
    dead.set_defaults(func=dead_letter_topic)


def dead_letter_topic(args: argparse.Namespace) -> int:
    from consumer import dead_letters
    from dayclose.bootstrap import schema_registry
    from dayclose.logs import librdkafka_logger

    loaded = settings()
    kafka = loaded.kafka
    clients = {"logger": librdkafka_logger()}
    letters = dead_letters.read(kafka, schema_registry(loaded), client_overrides=clients)
    try:
        everything = args.all or (args.action == "show" and not args.ids)
        chosen = dead_letters.select(
            letters, args.ids, args.error_code, everything=everything, organization_id=args.org
        )
    except KeyError as exc:
        print(exc.args[0], file=sys.stderr)
        return exitcodes.FAILED
    if args.since is not None:
        since = datetime.combine(args.since, datetime.min.time(), UTC)
        chosen = [d for d in chosen if d.record["failed_at"] >= since]
    if args.action == "show":
        if args.limit is not None:
            chosen = sorted(chosen, key=lambda d: d.record["failed_at"])[-args.limit :]
        (dead_letters.print_json if args.json else dead_letters.print_text)(chosen, sys.stdout)
        if not args.json:
            print(f"{len(chosen)} of {len(letters)} dead letters", file=sys.stderr)
        return exitcodes.OK
    if not chosen:
        print("nothing to replay (name dead letters by id or position, or use --all)", file=sys.stderr)
        return exitcodes.FAILED
    problems = dead_letters.replay(chosen, kafka, client_overrides=clients)
    for problem in problems:
        print(problem, file=sys.stderr)
    print(
        f"replayed {len(chosen) - len(problems)} of {len(chosen)} to their source topics "
        "(ingest is idempotent: what is already stored is ignored, what is still bad is dead-lettered again)"
    )
    return exitcodes.FAILED if problems else exitcodes.OK

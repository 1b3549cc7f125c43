"""``dayclose export-sie``: booked vouchers as an SIE 4I import file, for accountants who want a file."""

from __future__ import annotations

import argparse
import sys
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from dayclose import exitcodes
from dayclose.commands.common import Subparsers, connect, iso_date, settings

HELP = """Write the organization's booked vouchers whose entry date is in the range as an SIE 4I import file (CP437,
`.si`), declaring every account and cost centre it uses. The vouchers are already in BL (the file's #PROSA says so):
import the file into another program, not back into the same BL company, where it would book them twice. With
--unbooked, the vouchers the integration did NOT book (BL refused them) instead: importing those books them once."""


def register(sub: Subparsers) -> None:
    sie = sub.add_parser("export-sie", help="write booked vouchers as an SIE 4I import file", description=HELP)
    sie.add_argument("--org", required=True, help="organization id")
    sie.add_argument("--from", dest="since", type=iso_date, required=True, help="first entry date, YYYY-MM-DD")
    sie.add_argument("--to", dest="until", type=iso_date, required=True, help="last entry date, YYYY-MM-DD")
    sie.add_argument("--output", "-o", help="file to write (CP437; default dayclose-<org>-<from>-<to>.si)")
    sie.add_argument("--unbooked", action="store_true", help="only the vouchers the integration did not book")
    sie.set_defaults(func=export_sie)


def export_sie(args: argparse.Namespace) -> int:
    from exporters.sie import BOOKED_PROSA, UNBOOKED_PROSA, SieNames, write_sie4i
    from storage.audit import booked_vouchers, unbooked_vouchers
    from storage.codecs import voucher_from_json

    if args.since > args.until:
        print(f"--from {args.since} is after --to {args.until}", file=sys.stderr)
        return exitcodes.USAGE
    posting: list[str] = []
    with connect(settings()) as conn:
        if args.unbooked:
            stored, posting = unbooked_vouchers(conn, args.org, args.since, args.until)
        else:
            stored = booked_vouchers(conn, args.org, args.since, args.until)
        row = conn.execute(
            "SELECT company_name, company_org_number FROM integrations WHERE organization_id = %s", (args.org,)
        ).fetchone()
    company, org_number = (row[0] or args.org, row[1]) if row else (args.org, None)
    vouchers = [voucher_from_json(v) for v in stored]
    data = write_sie4i(
        vouchers,
        company_name=company,
        org_number=org_number,
        names=SieNames.from_stored(stored),
        generated_on=datetime.now(ZoneInfo("Europe/Stockholm")).date(),
        prosa=UNBOOKED_PROSA if args.unbooked else BOOKED_PROSA,
    )
    output = Path(args.output or f"dayclose-{args.org}-{args.since:%Y%m%d}-{args.until:%Y%m%d}.si")
    if not output.suffix:
        output = output.with_suffix(".si")  # SIE 4I import files are .si by convention
    output.write_bytes(data)
    _say_what_was_written(len(vouchers), output, args.unbooked, posting)
    return exitcodes.OK


def _say_what_was_written(count: int, output: Path, unbooked: bool, posting: list[str]) -> None:
    if unbooked:
        print(
            f"wrote {count} vouchers the integration did NOT book (Björn Lundén refused them) to {output}. "
            "Importing them books them; the integration then finds each by the reference in its text and does "
            "not post it again (as long as text, series and date are imported unchanged)."
        )
        if posting:
            print(f"left out {len(posting)} still being posted (they may be in BL already): {', '.join(posting)}")
    else:
        print(
            f"wrote {count} vouchers to {output}. They are ALREADY IN Björn Lundén, booked through the "
            "integration: importing this file into the same company books them twice. For the vouchers the "
            "integration did not book, use --unbooked."
        )

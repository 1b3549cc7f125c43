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
`.si`), declaring every account and cost centre it uses. The vouchers are already in BL: import the file into
another program, not back into the same BL company."""


def register(sub: Subparsers) -> None:
    sie = sub.add_parser("export-sie", help="write booked vouchers as an SIE 4I import file", description=HELP)
    sie.add_argument("--org", required=True, help="organization id")
    sie.add_argument("--from", dest="since", type=iso_date, required=True, help="first entry date, YYYY-MM-DD")
    sie.add_argument("--to", dest="until", type=iso_date, required=True, help="last entry date, YYYY-MM-DD")
    sie.add_argument("--output", "-o", help="file to write (CP437; default dayclose-<org>-<from>-<to>.si)")
    sie.set_defaults(func=export_sie)


def export_sie(args: argparse.Namespace) -> int:
    from exporters.sie import SieNames, write_sie4i
    from storage.audit import booked_vouchers
    from storage.codecs import voucher_from_json

    if args.since > args.until:
        print(f"--from {args.since} is after --to {args.until}", file=sys.stderr)
        return exitcodes.USAGE
    with connect(settings()) as conn:
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
    )
    output = Path(args.output or f"dayclose-{args.org}-{args.since:%Y%m%d}-{args.until:%Y%m%d}.si")
    if not output.suffix:
        output = output.with_suffix(".si")  # SIE 4I import files are .si by convention
    output.write_bytes(data)
    print(f"wrote {len(vouchers)} vouchers to {output}")
    return exitcodes.OK

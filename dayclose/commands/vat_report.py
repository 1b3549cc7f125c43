"""``dayclose vat-report``: the VAT-period report (:mod:`service.vat_report`) as a readable table, or as the API's
JSON with ``--json``. Exit 0 with a report; argparse's 2 for a bad period."""

from __future__ import annotations

import argparse
import json
import sys

from dayclose import exitcodes
from dayclose.commands.common import Subparsers
from mapping.money import format_sek, percent
from mapping.vatamounts import PerRate
from mapping.vatreport import CAUSE_TEXT
from service.vat_report import Comparison, VatPeriodReport

HELP = """Per VAT rate, a period's Z-reports against what dayclose booked for the same days (every voucher with its BL
series and number), the difference and its causes, the momsdeklaration's boxes 05, 10, 11 and 12, and BL's own
balances of the period's 26xx/30xx accounts (unless --no-bl). Exit 2 for a malformed period."""

BOX_NAMES = {
    "05": "Momspliktig försäljning (netto, 25/12/6 %)",
    "10": "Utgående moms 25 %",
    "11": "Utgående moms 12 %",
    "12": "Utgående moms 6 %",
}


def register(sub: Subparsers) -> None:
    p = sub.add_parser(
        "vat-report", help="a VAT period's Z-reports against the books, boxes 05/10/11/12, BL", description=HELP
    )
    p.add_argument("--org", required=True, help="organization id")
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--period", help="a month, YYYY-MM")
    which.add_argument("--quarter", help="a quarter, YYYYQN (e.g. 2026Q4)")
    which.add_argument("--year", help="a calendar year, YYYY")
    p.add_argument("--json", action="store_true", help="the API's JSON (amounts in öre) instead of the table")
    p.add_argument("--no-bl", action="store_true", help="do not ask BL for its balances")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from psycopg_pool import ConnectionPool

    from backoffice.models_vat import VatReportOut
    from dayclose.bootstrap import bl_exporter, units_of_work
    from dayclose.config import load_settings
    from dayclose.settings import KEY_ENCRYPTION_KEY
    from exporters.bl.ledger import BLLedger
    from mapping.vatperiods import parse_period
    from service.deps import stockholm_today
    from service.vat_report import vat_period_report

    text = args.period or args.quarter or args.year
    try:
        period = parse_period(text)
    except ValueError as exc:
        print(exc, file=sys.stderr)
        return exitcodes.USAGE
    settings = load_settings(needs=(KEY_ENCRYPTION_KEY,))  # the merchant's BL key is read to ask BL
    exporter = None if args.no_bl else bl_exporter(settings)
    with ConnectionPool(settings.database_url, min_size=1, max_size=1, open=True, name="dayclose-cli") as pool:
        result = vat_period_report(
            units_of_work(settings, pool, None),
            BLLedger(exporter) if exporter else None,
            args.org,
            period,
            stockholm_today(),
        )
    if exporter is not None:
        exporter.close()
    if args.json:
        print(json.dumps(VatReportOut.of(result).model_dump(mode="json"), indent=2, ensure_ascii=False))
    else:
        print(render(result))
    return exitcodes.OK


def _sek(amount: int) -> str:
    return f"{format_sek(amount):>14}"


def _rates(amounts: PerRate) -> str:
    return ", ".join(
        f"{percent(r)} %: {format_sek(a.net)} + VAT {format_sek(a.vat)}" for r, a in sorted(amounts.items())
    )


def render(result: VatPeriodReport) -> str:
    """The report as an accountant reads it (kronor)."""
    report, reporting = result.report, result.reporting
    period = report.period
    lines = [f"VAT report {period.label} ({period.start} – {period.end}), organization {result.organization_id}"]
    assumed = "" if reporting.is_set else " (not set: assumed)"
    lines.append(f"VAT reporting: {reporting.frequency.value}{assumed}")
    if result.filing:
        lines.append(f"return deadline {result.filing.deadline} ({result.filing.status.value})")
    lines += ["", f"{report.z_days} store-days with a Z-report", _rate_table(result)]
    lines += ["", "Momsdeklaration (Z-reports less single-purpose gift card redemptions)"]
    lines += [f"  ruta {box}  {BOX_NAMES[box]:<44}{_sek(amount)}" for box, amount in report.boxes.items()]
    if report.redemptions:
        lines.append(f"  redemptions left out: {_rates(report.redemptions)}")
    lines += ["", f"Vouchers dated in the period: {len(report.vouchers)}"]
    lines += [
        f"  {v.series} {v.number:<6} {v.entry_date}  {v.store_id} {v.business_date}  {v.kind.value:<10} {v.reference}"
        for v in report.vouchers
    ]
    lines += ["", "Differences: " + ("none" if not report.causes else f"{len(report.causes)}")]
    for c in report.causes:
        lines.append(f"  {c.cause.value}  {c.store_id} {c.business_date}: {_rates(c.amounts) or '0.00'}")
        lines.append(f"      {CAUSE_TEXT[c.cause]} {' '.join(c.vouchers)}".rstrip())
    lines += ["", *_bl_lines(result)]
    return "\n".join(lines)


def _rate_table(result: VatPeriodReport) -> str:
    head = (
        f"  {'rate':>5} {'Z gross':>14}{'Z net':>14}{'Z VAT':>14}{'booked net':>14}{'booked VAT':>14}{'diff VAT':>14}"
    )
    rows = [
        f"  {percent(r.rate) + ' %':>5} {_sek(r.z_report.gross)}{_sek(r.z_report.net)}{_sek(r.z_report.vat)}"
        f"{_sek(r.booked.net)}{_sek(r.booked.vat)}{_sek(r.difference.vat)}"
        for r in result.report.rates
    ]
    return "\n".join([head, *rows])


def _bl_lines(result: VatPeriodReport) -> list[str]:
    bl = result.bl
    if bl.status != Comparison.COMPARED:
        return [f"BL balances: {bl.status.value}{' (' + bl.detail + ')' if bl.detail else ''}"]
    lines = ["BL balances of the period (debit +, credit −)", f"  {'account':<8}{'BL':>14}{'dayclose':>14}{'diff':>14}"]
    for a in bl.accounts:
        lines.append(f"  {a.account:<8}{_sek(a.bl)}{_sek(a.dayclose)}{_sek(a.difference)}")
        for label, items in (("not dayclose's", a.other_vouchers), ("missing in BL", a.missing_in_bl)):
            lines += [f"      {label}: {v.voucher} {v.entry_date} {format_sek(v.amount)} {v.text[:50]}" for v in items]
        lines += [f"      changed in BL: {v.voucher} {format_sek(v.amount)}" for v in a.changed_in_bl]
    return lines

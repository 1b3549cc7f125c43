"""``dayclose audit receipt|voucher``: the auditor's two questions, answered from the seven-year audit record."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from dayclose import exitcodes
from dayclose.commands.common import Subparsers, connect, kronor, print_json, print_table, settings, text

HELP = """The link between BL's vouchers and the POS's receipts, kept 7 years after the fiscal year ends
(Bokföringslagen 7 kap. 2 §), also after the sales themselves are purged. Exit 1 when nothing is found."""


def register(sub: Subparsers) -> None:
    audit = sub.add_parser(
        "audit", help="which voucher holds a receipt / which receipts a voucher holds", description=HELP
    )
    what = audit.add_subparsers(dest="what", required=True, metavar="{receipt,voucher}")
    receipt = what.add_parser(
        "receipt",
        help="the vouchers that hold a receipt (by the POS's receipt id)",
        description="Every voucher that holds the receipt: the original, and a reversal and new voucher after a "
        "correction.",
    )
    receipt.add_argument("receipt_id")
    voucher = what.add_parser(
        "voucher",
        help="the receipts in a voucher, e.g. `audit voucher D 123 --org o`",
        description="The voucher with this series and number (one per fiscal year: narrow with --year), its rows "
        "and the receipts it holds.",
    )
    voucher.add_argument("series")
    voucher.add_argument("number", type=int)
    voucher.add_argument("--year", help="BL's fiscal year id (e.g. 202601); numbers restart every fiscal year")
    for parser in (receipt, voucher):
        parser.add_argument("--org", required=True, help="organization id")
        parser.add_argument("--json", action="store_true", help="JSON (the stored record) instead of text")
        parser.set_defaults(func=audit_trail)


def audit_trail(args: argparse.Namespace) -> int:
    from storage import audit

    with connect(settings()) as conn:
        if args.what == "receipt":
            found = audit.vouchers_holding_receipt(conn, args.org, args.receipt_id)
            result = [{"receipt_number": number, **_record(v)} for number, v in found]
        else:
            vouchers = audit.vouchers_by_number(conn, args.org, args.series, args.number, args.year)
            result = [
                {
                    **_record(v),
                    "receipts": [
                        {"receipt_id": r, "receipt_number": n} for r, n in audit.receipts_of(conn, v.export_id)
                    ],
                }
                for v in vouchers
            ]
    if not result:
        print("nothing found in the audit record", file=sys.stderr)
        return exitcodes.FAILED
    if args.json:
        print_json(result)
    else:
        for i, record in enumerate(result):
            if i:
                print()
            _print_record(record)
    return exitcodes.OK


def _record(v: object) -> dict[str, Any]:
    data = dict(v.__dict__)
    data.pop("voucher", None)
    data["rows"] = (getattr(v, "voucher", None) or {}).get("rows", [])
    data["account_names"] = (getattr(v, "voucher", None) or {}).get("account_names", {})
    return data


def _print_record(r: dict[str, Any]) -> None:
    print(f"voucher {r['series']} {r['number']}  dated {r['entry_date']}  fiscal year {text(r['financial_year_id'])}")
    print(f"  store-day     {r['store_id']} {r['business_date']}  Z-report {text(r['z_report_number'])}")
    print(f"  trigger       {r['trigger']}  reference {r['reference']}  export {r['export_id']}")
    if r.get("reverses"):
        print(f"  reverses      export {r['reverses']}")
    if r.get("correction_id"):
        print(f"  correction    {r['correction_id']}")
    this = f"  (this receipt: number {r['receipt_number']})" if "receipt_number" in r else ""
    print(f"  receipts      {r['receipt_count']}{this}")
    print(f"  kept until    {r['retain_until']}")
    control = r.get("control_totals") or {}
    if control:
        print(f"  Z-report      {control.get('receipt_count')} receipts, grand total "
              f"{kronor(control.get('grand_total_ore'))} SEK")  # fmt: skip
        for rate_bp, gross, vat in control.get("vat") or []:
            print(f"    at {rate_bp / 100:g} % VAT: gross {kronor(gross)} SEK, of which VAT {kronor(vat)} SEK")
        for method, amount in control.get("payments") or []:
            print(f"    paid by {method}: {kronor(amount)} SEK")
    rows = r.get("rows") or []
    if rows:
        names = r.get("account_names") or {}
        print("  rows:")
        # A row is (account, öre, cost centre) and, since issue #21, its text (what kind of event it books).
        table = [
            (
                account,
                names.get(account, ""),
                kronor(a) if a > 0 else "",
                kronor(-a) if a < 0 else "",
                cc or "",
                text[0] if text and text[0] else "",
            )
            for account, a, cc, *text in rows
        ]
        print_table(
            ["    account", "name", "debit SEK>", "credit SEK>", "cost centre", "text"],
            [(f"    {t[0]}", *t[1:]) for t in table],
        )
    for receipt in r.get("receipts", []):
        print(f"  receipt {receipt['receipt_number'] or '?'}  id {receipt['receipt_id']}")

"""``dayclose exports list|show|retry``: find exports, follow one, and retry refused ones after a fix."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from dayclose import exitcodes
from dayclose.commands.common import (
    Subparsers,
    connect,
    iso_date,
    kronor,
    positive_int,
    print_json,
    print_table,
    settings,
    text,
)

STATUSES = ("posting", "booked", "failed")


def register(sub: Subparsers) -> None:
    exports = sub.add_parser(
        "exports",
        help="list exports, show one, retry refused ones",
        description="Exports are the vouchers dayclose books in BL, one per store-day (or part of one). Each has an "
        "id and a reference (DC-…, in the voucher text in BL).",
    )
    actions = exports.add_subparsers(dest="action", required=True, metavar="{list,show,retry}")

    listing = actions.add_parser(
        "list",
        help="exports matching the filters, newest business date first",
        description="Exports matching every filter given, newest business date first; a table, or --json.",
    )
    listing.add_argument("--org", help="organization id")
    listing.add_argument("--store", help="store id")
    listing.add_argument("--from", dest="since", type=iso_date, help="first business date, YYYY-MM-DD")
    listing.add_argument("--to", dest="until", type=iso_date, help="last business date, YYYY-MM-DD")
    listing.add_argument("--status", choices=STATUSES, help="posting (in progress or retrying), booked, failed")
    listing.add_argument("--limit", type=positive_int, default=50, help="at most this many (default 50)")
    listing.add_argument("--json", action="store_true", help="a JSON array instead of a table")
    listing.set_defaults(func=list_exports)

    show = actions.add_parser(
        "show",
        help="everything about one export: state, reason, lease, queued jobs, correction, day report",
        description="One export by its id or reference: its state, why it failed (in words, from the reason "
        "registry), who holds its lease, the store's queued jobs (when it is retried next), its correction and "
        "its day report. Exit 1 when nothing has that id or reference.",
    )
    show.add_argument("export", metavar="ID_OR_REFERENCE", help="export id (UUID) or reference (DC-…)")
    show.add_argument("--json", action="store_true", help="JSON instead of text")
    show.set_defaults(func=show_export)

    retry = actions.add_parser(
        "retry",
        help="retry refused exports now (after the cause was fixed)",
        description="Queue a retry of the organization's failed exports (of one store with --store, or the store "
        "of the export named), the way BackOffice's retry button does: each store's job retries its open "
        "exports oldest first, looking each voucher up in BL before posting. Exit 1 when there is nothing to "
        "retry, the export is unknown or not failed, or the integration is not active.",
    )
    retry.add_argument("export", nargs="?", metavar="ID_OR_REFERENCE", help="retry the store of this export")
    retry.add_argument("--org", help="organization id (required without ID_OR_REFERENCE)")
    retry.add_argument("--store", help="only this store")
    retry.set_defaults(func=retry_exports)


def list_exports(args: argparse.Namespace) -> int:
    from storage.operations import find_exports

    with connect(settings()) as conn:
        found, total = find_exports(
            conn,
            org=args.org,
            store=args.store,
            since=args.since,
            until=args.until,
            status=args.status,
            limit=args.limit,
        )
    if args.json:
        print_json([line.__dict__ for line in found])
        return exitcodes.OK
    rows = [
        (
            e.business_date,
            e.organization_id,
            e.store_id,
            e.trigger,
            e.status,
            f"{e.voucher_series} {e.voucher_number}" if e.voucher_number is not None else "",
            kronor(e.total_debit_ore),
            e.attempts,
            e.reason_code,
            e.reference,
        )
        for e in found
    ]
    headers = ["date", "org", "store", "trigger", "status", "voucher", "debit SEK>", "tries>", "reason", "reference"]
    print_table(headers, rows)
    print(f"{len(found)} of {total} exports" + (" (raise --limit for more)" if total > len(found) else ""))
    return exitcodes.OK


def show_export(args: argparse.Namespace) -> int:
    from storage.operations import export_detail

    with connect(settings()) as conn:
        detail = export_detail(conn, args.export)
    if detail is None:
        print(f"no export with id or reference {args.export!r}", file=sys.stderr)
        return exitcodes.FAILED
    if args.json:
        print_json(detail)
    else:
        _print_detail(detail)
    return exitcodes.OK


def _print_detail(d: dict[str, Any]) -> None:
    from service.reasons import reason

    voucher = (
        f"{d['voucher_series']} {d['voucher_number']}  debit {kronor(d['total_debit_ore'])} SEK  "
        f"booked {text(d['booked_at'])}"
        if d["voucher_number"] is not None
        else "not booked"
    )
    lines = [
        ("export", f"{d['export_id']}  reference {d['reference']}"),
        ("store-day", f"{d['organization_id']} / {d['store_id']} {text(d['store_name'])} / {d['business_date']}"),
        ("trigger", f"{d['trigger']}  Z-report {text(d['z_report_number'])}  {d['event_count']} events"),
        ("status", f"{d['status']} after {d['attempts']} attempt(s); updated {text(d['updated_at'])}"),
        ("voucher", voucher),
    ]
    if d["reason_code"]:
        explained = reason(d["reason_code"])
        lines.append(("reason", f"{d['reason_code']}: {explained.title_en}. {explained.message_en}"))
        for detail in d["reason_details"] or []:
            shown = [f"{k} {v}" for k, v in detail.items() if v not in (None, "")] if isinstance(detail, dict) else []
            lines.append(("detail", ", ".join(shown) or text(detail)))
    if d["lease_owner"]:
        lines.append(("lease", f"held by {d['lease_owner']} until {text(d['lease_until'])}"))
    for job in d["jobs"]:
        running = ""
        if job["leased_to"]:  # a worker runs it now
            running = f", running on {job['leased_to']} (lease until {text(job['lease_until'])})"
        lines.append(
            (
                "queued job",
                f"{job['trigger']} queued {text(job['queued_at'])}, runs from {text(job['not_before'])}, "
                f"{job['attempts']} earlier attempt(s){running}",
            )  # fmt: skip
        )
    if d["status"] != "booked" and not d["jobs"]:
        lines.append(("next", "no job queued: retried on the store's next export, a plan fix, or `exports retry`"))
    if d["reverses"]:
        lines.append(("reverses", d["reverses"]))
    if d["correction"]:
        c = d["correction"]
        lines.append(("correction", f"{c['reason']!r} by {c['requested_by']} via {c['requested_via']} "
                                    f"at {text(c['requested_at'])}"))  # fmt: skip
    if d["document_status"]:
        lines.append(("day report", f"{d['document_status']} {text(d['document_name'])} {text(d['document_id'])}"))
    width = max(len(label) for label, _ in lines)
    for label, value in lines:
        print(f"{label:<{width}}  {value}")


def retry_exports(args: argparse.Namespace) -> int:
    from dayclose.bootstrap import cli_units_of_work
    from dayclose.settings import KEY_ENCRYPTION_KEY
    from service import bus
    from service.commands import IntegrationNotActive, retry_now
    from storage.operations import export_detail

    loaded = settings(needs=(KEY_ENCRYPTION_KEY,))
    org, store = args.org, args.store
    if args.export:
        with connect(loaded) as conn:
            detail = export_detail(conn, args.export)
        if detail is None:
            print(f"no export with id or reference {args.export!r}", file=sys.stderr)
            return exitcodes.FAILED
        if detail["status"] != "failed":
            print(f"export {detail['reference']} is {detail['status']}, not failed: nothing to retry", file=sys.stderr)
            return exitcodes.FAILED
        org, store = detail["organization_id"], detail["store_id"]
    elif not org:
        print("name an export, or an organization with --org", file=sys.stderr)
        return exitcodes.USAGE
    with cli_units_of_work(loaded) as uow:
        try:
            queued = bus.handle_in(uow, retry_now(org, store))
        except IntegrationNotActive:
            print(f"the integration of {org!r} is not active: exports are retried only while it is", file=sys.stderr)
            return exitcodes.FAILED
    if not queued.stores:
        print(f"no failed export of {org!r}" + (f" in store {store!r}" if store else ""), file=sys.stderr)
        return exitcodes.FAILED
    print(
        f"queued {queued.jobs} retry job(s) for {org}: store(s) {', '.join(queued.stores)}; the running service "
        f"takes them now. Follow with: dayclose exports list --org {org} --status failed"
    )
    return exitcodes.OK

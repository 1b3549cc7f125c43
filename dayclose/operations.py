"""The operators' commands of ``dayclose`` (the parser is :mod:`dayclose.cli`): purge, export-sie, reexport,
audit, dead-letters. Each reads the settings once and works on the database or the dead-letter topic."""

from __future__ import annotations

import argparse
import sys


def purge_sales(_args: argparse.Namespace) -> int:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    import psycopg

    from dayclose.config import load_settings
    from dayclose.logs import configure_logging, get_logger
    from storage.retention import purge

    settings = load_settings()
    configure_logging(settings.log_level, settings.log_format)
    today = datetime.now(ZoneInfo("Europe/Stockholm")).date()
    # Autocommit: each quarter is dropped in a transaction of its own, so its locks end with it.
    with psycopg.connect(settings.database_url, autocommit=True) as conn:
        result = purge(conn, today, settings.sales_retention_days)
    log = get_logger("dayclose.purge")
    for b in result.blockers:
        log.warning(
            "purge.quarter_kept",
            organization_id=b.organization_id,
            store_id=b.store_id,
            business_date=str(b.business_date),
            reason=b.reason,
        )
        print(f"kept: {b.organization_id} {b.store_id} {b.business_date}: {b.reason}")
    for d in result.discarded:
        log.warning(
            "purge.late_sales_discarded",
            organization_id=d.organization_id,
            store_id=d.store_id,
            business_date=str(d.business_date),
        )
        print(f"discarded: {d.organization_id} {d.store_id} {d.business_date}: {d.reason}")
    if result.set_aside:
        print(f"set aside: {result.set_aside} sales sent again for store-days already purged (sales_after_purge)")
    log.info(
        "purge.done",
        retention_days=settings.sales_retention_days,
        quarters_dropped=[str(q) for q in result.quarters_dropped],
        quarters_kept=[str(q) for q in result.quarters_kept],
        audit_receipts_copied=result.audit_receipts,
        sales_set_aside_after_purge=result.set_aside,
        day_closes=result.day_closes,
        processed_commands=result.processed_commands,
        sent_outbox_rows=result.sent_outbox_rows,
        dead_letter_keys=result.dead_letter_keys,
        audit_vouchers_past_retention=result.audit_vouchers,
    )
    return 0


def export_sie(args: argparse.Namespace) -> int:
    """Write the organization's booked vouchers in a date range as an SIE 4I import file; with ``--unbooked``, the
    vouchers the integration did not book instead (the header comment and the output say which)."""
    from datetime import date, datetime
    from pathlib import Path
    from zoneinfo import ZoneInfo

    import psycopg

    from dayclose.config import load_settings
    from exporters.sie import BOOKED_PROSA, UNBOOKED_PROSA, SieNames, write_sie4i
    from storage.audit import booked_vouchers, unbooked_vouchers
    from storage.codecs import voucher_from_json

    settings = load_settings()
    since, until = date.fromisoformat(args.since), date.fromisoformat(args.until)
    posting: list[str] = []
    with psycopg.connect(settings.database_url) as conn:
        if args.unbooked:
            stored, posting = unbooked_vouchers(conn, args.org, since, until)
        else:
            stored = booked_vouchers(conn, args.org, since, until)
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
    output = Path(args.output or f"dayclose-{args.org}-{since:%Y%m%d}-{until:%Y%m%d}.si")
    if not output.suffix:
        output = output.with_suffix(".si")  # SIE 4I import files are .si by convention
    output.write_bytes(data)
    if args.unbooked:
        print(
            f"wrote {len(vouchers)} vouchers the integration did NOT book (Björn Lundén refused them) to {output}. "
            "Importing them books them; the integration then finds each by the reference in its text and does "
            "not post it again (as long as text, series and date are imported unchanged)."
        )
        if posting:
            print(f"left out {len(posting)} still being posted (they may be in BL already): {', '.join(posting)}")
    else:
        print(
            f"wrote {len(vouchers)} vouchers to {output}. They are ALREADY IN Björn Lundén, booked through the "
            "integration: importing this file into the same company books them twice. For the vouchers the "
            "integration did not book, use --unbooked."
        )
    return 0


def reexport(args: argparse.Namespace) -> int:
    """Correct a booked store-day: reverse its vouchers, then export it anew through the current plan."""
    from datetime import date

    import psycopg

    from dayclose.config import load_settings
    from mapping.periods import PeriodChoice
    from storage.corrections import NothingToCorrect, request_reexport

    settings = load_settings()
    period = PeriodChoice.ORIGINAL if args.original_period else PeriodChoice.FOUND
    if (period == PeriodChoice.ORIGINAL) != bool(args.statement):
        print("--original-period and --statement go together (why the period's work is not finished)", file=sys.stderr)
        return 2
    with psycopg.connect(settings.database_url) as conn:
        try:
            requested = request_reexport(
                conn,
                args.org,
                args.store,
                date.fromisoformat(args.date),
                reason=args.reason,
                requested_by=args.user,
                via="CLI",
                period=period,
                statement=args.statement,
            )
        except NothingToCorrect as exc:
            print(exc, file=sys.stderr)
            return 2
    reversals = requested.reversal_export_ids
    print(
        f"correction {requested.correction_id}: queued {len(reversals)} reversal(s): "
        f"{', '.join(str(r) for r in reversals)}; the running service dates them "
        + ("the original business date (while BL takes it)" if args.original_period else "the day the error is found")
        + ", books them, then exports the day anew (watch the outcomes topic or `exports` for CORRECTION)"
    )
    return 0


def audit_trail(args: argparse.Namespace) -> int:
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
            result = [
                {
                    **_audit_json(v),
                    "receipts": [
                        {"receipt_id": r, "receipt_number": n} for r, n in audit.receipts_of(conn, v.export_id)
                    ],
                }
                for v in vouchers
            ]
    if not result:
        print("nothing found in the audit record", file=sys.stderr)
        return 2
    print(json.dumps(result, indent=2, ensure_ascii=False, default=str))
    return 0


def _audit_json(v: object) -> dict[str, object]:
    data = dict(v.__dict__)
    data.pop("voucher", None)
    return data


def dead_letter_topic(args: argparse.Namespace) -> int:
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
    print(
        f"replayed {len(chosen) - len(problems)} of {len(chosen)} to their source topics "
        "(ingest is idempotent: what is already stored is ignored, what is still bad is dead-lettered again)"
    )
    return 1 if problems else 0

"""`make demo`: the service's main job end to end on embedded defaults, so a newcomer sees it work.

Starts a throw-away PostgreSQL, a Kafka-protocol mock cluster and the BL stand-in (or uses
DATABASE_URL / KAFKA_BOOTSTRAP_SERVERS when set), registers a sample merchant with an account plan,
runs ``dayclose run`` as its own process, and then:

1. publishes a realistic store day and closes it → prints the voucher as BL has it and the outcome;
2. on the next day: a manual export mid-day, then the day close, which books only the remainder;
3. for every voucher, prints where its day report (PDF) was attached in BL;
4. the VAT-period report for November: the momsdeklaration's boxes from the Z-reports against an independent
   computation from the receipts, and BL's 26xx/30xx balances against dayclose's vouchers.

Exits 0 only if every voucher balanced, matched an independent computation of the sales, every store-day
was booked exactly once, and the VAT report's boxes equal the receipts' to the öre.
"""

from __future__ import annotations

import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from dayclose.config import Settings
from devstack import sampledata
from devstack.bl_standin import BLStandIn
from devstack.harness import Harness, Topics, make_settings
from devstack.kafka import kafka_from_env
from devstack.oracle import assert_balanced, booked_totals, expected_totals, vat_per_rate
from devstack.postgres import create_database, postgres_from_env
from devstack.processes import ServiceProcess, service_env
from devstack.vat_check import vat_report_problems
from mapping.vatperiods import month
from storage.migrate import migrate

ORG = "demo-org"
STORE = "store-1"


def _say(text: str = "") -> None:
    print(text, flush=True)


def _print_voucher(voucher: dict[str, Any]) -> None:
    _say(
        f"  {voucher['journalId']}{voucher['journalEntryId']}  {voucher['journalEntryDate']}  "
        f"{voucher['journalEntryText']}"
    )
    _say(f"  {'account':<8}{'name':<58}{'debit':>12}{'credit':>12}")
    debit = credit = Decimal(0)
    for row in voucher["ledgerEntries"]:
        amount = Decimal(str(row["amount"]))
        debit += max(amount, Decimal(0))
        credit += max(-amount, Decimal(0))
        _say(
            f"  {row['accountId']:<8}{row['accountName'][:56]:<58}"
            f"{(f'{amount:.2f}' if amount > 0 else ''):>12}{(f'{-amount:.2f}' if amount < 0 else ''):>12}"
        )
    _say(f"  {'':<66}{debit:>12.2f}{credit:>12.2f}")


def _print_documents(bl: BLStandIn, user_key: str, voucher: dict[str, Any]) -> None:
    """Where the day report went: the voucher in BL → the attached document."""
    for doc in bl.attachments(user_key, voucher["journalId"], voucher["journalEntryId"]):
        if doc["id"] in voucher["documentIds"]:
            _say(
                f"  day report attached: voucher {voucher['journalId']} {voucher['journalEntryId']} → "
                f"document {doc['id']} {doc['name']} ({len(doc['content'])} bytes PDF)"
            )


def _wait_documents(bl: BLStandIn, user_key: str, count: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while len(bl.documents(user_key)) < count:
        if time.monotonic() > deadline:
            raise TimeoutError(f"{count} day reports not attached within {timeout}s")
        time.sleep(0.05)  # deadline-bounded polling interval


def _sek(amount_ore: int) -> str:
    return f"{Decimal(amount_ore) / 100:.2f}"


def _print_vat_check(books: list[dict[str, Any]], records: list[dict[str, Any]]) -> list[str]:
    """The accountant's check of both days' books: each rate's sales account net × rate = that rate's VAT,
    within the ½ öre per line each line's VAT was rounded by; and cash differences on their own accounts."""
    _say("\nper-rate VAT check (both days): net on the rate's sales accounts × rate vs output VAT")
    _say(f"  {'rate':>5}  {'sales accounts':<16}{'net':>12}{'× rate':>13}{'VAT booked':>12}{'allowed':>9}  ok")
    problems = []
    for c in vat_per_rate(books, records):
        _say(
            f"  {c.rate_bp // 100:>4}%  {', '.join(c.sales_accounts):<16}{_sek(c.net_ore):>12}"
            f"{c.rate_times_net / 100:>13.4f}{_sek(c.vat_ore):>12}{c.allowed_ore / 100:>9.2f}  "
            f"{'yes' if c.ok else 'NO'}"
        )
        if not c.ok:
            problems.append(f"VAT at {c.rate_bp // 100} % does not match its sales accounts: {c}")
    totals = booked_totals(books)
    events = sampledata.SAMPLE_PLAN["events"]
    shortage, overage = events["CASH_SHORTAGE"], events["CASH_OVERAGE"]
    _say(
        f"cash differences: shortage (kassabrist) on {shortage}: {_sek(totals.get(shortage, 0))} debit; "
        f"overage (kassaöverskott) on {overage}: {_sek(-totals.get(overage, 0))} credit"
    )
    if totals.get(shortage, 0) <= 0 or totals.get(overage, 0) >= 0:
        problems.append("the shortage and the overage are not each on their own account with their own sign")
    return problems


def _print_vat_report(settings: Settings, records: list[dict[str, Any]]) -> list[str]:
    """The VAT-period report of both days (November) against the receipts, box by box (issue #22)."""
    _say("")
    return vat_report_problems(settings, ORG, month(2026, 11), records, _say)


def _print_outcome(outcome: dict[str, Any]) -> None:
    shown = {k: v for k, v in outcome.items() if v is not None}
    _say("  outcome event: " + ", ".join(f"{k}={v}" for k, v in shown.items() if k != "voucher"))
    if outcome.get("voucher"):
        _say(f"                 voucher={outcome['voucher']}")


def _wait(
    h: Harness, service: ServiceProcess, predicate: Callable[[Harness], bool], what: str, timeout: float = 60.0
) -> float:
    started = time.monotonic()

    def done(x: Harness) -> bool:
        if not service.alive:
            raise RuntimeError(f"the service exited while waiting for {what}")
        return predicate(x)

    h.wait_for(done, timeout=timeout, what=what)
    return time.monotonic() - started


def run(quick: bool = False) -> int:  # noqa: PLR0915 - the demo is one linear story, told in order
    receipts = 60 if quick else 300
    started = time.monotonic()
    failures: list[str] = []
    with tempfile.TemporaryDirectory(prefix="dayclose-demo-") as tmp:
        pg = postgres_from_env().start()
        kafka = kafka_from_env(brokers=3)
        bl = BLStandIn().start()
        service: ServiceProcess | None = None
        h: Harness | None = None
        try:
            url = create_database(pg.url, f"dayclose_demo_{int(time.time())}")
            migrate(url)
            company = bl.seed_demo_company()
            topics = Topics.fresh(kafka.create_topic, partitions=4)
            settings = make_settings(
                url,
                kafka.bootstrap_servers,
                topics,
                bl_base_url=bl.base_url,
                bl_token_url=bl.token_url,
                bl_client_id=bl.client_id,
                bl_client_secret=bl.client_secret,
            )
            _say(
                f"local stack up in {time.monotonic() - started:.1f}s: PostgreSQL {pg.url.split('@')[-1]}, "
                f"Kafka {kafka.bootstrap_servers}, BL stand-in {bl.base_url}"
            )
            h = Harness(settings, topics)
            h.activate(ORG, company.user_key, sampledata.SAMPLE_PLAN, start_date=date(2026, 1, 1))
            _say(f"merchant {ORG!r} activated with the sample account plan (series {sampledata.SAMPLE_PLAN['series']})")
            service = ServiceProcess(
                service_env(settings, DAYCLOSE_LOG_LEVEL="warning"), Path(tmp) / "service.log"
            ).start()
            _say("service started: python -m dayclose run")

            day1 = sampledata.store_day(ORG, STORE, date(2026, 11, 24), receipts, store_name="Kafé Centrum")
            close1 = day1.day_closed(counted_cash_delta_ore=-500)
            h.publish_sales(day1.events())
            published = time.monotonic()
            h.publish_sales([close1])
            latency = _wait(h, service, lambda x: len(x.outcomes_for(ORG)) >= 1, "day 1 booked")
            _say(
                f"\nday 1: {receipts} receipts, then the day close → booked "
                f"({(time.monotonic() - published) * 1000:.0f} ms from day-close event to outcome event)"
            )
            _wait_documents(bl, company.user_key, 1)
            books = bl.vouchers(company.user_key)
            if books:
                _print_voucher(books[0])
                _print_documents(bl, company.user_key, books[0])
            _print_outcome(h.outcomes_for(ORG)[0])

            day2 = sampledata.store_day(
                ORG, STORE, date(2026, 11, 25), receipts, store_name="Kafé Centrum", seed=2, z_report_number=2
            )
            close2 = day2.day_closed(counted_cash_delta_ore=350)
            events2 = list(day2.events())
            half = len(events2) // 2
            h.publish_sales(events2[:half])
            h.wait_stored(ORG, len(list(day1.events())) + half)  # the POS sent them before the click
            h.publish_command(sampledata.manual_export(ORG))
            _wait(h, service, lambda x: len(x.outcomes_for(ORG)) >= 2, "the manual export")
            _say(f"\nday 2: manual export after {half} events → booked the sales so far:")
            _wait_documents(bl, company.user_key, 2)
            _print_voucher(bl.vouchers(company.user_key)[1])
            _print_documents(bl, company.user_key, bl.vouchers(company.user_key)[1])
            h.publish_sales([*events2[half:], close2])
            _wait(h, service, lambda x: len(x.outcomes_for(ORG)) >= 3, "the day 2 close")
            _say("day 2: day close → booked only what was new since the manual export:")
            _wait_documents(bl, company.user_key, 3)
            _print_voucher(bl.vouchers(company.user_key)[2])
            _print_documents(bl, company.user_key, bl.vouchers(company.user_key)[2])
            h.poll_outcomes(timeout=1.0)

            books = bl.vouchers(company.user_key)
            outcomes = h.outcomes_for(ORG)
            records = [*day1.events(), close1, *events2, close2]
            failures += _print_vat_check(books, records)
            failures += _print_vat_report(settings, records)
            failures += _check(books, outcomes, [*day1.events(), close1], [*events2, close2])
            documents = bl.documents(company.user_key)
            if sorted(len(d["vouchers"]) for d in documents) != [1] * len(books):
                failures.append(f"expected one day report per voucher, found {len(documents)}")
            _say(
                f"\n{len(books)} vouchers in BL, {len(outcomes)} outcome events; "
                f"day-close → outcome latency {latency * 1000:.0f} ms; demo took {time.monotonic() - started:.1f}s"
            )
        except Exception as exc:  # noqa: BLE001 - the demo reports any failure and exits non-zero
            failures.append(f"{type(exc).__name__}: {exc}")
        finally:
            if service is not None:
                code = service.stop()
                if code not in (0, None):
                    failures.append(f"service exited with {code}")
                if failures:
                    _say("\nservice log (tail):\n" + service.log_path.read_text(errors="replace")[-3000:])
            if h is not None:
                h.close()
            bl.stop()
            kafka.close()
            pg.stop()
    if failures:
        _say("\nDEMO FAILED:\n  " + "\n  ".join(failures))
        return 1
    _say(
        "\nOK: every voucher balanced, matched the sales to the öre, every store-day was booked exactly once, "
        "and the VAT report's boxes equal the receipts' to the öre."
    )
    return 0


def _check(
    books: list[dict[str, Any]], outcomes: list[dict[str, Any]], day1: list[dict[str, Any]], day2: list[dict[str, Any]]
) -> list[str]:
    problems: list[str] = []
    try:
        assert_balanced(books)
    except AssertionError as exc:
        problems.append(str(exc))
    if len(books) != 3:
        problems.append(f"expected 3 vouchers (day 1; day 2 in two parts), found {len(books)}")
    if len({v["journalEntryText"].rsplit(" ref ", 1)[-1] for v in books}) != len(books):
        problems.append("two vouchers share a reference: something was booked twice")
    by_date: dict[str, list[dict[str, Any]]] = {}
    for v in books:
        by_date.setdefault(v["journalEntryDate"], []).append(v)
    for day, records in (("2026-11-24", day1), ("2026-11-25", day2)):
        got: Counter[str] = booked_totals(by_date.get(day, []))
        if got != expected_totals(records):
            problems.append(f"{day}: booked totals differ from the sales: {got - expected_totals(records)}")
    if [o["status"] for o in outcomes] != ["SUCCEEDED"] * 3:
        problems.append(f"unexpected outcomes: {[(o['status'], o['failure']) for o in outcomes]}")
    return problems


def main(quick: bool = False) -> int:
    return run(quick=quick)


if __name__ == "__main__":
    sys.exit(main("--quick" in sys.argv))

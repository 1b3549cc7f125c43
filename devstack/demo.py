"""`make demo`: the service's main job end to end on embedded defaults, so a newcomer sees it work.

Starts a throw-away PostgreSQL, a Kafka-protocol mock cluster and the BL stand-in (or uses
DATABASE_URL / KAFKA_BOOTSTRAP_SERVERS when set), registers a sample merchant with an account plan,
runs ``dayclose run`` as its own process, and tells two days of one store with two registers
(:mod:`devstack.demo_story`): a voucher per Z-report and register with a row per account and kind of
event, a manual export, the till's cash chain holding on one register and broken (warned) on the
other, and a day reopened once whose late sales wait for its next Z-report. For every voucher it prints
where its day report (PDF) was attached in BL, then an accountant's per-rate VAT check of the books and the
VAT-period report for November: the momsdeklaration's boxes from the Z-reports against an independent computation
from the receipts, and BL's 26xx/30xx balances against dayclose's vouchers.

Exits 0 only if every voucher balanced, matched an independent computation of the sales to the öre, each
Z-report was booked exactly once in its own voucher, and the VAT report's boxes equal the receipts' to the öre.
"""

from __future__ import annotations

import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from devstack import demo_story
from devstack.bl_standin import BLStandIn
from devstack.harness import Harness, Topics, make_settings
from devstack.kafka import kafka_from_env
from devstack.oracle import booked_totals, vat_per_rate
from devstack.postgres import create_database, postgres_from_env
from devstack.processes import ServiceProcess, service_env
from devstack.vat_check import vat_report_problems
from mapping.vatperiods import month
from storage.migrate import migrate

ORG = demo_story.ORG


def _say(text: str = "") -> None:
    print(text, flush=True)


def _sek(amount_ore: int) -> str:
    return f"{Decimal(amount_ore) / 100:.2f}"


def _print_vat_check(books: list[dict[str, Any]], records: list[dict[str, Any]]) -> list[str]:
    """The accountant's check of both days' books: each rate's sales account net × rate = that rate's VAT,
    within the ½ öre per line each line's VAT was rounded by; and cash differences on their own accounts."""
    _say("\nper-rate VAT check (both days, both registers): net on the rate's sales accounts × rate vs output VAT")
    _say(f"  {'rate':>5}  {'sales accounts':<16}{'net':>12}{'× rate':>13}{'VAT booked':>12}{'allowed':>9}  ok")
    problems = []
    for c in vat_per_rate(books, records, demo_story.PLAN):
        _say(
            f"  {c.rate_bp // 100:>4}%  {', '.join(c.sales_accounts):<16}{_sek(c.net_ore):>12}"
            f"{c.rate_times_net / 100:>13.4f}{_sek(c.vat_ore):>12}{c.allowed_ore / 100:>9.2f}  "
            f"{'yes' if c.ok else 'NO'}"
        )
        if not c.ok:
            problems.append(f"VAT at {c.rate_bp // 100} % does not match its sales accounts: {c}")
    totals = booked_totals(books)
    events = demo_story.PLAN["events"]
    shortage, overage = events["CASH_SHORTAGE"], events["CASH_OVERAGE"]
    _say(
        f"cash differences: shortage (kassabrist) on {shortage}: {_sek(totals.get(shortage, 0))} debit; "
        f"overage (kassaöverskott) on {overage}: {_sek(-totals.get(overage, 0))} credit"
    )
    if totals.get(shortage, 0) <= 0 or totals.get(overage, 0) >= 0:
        problems.append("the shortage and the overage are not each on their own account with their own sign")
    return problems


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


def _story(h: Harness, service: ServiceProcess, bl: BLStandIn, user_key: str, receipts: int) -> list[str]:
    """The two days (:mod:`devstack.demo_story`), then the checks of the books; returns what failed."""
    records = demo_story.tell(h, bl, user_key, receipts, _say, lambda done, what: _wait(h, service, done, what))
    h.poll_outcomes(timeout=1.0)
    books = bl.vouchers(user_key)
    failures = _print_vat_check(books, records) + demo_story.check(h, books, records)
    _say("")
    failures += vat_report_problems(h.settings, ORG, month(2026, 11), records, _say)  # issue #22
    documents = bl.documents(user_key)
    if sorted(len(d["vouchers"]) for d in documents) != [1] * len(books):
        failures.append(f"expected one day report per voucher, found {len(documents)}")
    _say(f"\n{len(books)} vouchers in BL, {len(h.outcomes_for(ORG))} outcome events")
    return failures


def run(quick: bool = False) -> int:
    receipts = 30 if quick else 150
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
            h.activate(ORG, company.user_key, demo_story.PLAN, start_date=date(2026, 1, 1))
            _say(
                f"merchant {ORG!r} activated with the sample account plan (series {demo_story.PLAN['series']}), "
                "registers 1 and 2 on cash accounts 1911 and 1912"
            )
            grace = demo_story.late_sales_grace_s(datetime.now(UTC))
            env = service_env(settings, DAYCLOSE_LOG_LEVEL="warning", DAYCLOSE_LATE_SALES_GRACE_SECONDS=str(grace))
            service = ServiceProcess(env, Path(tmp) / "service.log").start()
            _say("service started: python -m dayclose run")
            failures += _story(h, service, bl, company.user_key, receipts)
            _say(f"demo took {time.monotonic() - started:.1f}s")
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
    return _verdict(failures)


def _verdict(failures: list[str]) -> int:
    """What the demo found, said; its exit code."""
    if failures:
        _say("\nDEMO FAILED:\n  " + "\n  ".join(failures))
        return 1
    _say(
        "\nOK: every voucher balanced and matched the sales to the öre; one voucher per Z-report and register; the "
        "cash chain held on register 1 and its break on register 2 was warned, not booked; the VAT report's boxes "
        "equal the receipts' to the öre."
    )
    return 0


def main(quick: bool = False) -> int:
    return run(quick=quick)


if __name__ == "__main__":
    sys.exit(main("--quick" in sys.argv))

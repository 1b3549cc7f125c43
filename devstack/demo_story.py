"""The demo's story (issue #21): two days of one store with two registers, a manual export and a day reopened once.

Day 1, 2026-11-24. Register 1 sells (cash, card, Swish, gift cards, tips, a return, cash in and out, tips paid out,
an expired gift card) and takes its takings to the bank before the close, so the till holds its 2 000.00 float.
Register 2 sells and closes 5.00 short, with its takings left in the till and nothing recorded leaving it.

Day 2, 2026-11-25. Register 2: a manual export mid-day books the sales so far ("Delexport"), its day close the rest
(3.50 over); it opens with the 2 000.00 float, so what its day-1 count held left the till unrecorded: a cash chain
break, warned. Register 1 opens with its float (the chain holds), closes (Z 2), is reopened: a cash sale and a card
sale wait for its next Z-report, and Z 3 books them in one voucher, with the 2.00 it is short.

Every voucher is one per Z-report (and the manual export), with one row per account and kind of event; each register's
cash is on its own account (1911, 1912). The books are checked against an independent computation of the sales
(:mod:`devstack.oracle`) to the öre.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import psycopg

from devstack import sampledata
from devstack.bl_standin import BLStandIn
from devstack.harness import Harness
from devstack.oracle import assert_balanced, booked_totals, expected_totals

ORG, STORE, NAME = "demo-org", "store-1", "Kafé Centrum"
DAY1, DAY2 = date(2026, 11, 24), date(2026, 11, 25)
#: The sample plan, each register's cash on its own sub-account of 1910 (BAS 1911 Huvudkassa, 1912 Kassa 2).
PLAN: dict[str, Any] = {**sampledata.SAMPLE_PLAN, "register_cash_accounts": {"1": "1911", "2": "1912"}}
Say = Callable[[str], None]
Wait = Callable[[Callable[[Harness], bool], str], float]


def late_sales_grace_s(now: datetime) -> int:
    """The grace period the demo's service runs with: its days are fixed in November 2026 (the same vouchers on every
    run), so late sales of day 2 must still be within their grace when the demo runs; 12 h at least, as in
    production."""
    end_of_day2 = datetime.combine(DAY2 + timedelta(days=1), clock(0), ZoneInfo("Europe/Stockholm"))
    return max(43_200, int((now - end_of_day2).total_seconds()) + 86_400)


def _day(register: str, business_date: date, receipts: int, z: int, seed: int, extras: bool) -> sampledata.StoreDay:
    return sampledata.store_day(ORG, STORE, business_date, receipts, store_name=NAME, seed=seed, z_report_number=z,
                                with_extras=extras, register_id=register)  # fmt: skip


def _bank(day: sampledata.StoreDay) -> None:
    """The day's takings taken to the bank before the close, recorded: the till keeps its float."""
    expected = day.day_closed()["payload"][1]["expected_cash_ore"]
    payload = {"movement_id": f"{STORE}-{day.register_id}-{day.business_date}-bank", "kind": "WITHDRAWAL",
               "amount_ore": expected - day.opening_float_ore, "note": "till banken"}  # fmt: skip
    day.others.append(day.envelope(sampledata.CASH_MOVEMENT, payload))


def _sale(day: sampledata.StoreDay, n: int, method: str) -> dict[str, Any]:
    rid = f"{STORE}-{day.register_id}-{day.business_date}-late-{n}"
    return day.envelope(sampledata.RECEIPT, sampledata.receipt_payload(rid, [("merch", 2500, 5000)], method))


def _sales(records: list[dict[str, Any]]) -> int:
    return sum(1 for r in records if r["payload"][0] != sampledata.DAY_CLOSED)


def _parked(h: Harness) -> list[datetime]:
    with psycopg.connect(h.settings.database_url) as conn:
        return [r[0] for r in conn.execute("SELECT not_before FROM export_jobs WHERE parked").fetchall()]


def tell(h: Harness, bl: BLStandIn, user_key: str, receipts: int, say: Say, wait: Wait) -> list[dict[str, Any]]:
    """Publish the two days, printing each voucher as BL holds it; returns every record published."""
    records: list[dict[str, Any]] = []
    r1, r2 = _day("1", DAY1, receipts, 1, 1, True), _day("2", DAY1, receipts, 1, 2, False)
    _bank(r1)
    day1 = [*r1.events(), *r2.events(), r1.day_closed(), r2.day_closed(counted_cash_delta_ore=-500)]
    records += day1
    h.publish_sales(day1)
    took = wait(lambda x: len(x.outcomes_for(ORG, "SUCCEEDED")) >= 2, "day 1 booked on both registers")
    say(f"\nday 1, {DAY1}: {receipts} receipts on each of registers 1 and 2, both closed → two vouchers, one per "
        f"Z-report ({took * 1000:.0f} ms); register 1 banked its takings, register 2 closed 5.00 short:")  # fmt: skip
    show(bl, user_key, say, 2)

    r2 = _day("2", DAY2, receipts, 2, 3, False)
    events = list(r2.events())
    half = len(events) // 2
    h.publish_sales(events[:half])
    h.wait_stored(ORG, _sales(records) + half)  # the POS sent them before the click
    h.publish_command(sampledata.manual_export(ORG))
    wait(lambda x: len(x.outcomes_for(ORG, "SUCCEEDED")) >= 3, "register 2's manual export")
    close = r2.day_closed(counted_cash_delta_ore=350)
    h.publish_sales([*events[half:], close])
    records += [*events, close]
    wait(lambda x: len(x.outcomes_for(ORG, "SUCCEEDED")) >= 4, "register 2's day close")
    say(f"\nday 2, {DAY2}, register 2: a manual export after {half} events, then the day close (3.50 over) books "
        "the rest; it opened with its 2 000.00 float although day 1 counted its takings in the till:")  # fmt: skip
    show(bl, user_key, say, 2)
    wait(lambda x: bool(x.outcomes_for(ORG, "WARNING")), "the cash chain warning")
    for warning in h.outcomes_for(ORG, "WARNING"):
        say(f"  WARNING {warning['failure']['reason_code']}: {warning['failure']['details'][0]['message']}")

    r1 = _day("1", DAY2, receipts, 2, 4, True)
    _bank(r1)
    first = [*r1.events(), r1.day_closed()]
    h.publish_sales(first)
    wait(lambda x: len(x.outcomes_for(ORG, "SUCCEEDED")) >= 5, "register 1's day close")
    say("\nday 2, register 1: opened with its float (its cash chain holds), closed (Z 2):")
    show(bl, user_key, say, 1)
    late = [_sale(r1, 1, "cash"), _sale(r1, 2, "card")]
    h.publish_sales(late)
    h.wait_for(lambda x: len(_parked(x)) == 1, what="the late sales' check parked")
    say(f"register 1 reopened: a cash sale and a card sale of 50.00 wait for its next Z-report (their check "
        f"parked until {_parked(h)[0].astimezone(UTC):%Y-%m-%d %H:%M} UTC, the end of the grace period)")  # fmt: skip
    r1.receipts += late
    r1.z_report_number = 3
    z3 = {**r1.day_closed(counted_cash_delta_ore=-200), "event_id": f"dayclose-{STORE}-1-{DAY2}-z3"}
    h.publish_sales([z3])
    records += [*first, *late, z3]
    wait(lambda x: len(x.outcomes_for(ORG, "SUCCEEDED")) >= 6, "register 1's Z 3")
    say("Z 3 (cumulative for the day, 2.00 short) books them, reconciled against it, in one voucher:")
    show(bl, user_key, say, 1)
    return records


def show(bl: BLStandIn, user_key: str, say: Say, last: int) -> None:
    """The last ``last`` vouchers as BL holds them, each with its day report."""
    books = bl.vouchers(user_key)
    wait_documents(bl, user_key, len(books))
    for voucher in books[-last:]:
        say(f"  {voucher['journalId']}{voucher['journalEntryId']}  {voucher['journalEntryDate']}  "
            f"{voucher['journalEntryText']}")  # fmt: skip
        say(f"  {'account':<8}{'what':<40}{'debit':>12}{'credit':>12}")
        for row in voucher["ledgerEntries"]:
            amount = Decimal(str(row["amount"]))
            debit, credit = (f"{amount:.2f}", "") if amount > 0 else ("", f"{-amount:.2f}")
            say(f"  {row['accountId']:<8}{(row.get('text') or row['accountName'])[:38]:<40}{debit:>12}{credit:>12}")
        for doc in bl.attachments(user_key, voucher["journalId"], voucher["journalEntryId"]):
            say(f"  day report attached: document {doc['id']} {doc['name']} ({len(doc['content'])} bytes PDF)")


def wait_documents(bl: BLStandIn, user_key: str, count: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while len(bl.documents(user_key)) < count:
        if time.monotonic() > deadline:
            raise TimeoutError(f"{count} day reports not attached within {timeout}s")
        time.sleep(0.05)  # deadline-bounded polling interval


def check(h: Harness, books: list[dict[str, Any]], records: list[dict[str, Any]]) -> list[str]:
    """Every voucher balanced and matched the independent computation to the öre, one per Z-report (and the manual
    export), rows per kind of event, each register's cash on its own account, the cash chain held on register 1 and
    was warned about on register 2, and nothing failed."""
    problems: list[str] = []
    try:
        assert_balanced(books)
    except AssertionError as exc:
        problems.append(str(exc))
    texts = sorted(v["journalEntryText"].split(" ref ")[0] for v in books)
    expected = sorted([f"Dagsavslut {NAME} kassa 1 {DAY1} Z 1", f"Dagsavslut {NAME} kassa 2 {DAY1} Z 1",
                       f"Delexport {NAME} kassa 2 {DAY2}", f"Dagsavslut {NAME} kassa 2 {DAY2} Z 2",
                       f"Dagsavslut {NAME} kassa 1 {DAY2} Z 2", f"Dagsavslut {NAME} kassa 1 {DAY2} Z 3"])  # fmt: skip
    if texts != expected:
        problems.append(f"expected one voucher per Z-report and the manual export, found {texts}")
    for day in (DAY1, DAY2):
        got = booked_totals([v for v in books if v["journalEntryDate"] == day.isoformat()])
        want = expected_totals([r for r in records if r["business_date"] == day], PLAN)
        if got != want:
            problems.append(f"{day}: booked totals differ from the sales: {got - want} / {want - got}")
    for voucher in books:
        till = {"1": "1911", "2": "1912"}[voucher["journalEntryText"].split(" kassa ")[1][0]]
        cash = {r["accountId"] for r in voucher["ledgerEntries"] if r["accountId"][:3] == "191"}
        if not cash <= {till}:
            problems.append(f"{voucher['journalEntryText']}: cash on {cash}, not only on {till}")
    first = next((v for v in books if v["journalEntryText"].startswith(f"Dagsavslut {NAME} kassa 1 {DAY1}")), None)
    if first is not None and len({r["text"] for r in first["ledgerEntries"] if r["accountId"] == "1911"}) < 4:
        problems.append("register 1's takings, cash in, cash out and tips paid out are not rows of their own on 1911")
    outcomes = [(o["status"], o["trigger"], (o.get("failure") or {}).get("reason_code")) for o in h.outcomes_for(ORG)]
    want_outcomes: list[tuple[str, str, str | None]] = [("SUCCEEDED", "DAY_CLOSE", None)] * 5
    want_outcomes.append(("SUCCEEDED", "MANUAL", None))
    want_outcomes.append(("WARNING", "DAY_CLOSE", "CASH_CHAIN_BREAK"))
    if sorted(outcomes, key=str) != sorted(want_outcomes, key=str):
        problems.append(f"unexpected outcomes: {outcomes}")
    with psycopg.connect(h.settings.database_url) as conn:
        chain = conn.execute("SELECT register_id, z_report_number, cash_chain->>'holds' FROM day_closes "
                             "WHERE cash_chain IS NOT NULL ORDER BY 1, 2").fetchall()  # fmt: skip
    if chain != [("1", 2, "true"), ("1", 3, "true"), ("2", 2, "false")]:
        problems.append(f"the cash chain is not what the days did: {chain}")
    return problems

"""Correcting a booked day: reversal first, then the day anew through the corrected plan; never an edit. Dated
where the error is found (the day the correction is made), or the original period when the accountant says its
work is not finished and BL still takes it."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from collections.abc import Callable
from datetime import date
from typing import Any

import psycopg
import pytest
from pypdf import PdfReader

from devstack import sampledata
from devstack.bl_standin import BLStandIn, Company
from devstack.harness import Harness
from devstack.oracle import assert_balanced, booked_totals, expected_totals
from service.deps import stockholm_today
from tests.integration.pipeline.conftest import ORG

pytestmark = pytest.mark.integration
DAY = date(2026, 11, 25)
WRONG = {**sampledata.SAMPLE_PLAN, "product_groups": {**sampledata.SAMPLE_PLAN["product_groups"], "merch": "3004"}}


def reexport(
    h: Harness,
    store: str,
    day: date,
    reason: str = "fel konto för merch",
    user: str = "anna@cafe",
    *,
    statement: str | None = None,
) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "DATABASE_URL": h.settings.database_url,
        "KAFKA_BOOTSTRAP_SERVERS": "unused:9092",
        "BL_CLIENT_ID": "x",
        "BL_CLIENT_SECRET": "x",
    }
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "dayclose",
            "reexport",
            "--org",
            ORG,
            "--store",
            store,
            "--date",
            day.isoformat(),
            "--reason",
            reason,
            "--user",
            user,
            *(["--original-period", "--statement", statement] if statement else []),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def found_days(run: Callable[[], None]) -> set[date]:
    """The day a correction made while ``run`` runs is found on (Stockholm): one day, or two across midnight."""
    before = stockholm_today()
    run()
    return {before, stockholm_today()}


def corrections(h: Harness) -> list[tuple[Any, ...]]:
    with psycopg.connect(h.settings.database_url) as conn:
        return conn.execute(
            "SELECT reason, requested_by, requested_via, entry_date, in_original_period, "
            "completed_at IS NOT NULL FROM corrections ORDER BY requested_at"
        ).fetchall()


def reference(voucher: dict[str, Any]) -> str:
    return str(voucher["journalEntryText"]).rsplit("ref ", 1)[-1].split(":")[0]


@pytest.mark.parametrize("with_manual_export_first", [False, True])
def test_a_wrongly_mapped_day_is_reversed_then_booked_anew(
    make_pipeline, bl_standin: BLStandIn, bl_company: Company, with_manual_export_first: bool
) -> None:
    h = make_pipeline(plan=WRONG)
    day = sampledata.store_day(ORG, "s1", DAY, 30)
    events = list(day.events())
    if with_manual_export_first:
        h.publish_sales(events[:10])
        h.wait_stored(ORG, 10)
        h.publish_command(sampledata.manual_export(ORG))
        h.wait_for(lambda x: len(x.outcomes_for(ORG, "SUCCEEDED")) == 1, what="the manual export")
    h.publish_sales([*(events[10:] if with_manual_export_first else events), day.day_closed()])
    originals = 2 if with_manual_export_first else 1
    h.wait_for(lambda x: len(x.outcomes_for(ORG, "SUCCEEDED")) == originals, what="the day booked (wrongly)")

    h.save_plan(ORG, sampledata.SAMPLE_PLAN)

    def correct() -> None:
        result = reexport(h, "s1", DAY)
        assert result.returncode == 0, result.stderr
        h.wait_for(lambda x: len(x.outcomes_for(ORG, "SUCCEEDED")) == 2 * originals + 1, what="reversal(s) + new")

    found = found_days(correct)

    books = bl_standin.vouchers(bl_company.user_key)
    assert len(books) == 2 * originals + 1
    assert_balanced(books)
    reversals = [v for v in books if v["journalEntryText"].startswith("Återföring av DC-")]
    assert len(reversals) == originals
    for original, reversal in zip(books[:originals], reversals, strict=True):
        assert booked_totals([original, reversal]) == {}  # exact mirror, nothing edited
        assert original["journalEntryText"].rsplit("ref ", 1)[-1] in reversal["journalEntryText"]
    assert booked_totals(books) == expected_totals([*events, day.day_closed()])  # the books are now right
    triggers = [o["trigger"] for o in h.outcomes_for(ORG, "SUCCEEDED")][originals:]
    assert triggers == ["CORRECTION"] * originals + ["DAY_CLOSE"]
    # November is open in BL, yet the correction is dated the day it is made, where the error is found (BFN's
    # comment to BFNAR 2013:2 p. 2.17–2.18); the originals keep their date and the texts name them.
    assert {v["journalEntryDate"] for v in books[:originals]} == {DAY.isoformat()}
    (entry,) = {date.fromisoformat(v["journalEntryDate"]) for v in books[originals:]}
    assert entry in found
    for original, reversal in zip(books[:originals], reversals, strict=True):
        assert f"(D {original['journalEntryId']}, {DAY.isoformat()})" in reversal["journalEntryText"]
    new = books[-1]
    assert new["journalEntryText"].startswith("Rättelse av ")
    for original in books[:originals]:
        assert f"D {original['journalEntryId']}" in new["journalEntryText"]
    assert corrections(h) == [("fel konto för merch", "anna@cafe", "CLI", entry, False, True)]

    again = reexport(h, "s1", date(2026, 11, 20))
    assert again.returncode == 1 and "no booked voucher" in again.stderr


def test_a_reversal_bl_refuses_blocks_the_new_voucher_until_it_is_booked(
    make_pipeline, bl_standin: BLStandIn, bl_company: Company
) -> None:
    h = make_pipeline(plan=WRONG)
    day = sampledata.store_day(ORG, "s1", DAY, 10)
    h.publish_sales([*day.events(), day.day_closed()])
    h.wait_for(lambda x: len(x.outcomes_for(ORG, "SUCCEEDED")) == 1, what="the day booked")
    h.save_plan(ORG, sampledata.SAMPLE_PLAN)
    with bl_company.lock:  # no open fiscal year on or after the day: nowhere to date the correction
        bl_company.close_financial_year(DAY)
        bl_company.close_financial_year(date(2027, 1, 1))
    assert reexport(h, "s1", DAY).returncode == 0
    h.wait_for(lambda x: len(x.outcomes_for(ORG, "FAILED")) == 1, what="the reversal refused")
    assert h.outcomes_for(ORG, "FAILED")[0]["trigger"] == "CORRECTION"
    assert h.outcomes_for(ORG, "FAILED")[0]["failure"]["reason_code"] == "FISCAL_YEAR_CLOSED"
    assert len(bl_standin.vouchers(bl_company.user_key)) == 1  # no new voucher on top of an unreversed one

    with bl_company.lock:
        bl_company.open_financial_year(DAY)
    h.publish_command(sampledata.manual_export(ORG, retry=True))
    h.wait_for(lambda x: len(x.outcomes_for(ORG, "SUCCEEDED")) == 3, what="reversal and new voucher")
    books = bl_standin.vouchers(bl_company.user_key)
    assert len(books) == 3
    assert booked_totals(books) == expected_totals([*day.events(), day.day_closed()])


def next_month(day: date) -> date:
    return date(day.year + (day.month == 12), day.month % 12 + 1, 1)


@pytest.mark.parametrize("locked", ["original month", "found month", "found year closed"])
def test_a_correction_is_dated_where_found_or_the_first_day_after_that_bl_takes(
    make_pipeline, bl_standin: BLStandIn, bl_company: Company, locked: str
) -> None:
    h = make_pipeline(plan=WRONG)
    day = sampledata.store_day(ORG, "s1", DAY, 20)
    h.publish_sales([*day.events(), day.day_closed()])
    h.wait_for(lambda x: len(x.outcomes_for(ORG, "SUCCEEDED")) == 1, what="the day booked")
    h.wait_for(lambda x: len(bl_standin.documents(bl_company.user_key)) == 1, what="its day report")
    today = stockholm_today()
    with bl_company.lock:
        if locked == "original month":
            bl_company.lock_through(DAY)  # November locked: today is open, so today it is
        elif locked == "found month":
            bl_company.lock_through(today)  # this month locked too: the first day of the next
        else:
            bl_company.close_financial_year(today)  # this fiscal year closed: the first open day of the next
    expected = {
        "original month": today,
        "found month": next_month(today),
        "found year closed": date(today.year + 1, 1, 1),
    }[locked]
    h.save_plan(ORG, sampledata.SAMPLE_PLAN)

    assert reexport(h, "s1", DAY, reason="moms fel på merch", user="revisor@byra").returncode == 0
    h.wait_for(lambda x: len(x.outcomes_for(ORG, "SUCCEEDED")) == 3, what="reversal + new voucher")
    h.wait_for(lambda x: len(bl_standin.documents(bl_company.user_key)) == 3, what="their day reports")

    original, reversal, new = bl_standin.vouchers(bl_company.user_key)
    assert_balanced([original, reversal, new])
    if stockholm_today() != today:  # midnight passed during the test: the found day moved with it
        return
    assert (reversal["journalEntryDate"], new["journalEntryDate"]) == (expected.isoformat(),) * 2
    assert original["journalEntryDate"] == DAY.isoformat()  # never edited
    named = f"{reference(original)} (D {original['journalEntryId']}, {DAY.isoformat()})"
    assert named in reversal["journalEntryText"]
    assert (
        f"Rättelse av D {original['journalEntryId']} {reference(original)} {DAY.isoformat()} ref "
        in new["journalEntryText"]
    )
    assert booked_totals([original, reversal]) == {}
    assert booked_totals(bl_standin.vouchers(bl_company.user_key)) == expected_totals([*day.events(), day.day_closed()])
    assert corrections(h) == [("moms fel på merch", "revisor@byra", "CLI", expected, False, True)]
    assert [o["trigger"] for o in h.outcomes_for(ORG, "SUCCEEDED")] == ["DAY_CLOSE", "CORRECTION", "DAY_CLOSE"]

    (doc,) = [
        d
        for d in bl_standin.attachments(bl_company.user_key, "D", reversal["journalEntryId"])
        if reference(reversal) in d["name"]
    ]
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(doc["content"])).pages).replace("\n", " ")
    assert "Orsak: moms fel på merch. Begärd av revisor@byra" in text
    if locked == "original month":
        assert f"Daterad {today.isoformat()}, den dag rättelsen gjordes" in text
    else:
        assert f"Felet upptäcktes {today.isoformat()}; den perioden är låst" in text


def test_issue_22_an_error_of_march_found_now_with_january_to_april_locked_is_dated_now_not_in_may(
    make_pipeline, bl_standin: BLStandIn, bl_company: Company
) -> None:
    """Finding 1 of issue #22: the old rule dated this correction 2026-05-01, in a month long closed (and VAT
    reported) because it was the first one BL had not locked. It belongs to the period where it is found."""
    march = date(2026, 3, 10)
    h = make_pipeline(plan=WRONG)
    day = sampledata.store_day(ORG, "s1", march, 10)
    h.publish_sales([*day.events(), day.day_closed()])
    h.wait_for(lambda x: len(x.outcomes_for(ORG, "SUCCEEDED")) == 1, what="the March day booked")
    with bl_company.lock:
        bl_company.lock_through(date(2026, 4, 30))  # January–April locked, May onwards open
    h.save_plan(ORG, sampledata.SAMPLE_PLAN)

    def correct() -> None:
        assert reexport(h, "s1", march, reason="merch på fel konto", user="revisor@byra").returncode == 0
        h.wait_for(lambda x: len(x.outcomes_for(ORG, "SUCCEEDED")) == 3, what="reversal + new voucher")

    found = found_days(correct)
    _, reversal, new = bl_standin.vouchers(bl_company.user_key)
    assert reversal["journalEntryDate"] == new["journalEntryDate"] != "2026-05-01"
    assert date.fromisoformat(new["journalEntryDate"]) in found


def test_the_original_period_when_the_accountant_says_its_work_is_not_finished(
    make_pipeline, bl_standin: BLStandIn, bl_company: Company
) -> None:
    h = make_pipeline(plan=WRONG)
    day = sampledata.store_day(ORG, "s1", DAY, 10)
    h.publish_sales([*day.events(), day.day_closed()])
    h.wait_for(lambda x: len(x.outcomes_for(ORG, "SUCCEEDED")) == 1, what="the day booked")
    h.save_plan(ORG, sampledata.SAMPLE_PLAN)
    statement = "november stäms av först i december"
    assert reexport(h, "s1", DAY, user="revisor@byra", statement=statement).returncode == 0
    h.wait_for(lambda x: len(x.outcomes_for(ORG, "SUCCEEDED")) == 3, what="reversal + new voucher")
    assert {v["journalEntryDate"] for v in bl_standin.vouchers(bl_company.user_key)} == {DAY.isoformat()}
    with psycopg.connect(h.settings.database_url) as conn:
        row = conn.execute(
            "SELECT requested_by, requested_period, period_statement, dating, in_original_period FROM corrections"
        ).fetchone()
    assert row == ("revisor@byra", "ORIGINAL", statement, "ORIGINAL_DATE", True)


def test_the_original_period_is_never_asked_for_without_the_statement(pipeline: Harness) -> None:
    env = {**os.environ, "DATABASE_URL": pipeline.settings.database_url, "KAFKA_BOOTSTRAP_SERVERS": "unused:9092"}
    env |= {"BL_CLIENT_ID": "x", "BL_CLIENT_SECRET": "x"}
    args = ["--org", ORG, "--store", "s1", "--date", DAY.isoformat(), "--reason", "r", "--user", "u"]
    refused = subprocess.run(
        [sys.executable, "-m", "dayclose", "reexport", *args, "--original-period"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert refused.returncode == 2 and "--statement" in refused.stderr


def test_the_original_period_asked_for_but_locked_by_then_is_dated_where_found_and_says_so(
    make_pipeline, bl_standin: BLStandIn, bl_company: Company
) -> None:
    h = make_pipeline(plan=WRONG)
    day = sampledata.store_day(ORG, "s1", DAY, 10)
    h.publish_sales([*day.events(), day.day_closed()])
    h.wait_for(lambda x: len(x.outcomes_for(ORG, "SUCCEEDED")) == 1, what="the day booked")
    with bl_company.lock:
        bl_company.lock_through(DAY)  # locked after the accountant asked, before the worker dated it
    h.save_plan(ORG, sampledata.SAMPLE_PLAN)

    def correct() -> None:
        assert reexport(h, "s1", DAY, user="revisor@byra", statement="inte avstämd").returncode == 0
        h.wait_for(lambda x: len(x.outcomes_for(ORG, "SUCCEEDED")) == 3, what="reversal + new voucher")

    found = found_days(correct)
    _, reversal, new = bl_standin.vouchers(bl_company.user_key)
    assert date.fromisoformat(new["journalEntryDate"]) in found
    with psycopg.connect(h.settings.database_url) as conn:
        row = conn.execute("SELECT requested_period, dating FROM corrections").fetchone()
    assert row == ("ORIGINAL", "FOUND_DATE")


def test_a_correction_of_a_correction_reverses_the_new_voucher(
    make_pipeline, bl_standin: BLStandIn, bl_company: Company
) -> None:
    h = make_pipeline(plan=WRONG)
    day = sampledata.store_day(ORG, "s1", DAY, 15)
    h.publish_sales([*day.events(), day.day_closed()])
    h.wait_for(lambda x: len(x.outcomes_for(ORG, "SUCCEEDED")) == 1, what="the day booked")
    with bl_company.lock:
        bl_company.lock_through(DAY)

    def correct_twice() -> None:
        assert reexport(h, "s1", DAY, reason="first try", user="a").returncode == 0
        h.wait_for(lambda x: len(x.outcomes_for(ORG, "SUCCEEDED")) == 3, what="the first correction")
        h.save_plan(ORG, sampledata.SAMPLE_PLAN)
        assert reexport(h, "s1", DAY, reason="second try", user="b").returncode == 0
        h.wait_for(lambda x: len(x.outcomes_for(ORG, "SUCCEEDED")) == 5, what="the correction of the correction")

    found = found_days(correct_twice)

    books = bl_standin.vouchers(bl_company.user_key)
    assert len(books) == 5
    assert_balanced(books)
    first_new, second_reversal = books[2], books[3]
    assert f"(D {first_new['journalEntryId']}, {DAY.isoformat()})" in second_reversal["journalEntryText"]
    assert booked_totals([first_new, second_reversal]) == {}
    dates = [date.fromisoformat(v["journalEntryDate"]) for v in books[1:]]
    assert set(dates) <= found and dates == sorted(dates)  # never a reversal before what it reverses
    assert booked_totals(books) == expected_totals([*day.events(), day.day_closed()])
    assert [(c[0], c[1], c[3], c[4], c[5]) for c in corrections(h)] == [
        ("first try", "a", dates[0], False, True),
        ("second try", "b", dates[-1], False, True),
    ]


def test_purge_keeps_the_audit_record_and_the_receipt_still_leads_to_its_vouchers(
    pipeline: Harness, bl_standin: BLStandIn, bl_company: Company
) -> None:
    """A day booked, corrected (reversal + new voucher), then its quarter purged: the receipt leads to the three
    vouchers and each voucher to its ten receipts, before the purge from the sales rows, after it from
    audit_receipts (which booking no longer writes)."""
    old = date(2026, 5, 25)  # its quarter ended more than a day ago: past a one-day retention
    day = sampledata.store_day(ORG, "s1", old, 10)
    pipeline.publish_sales([*day.events(), day.day_closed()])
    pipeline.wait_for(lambda x: len(x.outcomes_for(ORG, "SUCCEEDED")) == 1, what="the day booked")
    assert reexport(pipeline, "s1", old).returncode == 0
    pipeline.wait_for(lambda x: len(x.outcomes_for(ORG, "SUCCEEDED")) == 3, what="reversal + new voucher")
    env = {
        **os.environ,
        "DATABASE_URL": pipeline.settings.database_url,
        "KAFKA_BOOTSTRAP_SERVERS": "unused:9092",
        "BL_CLIENT_ID": "x",
        "BL_CLIENT_SECRET": "x",
        "DAYCLOSE_SALES_RETENTION_DAYS": "1",
    }
    receipt_id = day.receipts[4]["payload"][1]["receipt_id"]

    def audit(*args: str) -> list[dict[str, Any]]:
        found = subprocess.run(
            [sys.executable, "-m", "dayclose", "audit", *args, "--org", ORG, "--json"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert found.returncode == 0, found.stderr
        return list(json.loads(found.stdout))

    def answers() -> tuple[list[Any], list[Any]]:
        held = [(v["series"], v["number"], v["trigger"], v["receipt_number"]) for v in audit("receipt", receipt_id)]
        receipts = [
            sorted(r["receipt_number"] for r in v["receipts"]) for n in held for v in audit("voucher", "D", str(n[1]))
        ]
        return held, receipts

    with psycopg.connect(pipeline.settings.database_url) as conn:
        assert conn.execute("SELECT count(*) FROM audit_receipts").fetchone() == (0,)  # not written at booking
    books = bl_standin.vouchers(bl_company.user_key)
    before = answers()
    assert before[0] == [
        ("D", v["journalEntryId"], t, "000004")
        for v, t in zip(books, ["DAY_CLOSE", "CORRECTION", "DAY_CLOSE"], strict=True)
    ]
    assert before[1] == [[f"{i:06d}" for i in range(10)]] * 3

    purged = subprocess.run(
        [sys.executable, "-m", "dayclose", "purge", "--yes"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert purged.returncode == 0, purged.stderr
    with psycopg.connect(pipeline.settings.database_url) as conn:
        left = conn.execute("SELECT business_date, count(*) FROM sales GROUP BY 1").fetchall()
        audit_receipts = conn.execute("SELECT count(*) FROM audit_receipts").fetchone()
    assert left == []  # the booked day's raw sales are gone (unbooked days' are kept: tests/integration/db)
    assert audit_receipts == (30,)  # ten receipts of each of the three vouchers
    assert answers() == before
    assert reexport(pipeline, "s1", old).returncode == 1  # its sales are gone: it cannot be booked anew

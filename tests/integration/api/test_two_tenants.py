"""Issue #20 finding 1: two merchants whose POS numbers everything the same way.

org-a and org-b both have a store "s1"; their receipts, cash movements, gift cards, Z numbers, event ids and
command ids are identical, their amounts are not. Through every path (ingest, manual export, day close, a
receipt replayed from the dead-letter topic, a refused export retried by command, a correction from BackOffice, the
audit queries, the purge) each merchant's days are booked in its own BL company exactly once, reported to it and
listed to it, and nothing of one reaches the other. On main, org-b's manual export (same command id) and day close
(same store, date and Z) were dropped by global keys, and its day stayed PENDING."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pytest

import schemas
from consumer.codec import AvroCodec
from consumer.events import dead_letter_record
from dayclose import cli
from devstack import sampledata
from devstack.bl_standin import BLStandIn, Company
from devstack.harness import Harness, settings_env
from devstack.oracle import assert_balanced, booked_totals, expected_totals
from tests.integration.api.conftest import Api

pytestmark = pytest.mark.integration
ORGS = ("org-a", "org-b")
START = date(2026, 1, 1)
OLD = date(2026, 5, 25)  # a quarter past a one-day retention: the purge drops it
NEW = date(2026, 11, 25)
SEEDS = {"org-a": 11, "org-b": 22}


def same_ids(day: sampledata.StoreDay) -> sampledata.StoreDay:
    """Every event id deterministic (receipts' and the day close's already are): the same in both organizations."""
    for n, event in enumerate(day.others):
        event["event_id"] = f"evt-{day.store_id}-{day.business_date}-other-{n}"
    return day


def succeeded(h: Harness, org: str, trigger: str | None = None) -> list[dict[str, Any]]:
    return [o for o in h.outcomes_for(org, "SUCCEEDED") if trigger is None or o["trigger"] == trigger]


def wait_each(h: Harness, what: str, predicate: Callable[[str], bool], timeout: float = 40.0) -> None:
    h.wait_for(lambda _h: all(predicate(org) for org in ORGS), timeout=timeout, what=what)


@dataclass
class TwoMerchants:
    api: Api
    h: Harness
    bl: BLStandIn
    cli: Callable[..., str]
    companies: dict[str, Company] = field(default_factory=dict)
    #: What each merchant's books must hold.
    records: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: {org: [] for org in ORGS})

    def set_up(self) -> None:
        for org, number in zip(ORGS, ("5560000001", "5560000019"), strict=True):
            self.companies[org] = self.bl.register_company(name=f"{org} AB", org_number=number)
            self.h.activate(org, self.companies[org].user_key, sampledata.SAMPLE_PLAN, START)

    def book_old_day(self) -> None:
        """Ingest, a manual export with the same command id in both, then the rest of the day and its day close
        (same store, date, Z number and event id)."""
        h = self.h
        old = {org: list(same_ids(sampledata.store_day(org, "s1", OLD, 8, seed=SEEDS[org])).events()) for org in ORGS}
        for org in ORGS:
            h.publish_sales(old[org][:4])
            self.records[org] += old[org][:4]
        for org in ORGS:
            h.wait_stored(org, 4)
            h.publish_command(sampledata.manual_export(org, command_id="cmd-1"))
        wait_each(h, "both manual exports", lambda org: len(succeeded(h, org, "MANUAL")) == 1)
        for org in ORGS:
            close = sampledata.store_day(org, "s1", OLD, 8, seed=SEEDS[org]).day_closed()
            h.publish_sales([*old[org][4:], close])
            self.records[org] += [*old[org][4:], close]
        wait_each(h, "both day closes", lambda org: len(succeeded(h, org, "DAY_CLOSE")) == 1)

    def refuse_replay_retry(self) -> None:
        """A day BL refuses in both (fiscal year closed). One receipt of each comes through the dead-letter topic (as
        if an older version had set it aside), replayed one organization at a time; the refused day is retried by a
        command with the same id in both once the year is reopened."""
        h = self.h
        new = {
            org: same_ids(sampledata.store_day(org, "s1", NEW, 5, seed=SEEDS[org], z_report_number=2)) for org in ORGS
        }
        for n, org in enumerate(ORGS):
            with self.companies[org].lock:
                self.companies[org].close_financial_year(NEW)
            first, *rest = new[org].events()
            h.publish_sales(rest)
            self._dead_letter(org, first, offset=900 + n)
            self.records[org] += [*new[org].events(), new[org].day_closed()]
        out = self.cli("dead-letters", "show", "--org", "org-b", "--json")
        (shown,) = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
        assert shown["original"]["organization_id"] == "org-b" and shown["key"] == "org-b/s1"
        for org in ORGS:
            assert "replayed 1 of 1" in self.cli("dead-letters", "replay", "--all", "--org", org)
        for org in ORGS:
            h.wait_stored(org, 12 + 5)
            h.publish_sales([new[org].day_closed()])
        wait_each(h, "both refusals", lambda org: len(h.outcomes_for(org, "FAILED")) == 1)
        for org in ORGS:
            with self.companies[org].lock:
                self.companies[org].open_financial_year(NEW)
            h.publish_command(sampledata.manual_export(org, command_id="cmd-2", retry=True))
        wait_each(h, "both retries", lambda org: len(succeeded(h, org, "RETRY")) == 1)

    def _dead_letter(self, org: str, event: dict[str, Any], offset: int) -> None:
        h = self.h
        letter = dead_letter_record(
            topic=h.topics.sales, partition=0, offset=offset, key=f"{org}/s1".encode(),
            value=AvroCodec(schemas.SALES_EVENT, h.topics.sales).encode(event),
            error_code="SCHEMA_MISMATCH", error_message="set aside by an older version",
        )  # fmt: skip
        codec = AvroCodec(schemas.DEAD_LETTER, h.topics.dead_letters)
        h.producer.produce(h.topics.dead_letters, key=letter["original_key"], value=codec.encode(letter))
        assert h.producer.flush(10) == 0

    def correct_old_day(self) -> None:
        for org in ORGS:
            merchant = self.api.merchant(org)
            (closing,) = merchant.get(f"/exports?from={OLD}&to={OLD}&store_id=s1").json()["items"][:1]
            r = merchant.post(f"/exports/{closing['export_id']}/corrections", {"reason": "fel", "acting_user": "u"})
            assert r.status_code == 202, r.text
            assert len(r.json()["reversal_export_ids"]) == 2  # the manual export's voucher and the day close's
        wait_each(self.h, "both corrections", lambda org: len(succeeded(self.h, org)) == 6, timeout=60)

    def check_booked_and_reported(self) -> None:
        """Each company holds its own merchant's sales, exactly once; each outcome names its own organization and a
        voucher of its own company."""
        for org in ORGS:
            books = self.bl.vouchers(self.companies[org].user_key)
            assert len(books) == 6  # manual, day close, the retried day, 2 reversals, the day anew
            assert_balanced(books)
            assert booked_totals(books) == expected_totals(self.records[org])
            assert {o["voucher"]["number"] for o in succeeded(self.h, org)} == {v["journalEntryId"] for v in books}
            assert [o["trigger"] for o in succeeded(self.h, org)] == [
                "MANUAL", "DAY_CLOSE", "RETRY", "CORRECTION", "CORRECTION", "DAY_CLOSE"
            ]  # fmt: skip
            (refusal,) = self.h.outcomes_for(org, "FAILED")
            assert (refusal["failure"]["reason_code"], refusal["business_date"]) == ("FISCAL_YEAR_CLOSED", NEW)
        assert expected_totals(self.records["org-a"]) != expected_totals(self.records["org-b"])  # data differs, ids not

    def audit(self, org: str) -> list[tuple[Any, ...]]:
        """Which vouchers hold receipt s1-20260525-000003, and how many receipts each of those holds."""
        merchant = self.api.merchant(org)
        out = []
        for v in merchant.get("/audit/receipts/s1-20260525-000003").json()["vouchers"]:
            (found,) = merchant.get(f"/audit/vouchers/{v['series']}/{v['number']}").json()
            out.append((v["export_id"], v["number"], v["trigger"], len(found["receipts"])))
        return out

    def audit_then_purge(self) -> None:
        before = {org: self.audit(org) for org in ORGS}
        for org in ORGS:
            exports = {e["export_id"] for e in self.api.merchant(org).get("/exports?limit=500").json()["items"]}
            assert len(before[org]) == 3 and {a[0] for a in before[org]} <= exports  # original, reversal, new
        out = self.cli("purge", "--yes")
        assert not [line for line in out.splitlines() if line.startswith("kept")], out
        assert self.api.sql("SELECT count(*) FROM sales WHERE business_date = %s", OLD) == [(0,)]
        assert {org: self.audit(org) for org in ORGS} == before  # now from audit_receipts
        assert self.api.sql(
            "SELECT organization_id, count(*) FROM audit_receipts GROUP BY 1 ORDER BY 1"
        ) == [("org-a", 3 * 8), ("org-b", 3 * 8)]  # fmt: skip

    def check_listed(self) -> None:
        listed = {org: self.api.merchant(org).get("/exports?limit=500").json() for org in ORGS}
        for org in ORGS:
            assert listed[org]["total"] == 6 and {e["status"] for e in listed[org]["items"]} == {"booked"}
            assert {e["voucher_number"] for e in listed[org]["items"]} == {
                v["journalEntryId"] for v in self.bl.vouchers(self.companies[org].user_key)
            }
            assert self.api.merchant(org).get(f"/missing-days?from={START}").json()["items"] == []
        assert not {e["export_id"] for e in listed["org-a"]["items"]} & {
            e["export_id"] for e in listed["org-b"]["items"]
        }


def test_two_merchants_with_identical_ids_are_booked_reported_and_listed_independently(
    api: Api,
    pipeline: Harness,
    bl_standin: BLStandIn,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    def cli_run(*argv: str) -> str:
        for name, value in settings_env(pipeline.settings, DAYCLOSE_SALES_RETENTION_DAYS="1").items():
            monkeypatch.setenv(name, value)
        # The commands configure logging for a terminal, caching every logger they touch: in this process that would
        # blind later tests' structlog.testing.capture_logs to those loggers.
        monkeypatch.setattr("dayclose.logs.configure_logging", lambda *_a, **_k: None)
        code = cli.main(list(argv))
        out, err = capsys.readouterr()
        assert code == 0, err
        return out

    two = TwoMerchants(api, pipeline, bl_standin, cli_run)
    two.set_up()
    two.book_old_day()
    two.refuse_replay_retry()
    two.correct_old_day()
    two.check_booked_and_reported()
    two.audit_then_purge()
    two.check_listed()

"""The product as the design card describes it: events in, vouchers booked exactly once, outcomes out."""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import date

import pytest

from devstack import sampledata
from devstack.bl_standin import BLStandIn, Company
from devstack.harness import Harness
from tests.integration.pipeline.conftest import ORG
from tests.integration.pipeline.oracle import assert_balanced, booked_totals, expected_totals

pytestmark = pytest.mark.integration
DAY = date(2026, 11, 25)


def succeeded(h: Harness) -> list[dict]:
    return h.outcomes_for(ORG, "SUCCEEDED")


def failed(h: Harness) -> list[dict]:
    return h.outcomes_for(ORG, "FAILED")


def test_a_closed_day_is_booked_once_with_every_account_right(
    pipeline: Harness, bl_standin: BLStandIn, bl_company: Company
) -> None:
    day = sampledata.store_day(ORG, "s1", DAY, 200)
    close = day.day_closed(counted_cash_delta_ore=-300)
    pipeline.publish_sales([*day.events(), close])

    pipeline.wait_for(lambda h: len(succeeded(h)) == 1, what="a success outcome")

    vouchers = bl_standin.vouchers(bl_company.user_key)
    assert len(vouchers) == 1
    assert_balanced(vouchers)
    assert booked_totals(vouchers) == expected_totals([*day.events(), close])
    (outcome,) = succeeded(pipeline)
    assert outcome["trigger"] == "DAY_CLOSE"
    assert outcome["store_id"] == "s1" and outcome["business_date"] == DAY
    assert outcome["voucher"]["number"] == vouchers[0]["journalEntryId"]
    assert outcome["voucher"]["receipt_count"] == 200
    assert "Z 1" in vouchers[0]["journalEntryText"] and "2026-11-25" in vouchers[0]["journalEntryText"]


def test_redelivered_and_duplicated_events_are_booked_once(
    pipeline: Harness, bl_standin: BLStandIn, bl_company: Company
) -> None:
    day = sampledata.store_day(ORG, "s1", DAY, 50)
    events = list(day.events())
    pipeline.publish_sales(events)
    pipeline.publish_sales(events[:20])  # the POS re-sends part of the day
    pipeline.publish_sales([day.day_closed(), day.day_closed()])  # and the day close twice

    pipeline.wait_for(lambda h: len(succeeded(h)) >= 1, what="a success outcome")
    pipeline.stop()
    pipeline.start()  # a restart re-reads nothing new, but must not book again either
    pipeline.publish_sales([day.day_closed()])
    pipeline.poll_outcomes(timeout=2.0)

    vouchers = bl_standin.vouchers(bl_company.user_key)
    assert len(vouchers) == 1
    assert booked_totals(vouchers) == expected_totals([*events, day.day_closed()])
    assert len(succeeded(pipeline)) == 1


def test_a_day_closed_before_its_last_receipts_waits_for_them(
    pipeline: Harness, bl_standin: BLStandIn, bl_company: Company
) -> None:
    day = sampledata.store_day(ORG, "s1", DAY, 40, with_extras=False)
    events = list(day.events())
    pipeline.publish_sales([*events[:30], day.day_closed()])
    pipeline.poll_outcomes(timeout=0.5)
    assert bl_standin.vouchers(bl_company.user_key) == []  # not booked while receipts are missing

    pipeline.publish_sales(events[30:])
    pipeline.wait_for(lambda h: len(succeeded(h)) == 1, what="the day booked once complete")
    vouchers = bl_standin.vouchers(bl_company.user_key)
    assert len(vouchers) == 1
    assert booked_totals(vouchers) == expected_totals([*events, day.day_closed()])


def test_a_day_that_never_reconciles_reports_the_difference(
    pipeline: Harness, bl_standin: BLStandIn, bl_company: Company
) -> None:
    day = sampledata.store_day(ORG, "s1", DAY, 10, with_extras=False)
    pipeline.publish_sales([*day.events(), day.day_closed(lie_receipt_count=2)])

    pipeline.wait_for(lambda h: len(failed(h)) == 1, timeout=20, what="a mismatch failure")
    (outcome,) = failed(pipeline)
    assert outcome["failure"]["reason_code"] == "RECONCILIATION_MISMATCH"
    assert [d["code"] for d in outcome["failure"]["details"]] == ["receipt_count"]
    assert "Z-report 12, received 10" in outcome["failure"]["details"][0]["message"]
    assert bl_standin.vouchers(bl_company.user_key) == []


def test_manual_export_then_day_close_books_the_day_in_two_parts_without_overlap_or_gap(
    pipeline: Harness, bl_standin: BLStandIn, bl_company: Company
) -> None:
    day = sampledata.store_day(ORG, "s1", DAY, 60)
    events = list(day.events())
    pipeline.publish_sales(events[:25])
    pipeline.wait_stored(ORG, 25)
    pipeline.publish_command(sampledata.manual_export(ORG))
    pipeline.wait_for(lambda h: len(succeeded(h)) == 1, what="the manual export")
    assert succeeded(pipeline)[0]["trigger"] == "MANUAL"

    pipeline.publish_sales([*events[25:], day.day_closed()])
    pipeline.wait_for(lambda h: len(succeeded(h)) == 2, what="the day close export")

    vouchers = bl_standin.vouchers(bl_company.user_key)
    assert len(vouchers) == 2
    assert_balanced(vouchers)
    assert "Delexport" in vouchers[0]["journalEntryText"] and "Dagsavslut" in vouchers[1]["journalEntryText"]
    assert booked_totals(vouchers[:1]) == expected_totals(events[:25])
    assert booked_totals(vouchers) == expected_totals([*events, day.day_closed()])


#: The sample plan without a default sales account at 12 %: each group sold at 12 % maps its own.
NO_DEFAULT_AT_12 = {
    **sampledata.SAMPLE_PLAN,
    "sales_default_by_rate": {k: v for k, v in sampledata.SAMPLE_PLAN["sales_default_by_rate"].items() if k != "1200"},
    "product_groups": {
        **sampledata.SAMPLE_PLAN["product_groups"],
        **{g: {"1200": "3002"} for g in ("coffee", "pastry", "lunch")},
    },
}


def test_an_unmapped_payment_method_blocks_the_day_until_the_plan_is_fixed(
    make_pipeline: Callable[..., Harness], bl_standin: BLStandIn, bl_company: Company
) -> None:
    pipeline = make_pipeline(plan=NO_DEFAULT_AT_12)
    day = sampledata.store_day(ORG, "s1", DAY, 5, with_extras=False)
    klarna = day.envelope(
        sampledata.RECEIPT, sampledata.receipt_payload("s1-klarna-1", [("merch", 2500, 10000)], "klarna")
    )
    foodora = day.envelope(
        sampledata.RECEIPT, sampledata.receipt_payload("s1-foodora-1", [("delivery", 1200, 20000)], "card")
    )
    day.receipts += [klarna, foodora]
    pipeline.publish_sales([*day.events(), day.day_closed()])

    pipeline.wait_for(lambda h: len(failed(h)) == 1, what="an unmapped-items failure")
    failure = failed(pipeline)[0]["failure"]
    assert failure["reason_code"] == "UNMAPPED_ITEMS"
    assert failure["merchant_action_required"] is True and failure["will_retry"] is True
    assert {(d["kind"], d["code"], d["message"]) for d in failure["details"]} == {
        ("payment_method", "klarna", "payment method 'klarna'"),
        ("product_group", "delivery@1200", "product group 'delivery' at 12 % VAT"),
    }
    assert failure["title_sv"] and failure["title_en"]
    assert bl_standin.vouchers(bl_company.user_key) == []

    fixed = {
        **NO_DEFAULT_AT_12,
        "payment_methods": {**sampledata.SAMPLE_PLAN["payment_methods"], "klarna": "1510"},
        "product_groups": {**NO_DEFAULT_AT_12["product_groups"], "delivery": {"1200": "3002"}},
    }
    pipeline.save_plan(ORG, fixed)
    pipeline.publish_command(sampledata.manual_export(ORG, retry=True))
    pipeline.wait_for(lambda h: len(succeeded(h)) == 1, what="the retried export")

    vouchers = bl_standin.vouchers(bl_company.user_key)
    assert len(vouchers) == 1
    assert succeeded(pipeline)[0]["trigger"] == "RETRY"
    assert booked_totals(vouchers) == expected_totals([*day.events(), day.day_closed()], fixed)


def test_a_poison_message_is_dead_lettered_and_the_stream_moves_on(
    pipeline: Harness, bl_standin: BLStandIn, bl_company: Company
) -> None:
    day = sampledata.store_day(ORG, "s1", DAY, 20, with_extras=False)
    events = list(day.events())
    bad_receipt = day.envelope(
        sampledata.RECEIPT, {**sampledata.receipt_payload("s1-bad", [("merch", 2500, 100)], "card"), "tip_ore": 700}
    )
    pipeline.publish_sales(events[:10], raw=[(day.key, b"\x00\xffnot avro at all")])
    pipeline.publish_sales([bad_receipt, *events[10:], day.day_closed()])

    pipeline.wait_for(lambda h: len(succeeded(h)) == 1 and len(h.dead_letters) == 2, what="booking + 2 DLQ")
    codes = sorted(d["error_code"] for d in pipeline.dead_letters)
    assert codes == ["INVALID_EVENT", "UNDECODABLE"]
    garbage = next(d for d in pipeline.dead_letters if d["error_code"] == "UNDECODABLE")
    assert garbage["original_value"] == b"\x00\xffnot avro at all" and garbage["source_topic"] == pipeline.topics.sales
    reasons = sorted(o["failure"]["reason_code"] for o in failed(pipeline))
    assert reasons == ["INVALID_EVENT"]  # the merchant's: a receipt of theirs that does not add up
    (garbage_outcome,) = [o for o in pipeline.outcomes if o["organization_id"] is None]  # operators': no banner
    assert garbage_outcome["failure"]["reason_code"] == "POISON_MESSAGE"
    assert booked_totals(bl_standin.vouchers(bl_company.user_key)) == expected_totals([*events, day.day_closed()])


def test_an_inactive_organization_exports_nothing(
    make_pipeline: Callable[..., Harness], bl_standin: BLStandIn, bl_company: Company
) -> None:
    h = make_pipeline(activate=False)
    day = sampledata.store_day("org-never-activated", "s9", DAY, 5)
    h.publish_sales([*day.events(), day.day_closed()])
    h.publish_command(sampledata.manual_export("org-never-activated"))
    h.poll_outcomes(timeout=1.5)
    assert h.outcomes == [] and h.dead_letters == []
    assert bl_standin.vouchers(bl_company.user_key) == []


def test_sales_before_the_start_date_are_never_exported(
    pipeline: Harness, bl_standin: BLStandIn, bl_company: Company
) -> None:
    old = sampledata.store_day(ORG, "s1", date(2025, 12, 31), 5, with_extras=False)
    new = sampledata.store_day(ORG, "s1", DAY, 5, with_extras=False)
    pipeline.publish_sales([*old.events(), old.day_closed(), *new.events()])
    pipeline.wait_stored(ORG, 10)
    pipeline.publish_command(sampledata.manual_export(ORG))
    pipeline.wait_for(lambda h: len(succeeded(h)) == 1, what="the manual export")
    pipeline.poll_outcomes(timeout=0.5)
    vouchers = bl_standin.vouchers(bl_company.user_key)
    assert len(vouchers) == 1 and vouchers[0]["journalEntryDate"] == "2026-11-25"


@pytest.mark.parametrize(
    ("reason_code", "break_bl"),
    [
        ("FISCAL_YEAR_CLOSED", lambda c: c.close_financial_year(DAY)),
        ("FISCAL_YEAR_MISSING", lambda c: c.remove_financial_year(DAY)),
        ("PERIOD_LOCKED", lambda c: c.lock_through(DAY)),
        ("ACCOUNT_CLOSED", lambda c: c.close_account("1686")),
        ("ACCOUNT_MISSING_IN_BL", lambda c: c.remove_account("2829")),
        ("ACCOUNT_VAT_CODE_MISMATCH", lambda c: c.set_vat_code("3003", "2")),
        ("SERIES_MISSING", lambda c: c.remove_series("D")),
        ("KEY_NOT_ACTIVATED", lambda c: setattr(c, "activated", False)),
    ],
)
def test_every_merchant_fixable_bl_refusal_reaches_the_outcomes_topic(
    pipeline: Harness, bl_standin: BLStandIn, bl_company: Company, reason_code: str, break_bl: Callable
) -> None:
    with bl_company.lock:
        break_bl(bl_company)
    day = sampledata.store_day(ORG, "s1", DAY, 8)
    pipeline.publish_sales([*day.events(), day.day_closed()])
    pipeline.wait_for(lambda h: len(failed(h)) == 1, what=f"a {reason_code} failure")
    failure = failed(pipeline)[0]["failure"]
    assert failure["reason_code"] == reason_code
    assert failure["merchant_action_required"] is True
    assert failure["title_sv"] and failure["message_sv"] and failure["title_en"] and failure["message_en"]
    assert bl_standin.vouchers(bl_company.user_key) == []


def test_a_closed_fiscal_year_is_retried_and_booked_once_reopened(
    pipeline: Harness, bl_standin: BLStandIn, bl_company: Company
) -> None:
    with bl_company.lock:
        bl_company.close_financial_year(DAY)
    day = sampledata.store_day(ORG, "s1", DAY, 8)
    pipeline.publish_sales([*day.events(), day.day_closed()])
    pipeline.wait_for(lambda h: len(failed(h)) == 1, what="FISCAL_YEAR_CLOSED")
    with bl_company.lock:
        bl_company.open_financial_year(DAY)
    pipeline.publish_command(sampledata.manual_export(ORG, retry=True))
    pipeline.wait_for(lambda h: len(succeeded(h)) == 1, what="the retried export")
    assert len(bl_standin.vouchers(bl_company.user_key)) == 1
    assert len(failed(pipeline)) == 1


def test_a_missing_cost_centre_is_named(
    make_pipeline: Callable[..., Harness], bl_standin: BLStandIn, bl_company: Company
) -> None:
    h = make_pipeline(plan={**sampledata.SAMPLE_PLAN, "store_cost_centres": {"s1": "NOPE"}})
    day = sampledata.store_day(ORG, "s1", DAY, 5)
    h.publish_sales([*day.events(), day.day_closed()])
    h.wait_for(lambda h: len(failed(h)) == 1, what="COST_CENTRE_MISSING")
    failure = failed(h)[0]["failure"]
    assert failure["reason_code"] == "COST_CENTRE_MISSING"
    assert "NOPE" in str(failure["details"])


def test_bad_client_credentials_are_an_operator_problem_not_the_merchants(
    make_pipeline: Callable[..., Harness], bl_standin: BLStandIn, bl_company: Company
) -> None:
    h = make_pipeline(client_secret="not-the-secret")
    day = sampledata.store_day(ORG, "s1", DAY, 5)
    h.publish_sales([*day.events(), day.day_closed()])
    h.wait_for(lambda h: len(failed(h)) == 1, what="CLIENT_CREDENTIALS_INVALID")
    failure = failed(h)[0]["failure"]
    assert failure["reason_code"] == "CLIENT_CREDENTIALS_INVALID"
    assert failure["merchant_action_required"] is False and failure["will_retry"] is True
    assert bl_standin.vouchers(bl_company.user_key) == []


def test_bl_unavailable_is_retried_until_booked_without_a_second_voucher(
    pipeline: Harness, bl_standin: BLStandIn, bl_company: Company
) -> None:
    bl_standin.set_faults(errors_next=40, error_status=503)  # more than one attempt's retries
    day = sampledata.store_day(ORG, "s1", DAY, 8)
    pipeline.publish_sales([*day.events(), day.day_closed()])
    pipeline.wait_for(lambda h: len(succeeded(h)) == 1, timeout=40, what="booking after the outage")
    warnings = [o for o in failed(pipeline) if o["failure"]["reason_code"] == "BL_UNAVAILABLE"]
    assert len(warnings) == 1 and warnings[0]["failure"]["merchant_action_required"] is False
    assert len(bl_standin.vouchers(bl_company.user_key)) == 1


def test_a_response_lost_after_bl_committed_never_books_twice(
    pipeline: Harness, bl_standin: BLStandIn, bl_company: Company
) -> None:
    bl_standin.set_faults(commit_then_drop=2, drop_mode="reset")
    day = sampledata.store_day(ORG, "s1", DAY, 8)
    pipeline.publish_sales([*day.events(), day.day_closed()])
    pipeline.wait_for(lambda h: len(succeeded(h)) == 1, timeout=40, what="booking")
    vouchers = bl_standin.vouchers(bl_company.user_key)
    assert len(vouchers) == 1
    assert succeeded(pipeline)[0]["voucher"]["already_existed"] is True


@pytest.mark.skipif(os.environ.get("KAFKA_BOOTSTRAP_SERVERS") is not None, reason="uses the in-process cluster")
def test_many_stores_are_booked_concurrently_each_once(
    pipeline: Harness, bl_standin: BLStandIn, bl_company: Company
) -> None:
    days = [sampledata.store_day(ORG, f"s{i}", DAY, 15) for i in range(12)]
    pipeline.publish_sales([e for d in days for e in (*d.events(), d.day_closed())])
    pipeline.wait_for(lambda h: len(succeeded(h)) == 12, timeout=60, what="12 stores booked")
    vouchers = bl_standin.vouchers(bl_company.user_key)
    assert len(vouchers) == 12
    expected = expected_totals([e for d in days for e in (*d.events(), d.day_closed())])
    assert booked_totals(vouchers) == expected


def test_a_retry_posts_the_voucher_it_stored_even_if_the_plan_changed_meanwhile(
    pipeline: Harness, bl_standin: BLStandIn, bl_company: Company
) -> None:
    """The first attempt may have reached BL; the retry must look up and post that same voucher, not one
    rebuilt from a plan whose series (and so the look-up) changed in between."""
    bl_standin.set_faults(errors_next=40, error_status=503, paths=("/journal",))
    day = sampledata.store_day(ORG, "s1", DAY, 8)
    pipeline.publish_sales([*day.events(), day.day_closed()])
    pipeline.wait_for(lambda h: len(failed(h)) == 1, what="the transient failure")
    pipeline.save_plan(ORG, {**sampledata.SAMPLE_PLAN, "series": "E"})
    pipeline.wait_for(lambda h: len(succeeded(h)) == 1, timeout=40, what="booking after the outage")
    (voucher,) = bl_standin.vouchers(bl_company.user_key)
    assert voucher["journalId"] == "D"
    assert succeeded(pipeline)[0]["voucher"]["series"] == "D"


def test_an_export_leased_by_another_worker_is_not_posted_twice(database_url: str) -> None:
    import uuid
    from datetime import timedelta

    import psycopg

    from mapping.voucher import Voucher, VoucherRow
    from service.messages import Trigger
    from service.model import Export, ExportStatus, Lease, LeaseTaken
    from storage.exports import LEASE_PREFIX, PostgresExports

    lease = timedelta(minutes=10)
    with psycopg.connect(database_url) as conn:
        export_id = uuid.uuid4()
        conn.execute(
            "INSERT INTO exports (export_id, reference, organization_id, store_id, business_date, trigger, status, "
            "event_count) VALUES (%s, 'DC-x', 'o', 's', %s, 'DAY_CLOSE', 'posting', 0)",
            (export_id, DAY),
        )
        export = Export(export_id, "DC-x", "o", "s", DAY, Trigger.DAY_CLOSE, ExportStatus.POSTING, 0, None)
        exports = PostgresExports(conn)

        def voucher(ore: int) -> Voucher:
            return Voucher("A", DAY, "DC-x", "DC-x", (VoucherRow("1910", ore), VoucherRow("3001", -ore)))

        # Process "a" is alive while one of its connections is (as a running service's pool is).
        with psycopg.connect(database_url, application_name=f"{LEASE_PREFIX}a") as process_a:
            process_a.execute("SELECT 1")
            assert exports.take_lease(export, "a:worker-1", lease, voucher(1), 0).kind is Lease.FIRST_POST
            assert (
                exports.take_lease(export, "b:worker-1", lease, voucher(2), 0).kind is Lease.HELD_ELSEWHERE
            )  # a posts
            # Re-entrant, and a post is on record now: whoever posts next looks up first.
            assert exports.take_lease(export, "a:worker-1", lease, voucher(1), 0).kind is Lease.POSTED_BEFORE
        # Process "a" died (no connection left): its lease is void at once, not after ten minutes. Its post may be on
        # its way to BL until now: the look-up waits the whole quiet period (0 s since the last possible post).
        assert exports.take_lease(export, "b:worker-1", lease, voucher(2), 0) == LeaseTaken(Lease.POSTED_BEFORE, 0.0)
        conn.execute("UPDATE exports SET lease_until = now() - interval '1 second' WHERE export_id = %s", (export_id,))
        expired = exports.take_lease(export, "c:worker-1", lease, voucher(3), 0)
        assert expired == LeaseTaken(Lease.POSTED_BEFORE, 0.0)
        # An attempt that recorded its end (a failure: the owner cleared) posted nothing after it: the time since.
        exports.mark_failed(export, ExportStatus.POSTING, "BL_UNAVAILABLE", ())
        conn.execute("UPDATE exports SET updated_at = now() - interval '30 seconds' WHERE export_id = %s", (export_id,))
        conn.commit()
        after_end = exports.take_lease(export, "d:worker-1", lease, voucher(4), 0)
        assert after_end.kind is Lease.POSTED_BEFORE
        assert after_end.last_post_s_ago is not None and 30 <= after_end.last_post_s_ago < 40


def test_a_receipt_postgresql_refuses_is_dead_lettered_and_its_batch_still_lands(
    pipeline: Harness, bl_standin: BLStandIn, bl_company: Company
) -> None:
    day = sampledata.store_day(ORG, "s1", DAY, 10, with_extras=False)
    nul = day.envelope(sampledata.RECEIPT, sampledata.receipt_payload("s1-nul\x00", [("merch", 2500, 1000)], "card"))
    events = list(day.events())
    pipeline.publish_sales([*events[:5], nul, *events[5:], day.day_closed()])
    pipeline.wait_for(lambda h: len(succeeded(h)) == 1 and len(h.dead_letters) == 1, what="booked + 1 DLQ")
    assert pipeline.dead_letters[0]["error_code"] == "INVALID_EVENT"
    assert booked_totals(bl_standin.vouchers(bl_company.user_key)) == expected_totals([*events, day.day_closed()])


@pytest.mark.parametrize("z2_first", [False, True])
def test_a_day_reopened_and_closed_again_books_everything_once(
    pipeline: Harness, bl_standin: BLStandIn, bl_company: Company, z2_first: bool
) -> None:
    """Z-reports are cumulative for the day: the second covers the whole day, and only the cash
    difference not booked by the first is booked with it."""
    day = sampledata.store_day(ORG, "s1", DAY, 10, with_extras=False)
    first = list(day.events())
    close1 = day.day_closed(counted_cash_delta_ore=-300)
    day.receipts += [  # sold after the first close, on the same business day
        day.envelope(sampledata.RECEIPT, sampledata.receipt_payload(f"s1-late-{n}", [("merch", 2500, 5000)], "cash"))
        for n in range(4)
    ]
    day.z_report_number = 2
    close2 = day.day_closed(counted_cash_delta_ore=-500)
    later = day.receipts[10:]
    if z2_first:  # both closes arrive before the first is handled
        pipeline.publish_sales([*first, close1, *later, close2])
    else:
        pipeline.publish_sales([*first, close1])
        pipeline.wait_for(lambda h: len(succeeded(h)) == 1, what="the first close booked")
        pipeline.publish_sales([*later, close2])
    pipeline.wait_for(
        lambda h: (
            len(bl_standin.vouchers(bl_company.user_key)) >= 1
            and sum(o["voucher"]["receipt_count"] for o in succeeded(h)) == 14
        ),
        what="all 14 receipts",
    )
    pipeline.poll_outcomes(timeout=1.0)
    books = bl_standin.vouchers(bl_company.user_key)
    assert booked_totals(books) == expected_totals([*day.events(), close2])  # cash difference −5.00 once
    assert failed(pipeline) == []

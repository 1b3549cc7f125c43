"""The bad-input catalogue (#8): every kind of bad input the POS or a broken producer can send, with the
outcome it must have — dead-letter + reason code, an ignored duplicate, a wait, or a failure event.

Each test ends by booking a good "sentinel" day on the same partition key (so after the bad input in the
stream) and waiting for it: when the sentinel is booked, the bad input has certainly been handled, so
"nothing happened" assertions are not races.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from confluent_kafka import Producer
from fastavro import parse_schema, schemaless_writer

import schemas
from consumer.codec import MAX_MESSAGE_BYTES, SINGLE_OBJECT_MARKER, AvroCodec
from devstack import sampledata
from devstack.bl_standin import BLStandIn, Company
from devstack.harness import Harness
from tests.integration.pipeline.conftest import ORG
from tests.integration.pipeline.oracle import assert_balanced, booked_totals, expected_totals

pytestmark = pytest.mark.integration
DAY = date(2026, 11, 25)
SENTINEL_DAY = date(2026, 11, 26)
KEY = f"{ORG}/s1".encode()


def succeeded(h: Harness) -> list[dict[str, Any]]:
    return [o for o in h.outcomes if o["status"] == "SUCCEEDED"]


def failed(h: Harness) -> list[dict[str, Any]]:
    return [o for o in h.outcomes if o["status"] == "FAILED"]


def sentinel(h: Harness, store: str = "s1", timeout: float = 30.0) -> list[dict[str, Any]]:
    """Publish a small good day after whatever came before on this store's key; wait until it is booked."""
    day = sampledata.store_day(ORG, store, SENTINEL_DAY, 3, with_extras=False, seed=99)
    records = [*day.events(), day.day_closed()]
    h.publish_sales(records)
    h.wait_for(
        lambda h: any(
            o["status"] == "SUCCEEDED" and o["business_date"] == SENTINEL_DAY and o["store_id"] == store
            for o in h.outcomes
        ),
        timeout=timeout,
        what="the sentinel day booked",
    )
    return records


def arrived(h: Harness, dead_letters: int, failures: int) -> None:
    """Wait until this many dead letters and failure outcomes have been read. Once the sentinel is booked
    they are certainly published (the outbox relays in order), but the reader takes the dead-letter and
    the outcomes topics as they come, in no order between the two."""
    h.wait_for(
        lambda h: len(h.dead_letters) >= dead_letters and len(failed(h)) >= failures,
        timeout=10,
        what=f"{dead_letters} dead letter(s) and {failures} failure outcome(s)",
    )


def assert_dead_lettered(h: Harness, error_code: str, outcome_reason: str, value: bytes | None = None) -> None:
    """Undecodable poison names no organization (its Kafka key is unverified: ORG, known, only as a detail);
    a decoded but invalid event is addressed to its payload's organization and store."""
    arrived(h, dead_letters=1, failures=1)
    (dead,) = h.dead_letters
    assert dead["error_code"] == error_code
    assert dead["source_topic"] == h.topics.sales and dead["original_key"] == KEY
    if value is not None:
        assert dead["original_value"] == value
    (failure,) = failed(h)
    details = failure["failure"]["details"]
    assert failure["trigger"] == "INGEST"
    if outcome_reason == "POISON_MESSAGE":
        assert (failure["organization_id"], failure["store_id"]) == (None, None)
        assert [(d["kind"], d["code"]) for d in details[1:]] == [("unverified_key", f"{ORG}/s1")]
    else:
        assert (failure["organization_id"], failure["store_id"]) == (ORG, "s1")
        assert [d["kind"] for d in details] == ["message"]
    assert failure["failure"]["reason_code"] == outcome_reason
    assert failure["failure"]["will_retry"] is False
    assert details[0]["code"].startswith(f"{h.topics.sales}/")


def only_sentinel_booked(
    h: Harness,
    bl: BLStandIn,
    company: Company,
    sentinel_records: list[dict[str, Any]],
    other: list[dict[str, Any]] = (),
) -> None:  # type: ignore[assignment]
    vouchers = bl.vouchers(company.user_key)
    assert_balanced(vouchers)
    assert booked_totals(vouchers) == expected_totals([*other, *sentinel_records])


# --- undecodable -------------------------------------------------------------------------------------------


def test_garbage_bytes_are_dead_lettered_as_undecodable(
    pipeline: Harness, bl_standin: BLStandIn, bl_company: Company
) -> None:
    garbage = b"\x00\xff\xfe garbage \x13\x37"
    pipeline.publish_sales([], raw=[(KEY, garbage)])
    good = sentinel(pipeline)
    assert_dead_lettered(pipeline, "UNDECODABLE", "POISON_MESSAGE", garbage)
    only_sentinel_booked(pipeline, bl_standin, bl_company, good)


def test_an_empty_value_is_dead_lettered_as_undecodable(
    pipeline: Harness, bl_standin: BLStandIn, bl_company: Company
) -> None:
    pipeline.publish_sales([], raw=[(KEY, b"")])
    good = sentinel(pipeline)
    assert_dead_lettered(pipeline, "UNDECODABLE", "POISON_MESSAGE", b"")
    only_sentinel_booked(pipeline, bl_standin, bl_company, good)


def test_a_record_of_another_contract_on_the_sales_topic_is_dead_lettered(
    pipeline: Harness, bl_standin: BLStandIn, bl_company: Company
) -> None:
    """A producer writing the wrong schema: a BackOffice command, valid Avro, on the sales topic."""
    wrong = AvroCodec(schemas.COMMAND, pipeline.topics.sales).encode(sampledata.manual_export(ORG))
    pipeline.publish_sales([], raw=[(KEY, wrong)])
    good = sentinel(pipeline)
    assert_dead_lettered(pipeline, "SCHEMA_MISMATCH", "POISON_MESSAGE", wrong)
    only_sentinel_booked(pipeline, bl_standin, bl_company, good)


def test_an_event_of_an_unknown_newer_schema_is_dead_lettered(
    pipeline: Harness, bl_standin: BLStandIn, bl_company: Company
) -> None:
    """A producer on a newer contract with a payload type we do not know (a union branch past ours)."""
    import json

    newer = json.loads(schemas.raw(schemas.SALES_EVENT))
    payload = next(f for f in newer["fields"] if f["name"] == "payload")
    payload["type"].append(
        {"type": "record", "name": "LoyaltyPointsEarned", "fields": [{"name": "points", "type": "long"}]}
    )
    record = sampledata.store_day(ORG, "s1", DAY, 1).envelope("dayclose.pos.v1.LoyaltyPointsEarned", {"points": 5})
    buf = io.BytesIO()
    buf.write(SINGLE_OBJECT_MARKER + schemas.fingerprint(json.dumps(newer)))
    schemaless_writer(buf, parse_schema(newer), record)
    pipeline.publish_sales([], raw=[(KEY, buf.getvalue())])
    good = sentinel(pipeline)
    assert_dead_lettered(pipeline, "SCHEMA_MISMATCH", "POISON_MESSAGE", buf.getvalue())
    only_sentinel_booked(pipeline, bl_standin, bl_company, good)


def test_a_truncated_record_with_a_known_schema_is_dead_lettered_as_undecodable(
    pipeline: Harness, bl_standin: BLStandIn, bl_company: Company
) -> None:
    day = sampledata.store_day(ORG, "s1", DAY, 1, with_extras=False)
    whole = pipeline.sales_codec.encode(day.receipts[0])
    cut = whole[: len(whole) // 2]
    pipeline.publish_sales([], raw=[(KEY, cut)])
    good = sentinel(pipeline)
    assert_dead_lettered(pipeline, "UNDECODABLE", "POISON_MESSAGE", cut)
    only_sentinel_booked(pipeline, bl_standin, bl_company, good)


def test_an_oversized_message_is_dead_lettered_and_outcomes_keep_flowing(
    pipeline: Harness, bl_standin: BLStandIn, bl_company: Company
) -> None:
    huge = SINGLE_OBJECT_MARKER + b"x" * (MAX_MESSAGE_BYTES + 10)
    producer = Producer({**pipeline.settings.kafka.client_config(), "message.max.bytes": 4 * MAX_MESSAGE_BYTES})
    producer.produce(pipeline.topics.sales, key=KEY, value=huge)
    assert producer.flush(30) == 0
    good = sentinel(pipeline)  # the dead letter must not block the outbox (outcomes of every merchant)
    (dead,) = pipeline.dead_letters
    assert dead["error_code"] == "OVERSIZED"
    (failure,) = failed(pipeline)
    assert failure["failure"]["reason_code"] == "POISON_MESSAGE"
    only_sentinel_booked(pipeline, bl_standin, bl_company, good)


# --- decodes, but breaks the contract's rules -------------------------------------------------------------


def _receipt(rid: str, **changes: Any) -> dict[str, Any]:
    payload = sampledata.receipt_payload(rid, [("merch", 2500, 10000), ("coffee", 600, 3900)], "card")
    payload.update(changes)
    return payload


def _line(group: str, rate: int, gross: int, vat: int) -> dict[str, Any]:
    return {
        "product_group": group,
        "vat_rate_bp": rate,
        "gross_ore": gross,
        "vat_ore": vat,
        "discount_ore": 0,
        "quantity_milli": 1000,
        "description": None,
    }


INVALID_RECEIPTS: dict[str, Callable[[], dict[str, Any]]] = {
    "negative line amount": lambda: _receipt(
        "bad-neg", lines=[_line("merch", 2500, -10000, -2000)], payments=[{"method": "card", "amount_ore": -10000}]
    ),
    "negative tip": lambda: _receipt("bad-tip", tip_ore=-500, payments=[{"method": "card", "amount_ore": 13400}]),
    "payments differ from lines": lambda: _receipt("bad-sum", payments=[{"method": "card", "amount_ore": 13800}]),
    "VAT larger than the line": lambda: _receipt(
        "bad-vat", lines=[_line("merch", 2500, 1000, 5000)], payments=[{"method": "card", "amount_ore": 1000}]
    ),
    "VAT rate above 100 %": lambda: _receipt(
        "bad-rate", lines=[_line("merch", 25000, 1000, 100)], payments=[{"method": "card", "amount_ore": 1000}]
    ),
    "rounding larger than cash rounding": lambda: _receipt(
        "bad-round", rounding_ore=100, payments=[{"method": "cash", "amount_ore": 14000}]
    ),
    "rounding without cash": lambda: _receipt(
        "bad-round-card", rounding_ore=10, payments=[{"method": "card", "amount_ore": 13910}]
    ),
}


@pytest.mark.parametrize("case", sorted(INVALID_RECEIPTS))
def test_a_receipt_that_breaks_the_money_rules_is_dead_lettered_and_the_day_books_without_it(
    pipeline: Harness, bl_standin: BLStandIn, bl_company: Company, case: str
) -> None:
    day = sampledata.store_day(ORG, "s1", DAY, 10, with_extras=False)
    bad = day.envelope(sampledata.RECEIPT, INVALID_RECEIPTS[case]())
    records = [*day.events(), day.day_closed()]  # control totals of the good receipts only
    pipeline.publish_sales([bad, *records])
    pipeline.wait_for(lambda h: len(succeeded(h)) == 1 and len(h.dead_letters) == 1, what="day booked + 1 DLQ")
    assert_dead_lettered(pipeline, "INVALID_EVENT", "INVALID_EVENT")
    assert "bad-" in pipeline.dead_letters[0]["error_message"] or pipeline.dead_letters[0]["error_message"]
    only_sentinel_booked(pipeline, bl_standin, bl_company, records)


def test_an_absurd_amount_is_dead_lettered_not_booked(
    pipeline: Harness, bl_standin: BLStandIn, bl_company: Company
) -> None:
    absurd = 10**15  # öre: ten trillion kronor on one receipt line
    day = sampledata.store_day(ORG, "s1", DAY, 3, with_extras=False)
    bad = day.envelope(
        sampledata.RECEIPT,
        _receipt(
            "bad-absurd",
            lines=[_line("merch", 2500, absurd, absurd // 5)],
            payments=[{"method": "card", "amount_ore": absurd}],
        ),
    )
    pipeline.publish_sales([bad])
    good = sentinel(pipeline)
    # Today it is ingested: the day then never reconciles with its Z-report (RECONCILIATION_MISMATCH) or,
    # if the Z-report carries it too, is booked.
    assert_dead_lettered(pipeline, "INVALID_EVENT", "INVALID_EVENT")
    only_sentinel_booked(pipeline, bl_standin, bl_company, good)


def test_a_day_close_with_expected_but_no_counted_cash_is_dead_lettered(
    pipeline: Harness, bl_standin: BLStandIn, bl_company: Company
) -> None:
    day = sampledata.store_day(ORG, "s1", DAY, 3, with_extras=False)
    close = day.day_closed()
    close["payload"] = (close["payload"][0], {**close["payload"][1], "counted_cash_ore": None})
    pipeline.publish_sales([*day.events(), close])
    good = sentinel(pipeline)
    assert_dead_lettered(pipeline, "INVALID_EVENT", "INVALID_EVENT")
    # The day's receipts are kept (nothing lost) but unbooked until a valid day close or a manual export.
    only_sentinel_booked(pipeline, bl_standin, bl_company, good)


# --- organizations and stores --------------------------------------------------------------------------------


def test_events_of_an_unknown_organization_are_kept_but_never_exported_and_raise_no_banner(
    pipeline: Harness, bl_standin: BLStandIn, bl_company: Company
) -> None:
    stranger = sampledata.store_day("org-unknown", "x1", DAY, 5)
    pipeline.publish_sales([*stranger.events(), stranger.day_closed()])
    pipeline.publish_command(sampledata.manual_export("org-unknown"))
    good = sentinel(pipeline)
    assert pipeline.dead_letters == []
    assert [o for o in pipeline.outcomes if o["organization_id"] == "org-unknown"] == []
    only_sentinel_booked(pipeline, bl_standin, bl_company, good)


def test_a_store_never_seen_before_is_booked_under_its_name(
    pipeline: Harness, bl_standin: BLStandIn, bl_company: Company
) -> None:
    day = sampledata.store_day(ORG, "brand-new-store", DAY, 5, store_name="Nya Butiken")
    records = [*day.events(), day.day_closed()]
    pipeline.publish_sales(records)
    pipeline.wait_for(lambda h: len(succeeded(h)) == 1, what="the new store's day")
    (voucher,) = bl_standin.vouchers(bl_company.user_key)
    assert "Nya Butiken" in voucher["journalEntryText"]
    assert booked_totals([voucher]) == expected_totals(records)


# --- duplicates and order -------------------------------------------------------------------------------------


def test_duplicate_receipts_are_ignored(pipeline: Harness, bl_standin: BLStandIn, bl_company: Company) -> None:
    day = sampledata.store_day(ORG, "s1", DAY, 10, with_extras=False)
    events = list(day.events())
    resent_with_new_event_id = [{**e, "event_id": e["event_id"] + "-resent"} for e in events[:4]]
    pipeline.publish_sales([*events, *events[:4], *resent_with_new_event_id, day.day_closed()])
    pipeline.wait_for(lambda h: len(succeeded(h)) == 1, what="the day booked")
    pipeline.poll_outcomes(timeout=0.5)
    assert pipeline.dead_letters == [] and failed(pipeline) == []
    assert succeeded(pipeline)[0]["voucher"]["receipt_count"] == 10
    (voucher,) = bl_standin.vouchers(bl_company.user_key)
    assert booked_totals([voucher]) == expected_totals([*events, day.day_closed()])


def test_a_day_closed_twice_is_booked_once(pipeline: Harness, bl_standin: BLStandIn, bl_company: Company) -> None:
    day = sampledata.store_day(ORG, "s1", DAY, 10)
    records = [*day.events(), day.day_closed()]
    pipeline.publish_sales(records)
    pipeline.wait_for(lambda h: len(succeeded(h)) == 1, what="the day booked")
    pipeline.publish_sales([day.day_closed(), {**day.day_closed(), "event_id": "another-event-id"}])
    good = sentinel(pipeline)
    assert len(succeeded(pipeline)) == 2 and failed(pipeline) == [] and pipeline.dead_letters == []
    only_sentinel_booked(pipeline, bl_standin, bl_company, good, records)


def test_a_day_closed_before_any_of_its_receipts_is_booked_once_they_arrive(
    pipeline: Harness, bl_standin: BLStandIn, bl_company: Company
) -> None:
    day = sampledata.store_day(ORG, "s1", DAY, 12)
    pipeline.publish_sales([day.day_closed()])
    pipeline.poll_outcomes(timeout=0.5)
    assert bl_standin.vouchers(bl_company.user_key) == [] and pipeline.outcomes == []
    pipeline.publish_sales(list(day.events()))
    pipeline.wait_for(lambda h: len(succeeded(h)) == 1, what="the day booked")
    pipeline.poll_outcomes(timeout=0.5)
    assert failed(pipeline) == []
    (voucher,) = bl_standin.vouchers(bl_company.user_key)
    assert booked_totals([voucher]) == expected_totals([*day.events(), day.day_closed()])


@pytest.mark.parametrize("lie", ["receipt_count", "grand_total", "vat", "payments"])
def test_a_control_total_mismatch_is_reported_and_nothing_is_booked(
    pipeline: Harness, bl_standin: BLStandIn, bl_company: Company, lie: str
) -> None:
    day = sampledata.store_day(ORG, "s1", DAY, 10, with_extras=False)
    name, close = day.day_closed()["payload"]
    close = dict(close)
    if lie == "receipt_count":
        close["receipt_count"] += 1
    elif lie == "grand_total":
        close["grand_total_ore"] += 100
    elif lie == "vat":
        close["vat_totals"] = [{**v, "vat_ore": v["vat_ore"] + 1} for v in close["vat_totals"]]
    else:
        close["payment_totals"] = [{**p, "amount_ore": p["amount_ore"] + 100} for p in close["payment_totals"]]
    pipeline.publish_sales([*day.events(), day.envelope(name, close, event_id="dayclose-lie")])
    pipeline.wait_for(lambda h: len(failed(h)) == 1, timeout=20, what="a mismatch failure")
    (outcome,) = failed(pipeline)
    assert outcome["failure"]["reason_code"] == "RECONCILIATION_MISMATCH"
    assert outcome["store_id"] == "s1" and outcome["business_date"] == DAY
    assert outcome["failure"]["details"] and all(d["kind"] == "control_total" for d in outcome["failure"]["details"])
    assert pipeline.dead_letters == []
    assert bl_standin.vouchers(bl_company.user_key) == []

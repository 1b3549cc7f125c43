"""Careless or hostile producers on the sales topic (#13): garbage that names a merchant in its Kafka key
(finding 4) and a receipt id re-sent with other content (finding 5). Each test ends with a sentinel day on
the same key, so "nothing else happened" is not a race (see test_bad_input.py)."""

from __future__ import annotations

import io
import unicodedata
from typing import Any

import psycopg
import pytest
from pypdf import PdfReader

from devstack import sampledata
from devstack.bl_standin import BLStandIn, Company
from devstack.harness import Harness
from tests.integration.pipeline.conftest import ORG
from tests.integration.pipeline.test_bad_input import DAY, KEY, arrived, failed, only_sentinel_booked, sentinel

pytestmark = pytest.mark.integration


def test_garbage_names_no_merchant_whatever_its_key_says(
    pipeline: Harness, bl_standin: BLStandIn, bl_company: Company
) -> None:
    """An undecodable message's failure is for operators: organization_id null; a key naming a merchant we
    know is carried only as a sanitized, unverified detail; a key naming anyone else, or with a NUL or other
    control characters in it, is not repeated at all."""
    keys = [KEY, f"{ORG}\x00/s1".encode(), b"org-victim/s1", f"{ORG}/s1\x00\n{'x' * 300}".encode(), b"\xff\xfe/s1"]
    pipeline.publish_sales([], raw=[(key, b"\x00 garbage " + bytes([n])) for n, key in enumerate(keys)])
    good = sentinel(pipeline)
    arrived(pipeline, dead_letters=len(keys), failures=len(keys))
    assert sorted(d["original_key"] for d in pipeline.dead_letters) == sorted(keys)
    outcomes = failed(pipeline)
    assert len(outcomes) == len(keys)
    assert {(o["organization_id"], o["store_id"], o["failure"]["reason_code"]) for o in outcomes} == {
        (None, None, "POISON_MESSAGE")
    }
    unverified = sorted(d["code"] for o in outcomes for d in o["failure"]["details"] if d["kind"] == "unverified_key")
    assert unverified == [ORG, f"{ORG}/s1"]  # the plain key, and the one whose store part had a NUL
    for o in outcomes:
        for d in o["failure"]["details"]:
            assert "\x00" not in d["code"] and "\n" not in d["code"] and len(d["code"]) <= 300
    only_sentinel_booked(pipeline, bl_standin, bl_company, good)


def _resent(record: dict[str, Any], **changes: Any) -> dict[str, Any]:
    name, payload = record["payload"]
    return {**record, "event_id": record["event_id"] + "-corrected", "payload": (name, {**payload, **changes})}


def test_a_receipt_resent_with_other_content_is_dead_lettered_and_reported_not_dropped(
    pipeline: Harness, bl_standin: BLStandIn, bl_company: Company
) -> None:
    day = sampledata.store_day(ORG, "s1", DAY, 8, with_extras=False)
    records = [*day.events(), day.day_closed()]
    pipeline.publish_sales(records)
    pipeline.wait_for(lambda h: any(o["status"] == "SUCCEEDED" for o in h.outcomes), what="the day booked")
    original = day.receipts[3]
    rid = original["payload"][1]["receipt_id"]
    paid = original["payload"][1]["payments"][0]
    line = original["payload"][1]["lines"][0]
    correction = _resent(
        original,
        lines=[
            {**line, "gross_ore": line["gross_ore"] + 1000, "vat_ore": line["vat_ore"]},
            *original["payload"][1]["lines"][1:],
        ],
        payments=[{**paid, "amount_ore": paid["amount_ore"] + 1000}],
    )
    identical = _resent(original)
    pipeline.publish_sales([identical, correction])
    good = sentinel(pipeline)
    arrived(pipeline, dead_letters=1, failures=1)
    (dead,) = pipeline.dead_letters
    assert dead["error_code"] == "RECEIPT_CONFLICT" and dead["original_key"] == KEY
    assert dead["original_value"] == pipeline.sales_codec.encode(correction)
    (failure,) = failed(pipeline)
    assert failure["trigger"] == "INGEST" and failure["failure"]["reason_code"] == "RECEIPT_CONFLICT"
    assert (failure["organization_id"], failure["store_id"], failure["business_date"]) == (ORG, "s1", DAY)
    receipt, message = failure["failure"]["details"]
    assert (receipt["kind"], receipt["code"]) == ("receipt", rid)
    assert "differs in: lines, payments;" in receipt["message"]
    total = paid["amount_ore"]
    assert (
        f"first {total // 100}.{total % 100:02d} SEK, now {(total + 1000) // 100}.{total % 100:02d} SEK"
        in receipt["message"]
    )
    assert message["kind"] == "message" and message["code"].startswith(f"{pipeline.topics.sales}/")
    # The first version stands: the books hold what the day close reconciled, nothing of the correction.
    only_sentinel_booked(pipeline, bl_standin, bl_company, good, records)


def test_a_store_name_with_bidi_zero_width_and_control_characters_reaches_bl_and_the_day_report_clean(
    pipeline: Harness, bl_standin: BLStandIn, bl_company: Company
) -> None:
    """Issue #20 finding 4: such a name reached BL's journalEntryText unchanged (the SIE file turned it into "?", the
    PDF into boxes). It passes the text policy at the edge and again where each text is written."""
    name = "Kafé\u202e Väst\u200b\u200d\ufeff\x1b\x07\x85\u0091 \u2066Ö\u2069"
    day = sampledata.store_day(ORG, "s1", DAY, 5, store_name=name, with_extras=False)
    pipeline.publish_sales([*day.events(), day.day_closed()])
    pipeline.wait_for(lambda _h: bool(bl_standin.documents(bl_company.user_key)), what="the day booked, its report")
    (voucher,) = bl_standin.vouchers(bl_company.user_key)
    assert voucher["journalEntryText"].startswith(f"Dagsavslut Kafé Väst Ö {DAY.isoformat()} Z 1 ref DC-")
    assert not [c for c in voucher["journalEntryText"] if unicodedata.category(c)[0] == "C"]
    (document,) = bl_standin.documents(bl_company.user_key)
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(document["content"])).pages)
    assert "Kafé Väst Ö (s1)" in text
    assert not [c for c in text if unicodedata.category(c) in ("Cf", "Co", "Cs") or c in "\x1b\x07\x85\x91"]


def test_a_flood_of_one_conflicting_version_is_one_dead_letter_and_one_notification(
    pipeline: Harness, bl_standin: BLStandIn, bl_company: Company
) -> None:
    """Issue #20 finding 6: 200 identical re-sends of one conflicting receipt gave 200 dead letters, ~400 outbox rows
    and 200 banners. Each distinct conflicting version is dead-lettered and notified once per window
    (DAYCLOSE_CONFLICT_NOTICE_WINDOW_SECONDS); its copies are counted."""
    day = sampledata.store_day(ORG, "s1", DAY, 8, with_extras=False)
    records = [*day.events(), day.day_closed()]
    pipeline.publish_sales(records)
    pipeline.wait_for(lambda h: any(o["status"] == "SUCCEEDED" for o in h.outcomes), what="the day booked")
    original = day.receipts[3]
    paid = original["payload"][1]["payments"][0]
    versions = [
        _resent(original, payments=[{**paid, "amount_ore": paid["amount_ore"] + extra}], tip_ore=extra)
        for extra in (1000, 2000)
    ]
    flood = [{**versions[n % 7 == 0], "event_id": f"copy-{n}"} for n in range(200)]  # 29 of the second version
    pipeline.publish_sales(flood)
    good = sentinel(pipeline)
    arrived(pipeline, dead_letters=2, failures=2)
    conflicts = [o for o in failed(pipeline) if o["failure"]["reason_code"] == "RECEIPT_CONFLICT"]
    assert len(conflicts) == 2  # outcomes are read in order: all of them are in by the sentinel's
    with psycopg.connect(pipeline.settings.database_url) as conn:
        dead = conn.execute("SELECT count(*) FROM dead_letters WHERE error_code = 'RECEIPT_CONFLICT'").fetchone()
        outbox = conn.execute("SELECT schema_name, count(*) FROM outbox GROUP BY 1 ORDER BY 1").fetchall()
        copies = conn.execute("SELECT sum(copies), count(*) FROM conflict_notices").fetchone()
    assert dead == (2,) and copies == (200, 2)
    assert dict(outbox)["dead_letter"] == 2
    assert sorted(d["original_value"] for d in pipeline.dead_letters) == sorted(
        pipeline.sales_codec.encode(flood[n])
        for n in (0, 1)  # the first copy of each version
    )
    only_sentinel_booked(pipeline, bl_standin, bl_company, good, records)

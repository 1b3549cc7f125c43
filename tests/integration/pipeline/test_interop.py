"""An outside integrator's view: a producer that follows the Avro specification (the Apache ``avro`` package
plus single-object encoding written from the spec) books a day through the real Kafka protocol, and what
dayclose emits (outcomes, dead letters) is read back by the Apache package, never by our codec."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

import pytest
from confluent_kafka import Consumer

import schemas
from devstack import sampledata
from devstack.harness import Harness
from tests import avro_spec
from tests.integration.pipeline.conftest import ORG
from tests.integration.pipeline.oracle import booked_totals, expected_totals

pytestmark = pytest.mark.integration
DAY = date(2026, 11, 25)


def raw_messages(h: Harness, topic: str, count: int, timeout: float = 30.0) -> list[Any]:
    """The first ``count`` messages of ``topic`` as bytes, read by a plain consumer (no dayclose code)."""
    consumer = Consumer(
        {
            **h.settings.kafka.client_config(),
            "group.id": f"interop-{uuid.uuid4().hex[:8]}",
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
        }
    )
    consumer.subscribe([topic])
    found: list[Any] = []
    try:
        for msg in iter(lambda: consumer.poll(timeout), None):
            if not msg.error():
                found.append(msg)
            if len(found) >= count:
                break
    finally:
        consumer.close()
    assert len(found) >= count, f"{len(found)} of {count} messages on {topic}"
    return found


def test_a_day_written_by_the_apache_package_is_booked_and_our_events_read_back_by_it(
    pipeline: Harness,
    bl_standin: Any,
    bl_company: Any,
) -> None:
    sales_schema = schemas.raw(schemas.SALES_EVENT)
    day = sampledata.store_day(ORG, "s1", DAY, 12)
    records = [*day.events(), day.day_closed()]
    key = f"{ORG}/s1".encode()
    spec_bytes = [(key, avro_spec.apache_single_object(sales_schema, avro_spec.plain(r))) for r in records]
    poison = (key, avro_spec.header('"int"') + b"\x54")  # well-framed, but a schema nobody uses here
    pipeline.publish_sales([], raw=[poison, *spec_bytes])

    pipeline.wait_for(lambda h: len(h.outcomes_for(ORG, "SUCCEEDED")) == 1, what="the day booked")
    assert booked_totals(bl_standin.vouchers(bl_company.user_key)) == expected_totals(records)

    outcome_schema = schemas.raw(schemas.EXPORT_OUTCOME)
    outcomes = [
        avro_spec.apache_decode_single_object(outcome_schema, m.value())
        for m in raw_messages(pipeline, pipeline.topics.outcomes, 2)
    ]
    booked = next(o for o in outcomes if o["status"] == "SUCCEEDED")
    assert (booked["organization_id"], booked["store_id"], booked["business_date"]) == (ORG, "s1", DAY)
    assert booked["voucher"]["receipt_count"] == 12
    ingest = next(o for o in outcomes if o["trigger"] == "INGEST")
    assert ingest["failure"]["reason_code"] == "POISON_MESSAGE"

    (dead,) = [
        avro_spec.apache_decode_single_object(schemas.raw(schemas.DEAD_LETTER), m.value())
        for m in raw_messages(pipeline, pipeline.topics.dead_letters, 1)
    ]
    assert dead["error_code"] == "SCHEMA_MISMATCH"
    assert (dead["original_key"], dead["original_value"]) == poison
    assert dead["source_topic"] == pipeline.topics.sales

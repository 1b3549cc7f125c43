"""Manual export: one ManualExportRequested on the commands topic per request, written to the outbox with the
request's row (no broker wait inside the transaction); repeated clicks coalesce."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from confluent_kafka import Consumer

import schemas
from consumer.codec import AvroCodec
from devstack.bl_standin import BLStandIn
from tests.integration.api.conftest import Api, set_up_active

ORG = "org-manual"


def commands(api: Api, make_config: Callable[..., dict[str, Any]]) -> list[dict[str, Any]]:
    consumer = Consumer(make_config(**{"auto.offset.reset": "earliest"}))
    consumer.subscribe([api.topics.commands])
    codec = AvroCodec(schemas.COMMAND, api.topics.commands)
    found: list[dict[str, Any]] = []
    try:
        for _ in range(10):
            for msg in consumer.consume(100, timeout=0.5):
                if not msg.error():
                    assert msg.key() == ORG.encode()
                    found.append(codec.decode(msg.value()))
    finally:
        consumer.close()
    return found


def test_repeated_clicks_publish_once(
    api: Api, bl_standin: BLStandIn, kafka_consumer_config: Callable[..., dict[str, Any]]
) -> None:
    m, _ = set_up_active(api, bl_standin, ORG)
    first = m.post("/manual-exports", {})
    assert first.status_code == 202, first.text
    again = m.post("/manual-exports")
    one_store = m.post("/manual-exports", {"store_id": "s1"})  # covered by the pending all-stores request
    assert again.json()["request_id"] == one_store.json()["request_id"] == first.json()["request_id"]
    assert again.json()["coalesced"] is True and again.json()["state"] == "requested"

    # The service takes the command and has nothing left to do: the next click is a new request.
    api.sql(
        "INSERT INTO processed_commands (command_id, organization_id) VALUES (%s, %s) RETURNING 1",
        first.json()["request_id"],
        ORG,
    )
    assert m.get(f"/manual-exports/{first.json()['request_id']}").json()["state"] == "done"
    second = m.post("/manual-exports", {"store_id": "s1"})
    assert second.status_code == 202 and second.json()["coalesced"] is False
    assert second.json()["request_id"] != first.json()["request_id"]

    assert api.relay_outbox() == 2  # the consumer process's relay sends them like every other event
    sent = commands(api, kafka_consumer_config)
    assert [(c["command_id"], c["payload"]) for c in sent] == [
        (first.json()["request_id"], ("dayclose.backoffice.v1.ManualExportRequested", {"store_id": None})),
        (second.json()["request_id"], ("dayclose.backoffice.v1.ManualExportRequested", {"store_id": "s1"})),
    ]


def test_a_manual_export_needs_no_broker_its_command_waits_in_the_outbox(api: Api, bl_standin: BLStandIn) -> None:
    """The API has no Kafka client: the request and its command commit together, whatever Kafka's state, and
    the relay publishes the command later. (Before, a broker outage answered 503 and recorded nothing.)"""
    m, _ = set_up_active(api, bl_standin, ORG)
    r = m.post("/manual-exports")
    assert r.status_code == 202, r.text
    requests = api.sql("SELECT request_id::text FROM manual_export_requests")
    outbox = api.sql("SELECT topic, key FROM outbox WHERE sent_at IS NULL")
    assert requests == [(r.json()["request_id"],)]
    assert [(topic, bytes(key)) for topic, key in outbox] == [(api.topics.commands, ORG.encode())]

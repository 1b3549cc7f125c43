"""The session cluster and per-test topics work for a plain group round trip."""

from __future__ import annotations

import pytest
from confluent_kafka import Consumer, Producer

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]


def test_each_call_makes_a_fresh_topic_with_the_asked_partitions(kafka_cluster, kafka_topic) -> None:
    first, second = kafka_topic(partitions=5), kafka_topic(partitions=1)
    assert first != second
    metadata = Producer({"bootstrap.servers": kafka_cluster.bootstrap_servers}).list_topics(timeout=10)
    assert len(metadata.topics[first].partitions) == 5
    assert len(metadata.topics[second].partitions) == 1


def test_group_consumer_reads_what_was_produced(kafka_cluster, kafka_topic, kafka_consumer_config, poll) -> None:
    topic = kafka_topic(partitions=2)
    producer = Producer({"bootstrap.servers": kafka_cluster.bootstrap_servers})
    for i in range(10):
        producer.produce(topic, key=str(i), value=f"v{i}")
    assert producer.flush(30) == 0

    config = kafka_consumer_config()
    assert config["enable.auto.offset.store"] is False
    assert config["session.timeout.ms"] == 6000
    consumer = Consumer(config)
    try:
        consumer.subscribe([topic])
        values = sorted(m.value().decode() for m in poll(consumer, 10, timeout_s=30))
    finally:
        consumer.close()
    assert values == sorted(f"v{i}" for i in range(10))
    assert kafka_consumer_config()["group.id"] != config["group.id"]

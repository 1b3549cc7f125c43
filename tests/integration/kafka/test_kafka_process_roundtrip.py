"""The mock cluster in its own process serves a consumer group in this one, across a restart."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from confluent_kafka import Consumer, Producer, TopicPartition

from devstack.kafka import consumer_config
from devstack.kafka_process import KafkaProcess, start_kafka_process

pytestmark = [pytest.mark.integration, pytest.mark.timeout(90)]

TOPIC, PARTITIONS = "day-close", 3


@pytest.fixture(scope="module")
def kafka_process() -> Iterator[KafkaProcess]:
    cluster = start_kafka_process(brokers=3, topics={TOPIC: PARTITIONS})
    try:
        yield cluster
    finally:
        assert cluster.stop() == 0, "the cluster process should exit cleanly on SIGTERM"


def produce(bootstrap: str, values: list[str]) -> None:
    producer = Producer({"bootstrap.servers": bootstrap, "enable.idempotence": True})
    failures: list[object] = []
    for value in values:
        producer.produce(TOPIC, key=value, value=value, on_delivery=lambda err, _msg: err and failures.append(err))
    assert producer.flush(30) == 0, "messages still queued after 30 s"
    assert failures == []


def consume_and_commit(config: dict[str, object], count: int, poll) -> list[str]:
    """Process ``count`` messages at least once: store each offset after 'processing', commit, close."""
    consumer = Consumer(config)
    try:
        consumer.subscribe([TOPIC])
        messages = poll(consumer, count, timeout_s=30)
        assert len(messages) == count, f"got {len(messages)} of {count} messages"
        for msg in messages:
            consumer.store_offsets(message=msg)
        consumer.commit(asynchronous=False)
        return [msg.value().decode() for msg in messages]
    finally:
        consumer.close()


def test_cluster_runs_in_a_separate_process(kafka_process: KafkaProcess) -> None:
    assert kafka_process.process.pid != os.getpid()
    assert kafka_process.process.poll() is None
    assert len(kafka_process.bootstrap_servers.split(",")) == 3
    metadata = Producer({"bootstrap.servers": kafka_process.bootstrap_servers}).list_topics(TOPIC, timeout=10)
    assert sorted(metadata.brokers) == [1, 2, 3]
    assert len(metadata.topics[TOPIC].partitions) == PARTITIONS


def test_restarted_consumer_resumes_from_committed_offsets_without_duplicates(
    kafka_process: KafkaProcess, poll
) -> None:
    sent = [f"sale-{i:03d}" for i in range(30)]
    produce(kafka_process.bootstrap_servers, sent)
    # Auto-commit off so only the explicit commit can move the group: that is what we test.
    config = consumer_config(kafka_process.bootstrap_servers, **{"enable.auto.commit": False})

    first = consume_and_commit(config, 12, poll)
    assert sum(committed_offsets(config).values()) == 12

    second = consume_and_commit(config, len(sent) - 12, poll)

    assert not set(first) & set(second), "a committed message was delivered again"
    assert sorted(first + second) == sent
    assert committed_offsets(config) == end_offsets(config), "the group should be at the end of the log"


def committed_offsets(config: dict[str, object]) -> dict[int, int]:
    consumer = Consumer(config)
    try:
        partitions = [TopicPartition(TOPIC, p) for p in range(PARTITIONS)]
        return {tp.partition: max(tp.offset, 0) for tp in consumer.committed(partitions, timeout=10)}
    finally:
        consumer.close()


def end_offsets(config: dict[str, object]) -> dict[int, int]:
    consumer = Consumer(config)
    try:
        return {p: consumer.get_watermark_offsets(TopicPartition(TOPIC, p), timeout=10)[1] for p in range(PARTITIONS)}
    finally:
        consumer.close()

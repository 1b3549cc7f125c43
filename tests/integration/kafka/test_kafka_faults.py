"""Faults we inject into the mock cluster are seen by real clients."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from confluent_kafka import Consumer, KafkaError, KafkaException, Producer, TopicPartition

from devstack.kafka import ApiKey, MockKafkaCluster, MockKafkaError, consumer_config

pytestmark = [pytest.mark.integration, pytest.mark.timeout(90)]


@pytest.fixture(scope="module")
def mock_cluster() -> Iterator[MockKafkaCluster]:
    # Its own mock even when KAFKA_BOOTSTRAP_SERVERS names a real cluster: faults need the mock.
    with MockKafkaCluster(brokers=3) as cluster:
        yield cluster


class Deliveries:
    def __init__(self) -> None:
        self.results: list[KafkaError | None] = []

    def __call__(self, err: KafkaError | None, _msg: object) -> None:
        self.results.append(err)


def leader_of(producer: Producer, topic: str, partition: int = 0) -> int:
    return producer.list_topics(topic, timeout=10).topics[topic].partitions[partition].leader


def test_produce_fails_while_the_leader_is_down_and_succeeds_after_it_is_up(
    mock_cluster: MockKafkaCluster,
) -> None:
    mock_cluster.create_topic("faults-broker-down", partitions=1)
    deliveries = Deliveries()
    producer = Producer(
        {"bootstrap.servers": mock_cluster.bootstrap_servers, "message.timeout.ms": 2000, "linger.ms": 0}
    )
    leader = leader_of(producer, "faults-broker-down")

    mock_cluster.broker_down(leader)
    try:
        producer.produce("faults-broker-down", b"while down", on_delivery=deliveries)
        assert producer.flush(15) == 0
    finally:
        mock_cluster.broker_up(leader)
    producer.produce("faults-broker-down", b"after up", on_delivery=deliveries)
    assert producer.flush(30) == 0

    assert [e.code() if e else None for e in deliveries.results] == [KafkaError._MSG_TIMED_OUT, None]
    consumer = Consumer(consumer_config(mock_cluster.bootstrap_servers))
    try:
        low, high = consumer.get_watermark_offsets(TopicPartition("faults-broker-down", 0), timeout=10)
    finally:
        consumer.close()
    assert high - low == 1, "only the message produced after broker_up is in the log"


def test_injected_produce_error_reaches_the_delivery_report(mock_cluster: MockKafkaCluster) -> None:
    mock_cluster.create_topic("faults-produce-error", partitions=1)
    deliveries = Deliveries()
    producer = Producer({"bootstrap.servers": mock_cluster.bootstrap_servers, "linger.ms": 0})
    assert leader_of(producer, "faults-produce-error") in (1, 2, 3)  # connected before the fault

    # Not retriable, so the very request carrying our message fails; the next one is clean.
    mock_cluster.push_request_errors(ApiKey.PRODUCE, [KafkaError.MSG_SIZE_TOO_LARGE])
    producer.produce("faults-produce-error", b"rejected", on_delivery=deliveries)
    assert producer.flush(15) == 0
    producer.produce("faults-produce-error", b"accepted", on_delivery=deliveries)
    assert producer.flush(15) == 0

    assert [e.code() if e else None for e in deliveries.results] == [KafkaError.MSG_SIZE_TOO_LARGE, None]


def test_injected_commit_error_raises_from_a_synchronous_commit(mock_cluster: MockKafkaCluster) -> None:
    mock_cluster.create_topic("faults-commit-error", partitions=1)
    consumer = Consumer(consumer_config(mock_cluster.bootstrap_servers))
    try:
        consumer.assign([TopicPartition("faults-commit-error", 0, 0)])
        offsets = [TopicPartition("faults-commit-error", 0, 0)]
        mock_cluster.push_request_errors(ApiKey.OFFSET_COMMIT, [KafkaError.GROUP_AUTHORIZATION_FAILED])
        with pytest.raises(KafkaException) as raised:
            consumer.commit(offsets=offsets, asynchronous=False)
        assert raised.value.args[0].code() == KafkaError.GROUP_AUTHORIZATION_FAILED
        consumer.commit(offsets=offsets, asynchronous=False)  # the error was used up
    finally:
        consumer.close()


def test_unknown_broker_id_is_an_error(mock_cluster: MockKafkaCluster) -> None:
    with pytest.raises(MockKafkaError, match="broker 99 down"):
        mock_cluster.broker_down(99)


def test_closed_cluster_refuses_calls() -> None:
    cluster = MockKafkaCluster(brokers=1)
    cluster.close()
    cluster.close()  # idempotent
    with pytest.raises(MockKafkaError, match="closed"):
        cluster.create_topic("after-close", 1)


def test_brokers_gone_quiet_leave_a_line_in_our_log(mock_cluster: MockKafkaCluster) -> None:
    """#24: librdkafka retries a broker that stopped answering by itself; the error_cb the service installs writes
    `kafka.client_error`, so an outage is visible in the log (the soak times detection from it)."""
    import time

    from structlog.testing import capture_logs

    from dayclose.logs import kafka_error_logger

    with capture_logs() as logs:
        producer = Producer(
            {
                "bootstrap.servers": mock_cluster.bootstrap_servers,
                "socket.timeout.ms": 1000,
                "error_cb": kafka_error_logger("relay"),
            }
        )
        producer.list_topics(timeout=10)
        for broker in (1, 2, 3):
            mock_cluster.broker_down(broker)
        try:
            deadline = time.monotonic() + 30
            while not logs and time.monotonic() < deadline:
                producer.poll(0.2)  # error callbacks are served by poll
        finally:
            for broker in (1, 2, 3):
                mock_cluster.broker_up(broker)
    assert logs and logs[0]["event"] == "kafka.client_error" and logs[0]["client"] == "relay"
    assert logs[0]["code"] in {"_TRANSPORT", "_ALL_BROKERS_DOWN", "_TIMED_OUT"}

"""pytest fixtures for a real Kafka-protocol cluster (see ``devstack.kafka``).

- ``kafka_cluster`` (session): the mock cluster in this process, or the cluster named by
  ``KAFKA_BOOTSTRAP_SERVERS`` / testcontainers when asked for.
- ``kafka_topic`` (function): ``kafka_topic(partitions=3) -> name`` makes a fresh topic.
- ``kafka_consumer_config`` (function): ``kafka_consumer_config(group_id=None, **overrides)``
  gives test-friendly consumer settings for ``kafka_cluster`` with a unique group id.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from devstack.kafka import KafkaCluster, consumer_config, kafka_from_env


@pytest.fixture(scope="session")
def kafka_cluster() -> Iterator[KafkaCluster]:
    cluster = kafka_from_env()
    try:
        yield cluster
    finally:
        cluster.close()


@pytest.fixture
def kafka_topic(kafka_cluster: KafkaCluster, request: pytest.FixtureRequest) -> Callable[..., str]:
    """Factory for topics no other test touches, named after the test for readable logs."""
    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", request.node.name)[:120]

    def make(partitions: int = 3, replication_factor: int = 1) -> str:
        name = f"{stem}-{uuid.uuid4().hex[:8]}"
        kafka_cluster.create_topic(name, partitions, replication_factor)
        return name

    return make


@pytest.fixture
def kafka_consumer_config(kafka_cluster: KafkaCluster) -> Callable[..., dict[str, Any]]:
    def make(group_id: str | None = None, **overrides: Any) -> dict[str, Any]:
        return consumer_config(kafka_cluster.bootstrap_servers, group_id, **overrides)

    return make

"""Helpers for the Kafka integration tests: bounded polling instead of sleeps."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from confluent_kafka import Consumer, Message


def poll_messages(consumer: Consumer, count: int, timeout_s: float = 30.0) -> list[Message]:
    """Poll until ``count`` messages arrived or the deadline passed; fail on a consumer error."""
    messages: list[Message] = []
    deadline = time.monotonic() + timeout_s
    while len(messages) < count and time.monotonic() < deadline:
        msg = consumer.poll(0.2)
        if msg is None:
            continue
        if msg.error():
            pytest.fail(f"consumer error: {msg.error()}")
        messages.append(msg)
    return messages


@pytest.fixture
def poll() -> Callable[..., list[Message]]:
    return poll_messages

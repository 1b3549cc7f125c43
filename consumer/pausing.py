"""Pause, seek back, resume: how the loop waits for the database without skipping a message or leaving the group.

While a batch cannot be written, every partition the loop holds is paused and the consumer is still polled (a
paused partition returns nothing, and polling keeps the process in the group and runs the rebalance callbacks). A
message that arrives anyway comes from a partition assigned by a rebalance meanwhile: it is put back (seek to its
offset) and its partition paused too. Everything is resumed together once the batch is written. Never a commit
of what was not written, never a skip.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Collection

import structlog
from confluent_kafka import TopicPartition

from consumer.kafka_types import ConsumerLike

log = structlog.get_logger("dayclose.consumer")
#: The longest single poll while holding, so a stop or the batch's outcome is seen promptly.
POLL_S = 0.2


class Hold:
    """The partitions paused for one batch that waits for the database (poll thread only)."""

    def __init__(self, consumer: ConsumerLike) -> None:
        self.consumer = consumer
        self.paused: list[TopicPartition] = list(consumer.assignment())
        consumer.pause(self.paused)

    def wait(self, seconds: float, stop: threading.Event | None, beat: Callable[[], None]) -> bool:
        """Poll the paused consumer for ``seconds`` (or until ``stop``: then False). ``beat`` is called every turn:
        waiting on the database is not being stuck."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            self.poll(min(POLL_S, max(0.0, deadline - time.monotonic())), beat)
            if stop is not None and stop.is_set():
                return False
        return True

    def until(self, done: Callable[[], bool], beat: Callable[[], None]) -> None:
        """Poll the paused consumer until ``done()``: a write in progress is waited for, stopping or not (as without
        a hold; the database's own timeouts bound it)."""
        while not done():
            self.poll(POLL_S, beat)

    def poll(self, timeout: float, beat: Callable[[], None]) -> None:
        beat()
        msg = self.consumer.poll(timeout)
        if msg is not None and not msg.error():
            # From a partition assigned during the wait, which is not paused: put it back and pause it too.
            tp = TopicPartition(msg.topic() or "", msg.partition() or 0, msg.offset() or 0)
            self.consumer.seek(tp)
            self.consumer.pause([tp])
            self.paused.append(tp)

    def forget(self, partitions: Collection[TopicPartition]) -> None:
        """Partitions revoked or lost meanwhile: no longer ours to resume."""
        gone = {(tp.topic, tp.partition) for tp in partitions}
        self.paused = [tp for tp in self.paused if (tp.topic, tp.partition) not in gone]

    def release(self) -> None:
        if self.paused:
            self.consumer.resume(self.paused)

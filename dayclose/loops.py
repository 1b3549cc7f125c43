"""The process's Kafka loops, one per consumer group: sales in ``DAYCLOSE_KAFKA_GROUP_ID``, commands in its own group
(:attr:`dayclose.settings.KafkaSettings.commands_group_id`).

Why two groups: librdkafka's cooperative-sticky assignor balances the *total* partition count of a group across its
members, not each topic's. With sales and commands in one group, a second process could be given every command
partition and no sales partition, and add nothing to ingest (issue #27). In a group of its own, each topic's
partitions are split evenly between the processes. (``range`` balances each topic, but it is an eager assignor:
every rebalance would stop every partition of every member; Python clients cannot plug in an assignor of their own.)

The first loop runs on the thread that calls :meth:`KafkaLoops.run` (the main thread of ``dayclose run``), each other
on a thread of its own; one ``stop`` ends them all, and a loop that fails stops the others and its error is raised.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any, Protocol

import structlog

log = structlog.get_logger("dayclose.service")


class _Loop(Protocol):
    consumer: Any
    last_beat: float

    def run(self, stop: threading.Event) -> None: ...


class KafkaLoops:
    def __init__(self, loops: Sequence[_Loop]) -> None:
        if not loops:
            raise ValueError("at least one Kafka loop")
        self.loops = list(loops)
        self._threads: list[threading.Thread] = []
        self._errors: list[BaseException] = []

    @property
    def consumers(self) -> list[Any]:
        return [loop.consumer for loop in self.loops]

    @property
    def last_beat(self) -> float:
        """The oldest beat: one loop stuck is the process stuck."""
        return min(loop.last_beat for loop in self.loops)

    def run(self, stop: threading.Event) -> None:
        for i, loop in enumerate(self.loops[1:], start=1):
            thread = threading.Thread(target=self._run_one, args=(loop, stop), name=f"kafka-loop-{i}", daemon=True)
            thread.start()
            self._threads.append(thread)
        self._run_one(self.loops[0], stop)
        if self._errors:
            raise self._errors[0]

    def join(self, timeout: float) -> bool:
        """Wait up to ``timeout`` for the loops on other threads to end (each closes its consumer). True if all did."""
        for thread in self._threads:
            thread.join(timeout)
        return not any(t.is_alive() for t in self._threads)

    def _run_one(self, loop: _Loop, stop: threading.Event) -> None:
        try:
            loop.run(stop)
        except BaseException as exc:
            log.exception("loop.failed", topics=getattr(loop, "topics", None))
            self._errors.append(exc)
            stop.set()  # the process ends: a restart resumes from the committed offsets

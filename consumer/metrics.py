"""Prometheus metrics of the Kafka edge: ingest, dead letters, the outbox relay, and consumer lag.

The metrics are created unregistered: the process that runs the Kafka loop (``dayclose run``) registers
:data:`COLLECTORS` and its own :class:`ConsumerLagCollector` in its registry
(:func:`dayclose.telemetry.consumer_registry`), so the API process never exposes them as zeros. Label values
are bounded sets (event kinds, error codes), never ids.
"""

from __future__ import annotations

import json
import threading
from collections import Counter as Tally
from collections.abc import Iterable, Iterator
from typing import Any

from prometheus_client import Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from service.messages import Command, SalesEnvelope

EVENTS_CONSUMED = Counter(
    "dayclose_events_consumed_total",
    "Kafka messages ingested, by event type (receipt, cash_movement, gift_card_expired, day_closed, "
    "manual_export_requested, retry_failed_exports, poison).",
    ["type"],
    registry=None,
)
EVENTS_DUPLICATE = Counter(
    "dayclose_events_duplicate_total",
    "Sales events already stored (redelivery or a POS re-send): ignored.",
    registry=None,
)
INGEST_BATCH_SIZE = Histogram(
    "dayclose_ingest_batch_size",
    "Messages per ingested batch (one database transaction).",
    buckets=(1, 5, 10, 25, 50, 100, 250, 500, 1000),
    registry=None,
)
DEAD_LETTERS = Counter(
    "dayclose_dead_letters_total",
    "Messages sent to the dead-letter topic, by error code.",
    ["error_code"],
    registry=None,
)
LEGACY_FINGERPRINTS = Counter(
    "dayclose_legacy_fingerprint_messages_total",
    "Single-object encoded messages read whose schema fingerprint had the byte order of older dayclose "
    "versions (reversed); read anyway. Non-zero only while such messages remain in a topic.",
    ["schema"],
    registry=None,
)
RELAY_PUBLISHED = Counter(
    "dayclose_relay_published_total", "Outbox rows delivered to Kafka and marked sent.", registry=None
)
RELAY_FAILURES = Counter(
    "dayclose_relay_failures_total",
    "Outbox rows whose delivery failed or timed out (they are resent).",
    registry=None,
)

#: What the consumer process registers (besides its lag collector).
COLLECTORS: tuple[Collector, ...] = (
    EVENTS_CONSUMED,
    EVENTS_DUPLICATE,
    INGEST_BATCH_SIZE,
    DEAD_LETTERS,
    LEGACY_FINGERPRINTS,
    RELAY_PUBLISHED,
    RELAY_FAILURES,
)


def batch_ingested(
    sales: Iterable[SalesEnvelope],
    commands: Iterable[Command],
    poison_codes: Iterable[str],
    duplicates: int,
    conflicts: int,
) -> None:
    """After a batch is committed: what it held, the error codes of its poison, and the counts."""
    size = 0
    for kind, n in Tally(envelope.kind for envelope in sales).items():  # one increment per kind, not per event
        EVENTS_CONSUMED.labels(kind).inc(n)
        size += n
    for command in commands:
        EVENTS_CONSUMED.labels(_snake(type(command).__name__)).inc()
        size += 1
    for code in poison_codes:
        EVENTS_CONSUMED.labels("poison").inc()
        DEAD_LETTERS.labels(code).inc()
        size += 1
    INGEST_BATCH_SIZE.observe(size)
    if duplicates:
        EVENTS_DUPLICATE.inc(duplicates)
    if conflicts:  # dead-lettered too, though they decoded: an id seen again with other content
        DEAD_LETTERS.labels("RECEIPT_CONFLICT").inc(conflicts)


def legacy_fingerprint_read(schema: str) -> None:
    LEGACY_FINGERPRINTS.labels(schema).inc()


def relay_published(delivered: int, failed: int) -> None:
    if delivered:
        RELAY_PUBLISHED.inc(delivered)
    if failed:
        RELAY_FAILURES.inc(failed)


def _snake(name: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name).lstrip("_")


#: librdkafka fetch states of a partition this consumer does not (or no longer) fetch.
_NOT_FETCHING = frozenset({"none", "stopping", "stopped"})


def partition_lag(stats: dict[str, Any]) -> int | None:
    """Messages behind the committed offset, from one partition's librdkafka statistics; None while its offsets
    are not known yet. librdkafka reports ``consumer_lag`` -1 for a partition the group never committed (a new
    or quiet environment); then everything in the partition is behind: its end less its first offset (KEDA's
    reading with ``offsetResetPolicy: earliest`` too)."""
    lag = stats.get("consumer_lag", -1)
    if isinstance(lag, int) and lag >= 0:
        return lag
    # The end a read_committed consumer (librdkafka's default) can reach: the last stable offset.
    end = stats.get("ls_offset", -1)
    end = end if isinstance(end, int) and end >= 0 else stats.get("hi_offset", -1)
    committed = stats.get("committed_offset", -1)
    if not isinstance(end, int) or end < 0 or (isinstance(committed, int) and committed >= 0):
        return None
    first = stats.get("lo_offset", 0)
    return max(0, end - (first if isinstance(first, int) and first > 0 else 0))


class ConsumerLagCollector(Collector):
    """Consumer lag per assigned partition, from the latest librdkafka statistics (``stats_cb``: :meth:`update`).

    Lag is the partition's end minus the group's committed offset (:func:`partition_lag`). Every partition the
    consumer fetches counts as assigned, committed or not. Partitions no longer assigned disappear with the next
    statistics report, so a rebalance leaves no stale series.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        #: Per consumer (librdkafka's client ``name``): a process has one per consumer group (sales, commands).
        self._lag: dict[str, dict[tuple[str, str], int | None]] = {}

    def update(self, stats_json: str) -> None:
        try:
            stats = json.loads(stats_json)
        except ValueError:
            return
        lag: dict[tuple[str, str], int | None] = {}
        for topic, tdata in (stats.get("topics") or {}).items():
            for partition, pdata in (tdata.get("partitions") or {}).items():
                if partition == "-1" or pdata.get("fetch_state") in _NOT_FETCHING or "fetch_state" not in pdata:
                    continue  # the internal unassigned partition, or one we do not fetch
                lag[(topic, partition)] = partition_lag(pdata)
        with self._lock:
            self._lag[str(stats.get("name", ""))] = lag

    def describe(self) -> Iterable[GaugeMetricFamily]:
        return []

    def collect(self) -> Iterator[GaugeMetricFamily]:
        with self._lock:
            seen = bool(self._lag)
            lag = {tp: value for per_consumer in self._lag.values() for tp, value in per_consumer.items()}
        if not seen:
            return
        family = GaugeMetricFamily(
            "dayclose_consumer_lag",
            "Messages behind the partition's end (committed offset; all of it when nothing was committed yet).",
            labels=["topic", "partition"],
        )
        for (topic, partition), value in sorted(lag.items()):
            if value is not None:
                family.add_metric([topic, partition], value)
        yield family
        yield GaugeMetricFamily(
            "dayclose_consumer_assigned_partitions", "Partitions this process's consumers are fetching.", value=len(lag)
        )

"""Bootstrap: wire the adapters once and run the consumer, the export workers and the outbox relay.

    Kafka (sales, commands) ─▶ SalesLoop ─▶ PostgreSQL (sales, jobs, outbox) ─▶ ExportWorkers ─▶ BL
                                                          └──────▶ OutboxRelay ─▶ Kafka (outcomes, dead letters)

SIGTERM/SIGINT stop the loop (offsets of written batches are committed on close), let workers
finish the export in hand, flush the relay and exit 0, all within DAYCLOSE_SHUTDOWN_TIMEOUT_SECONDS:
a step that does not finish in time (Kafka, PostgreSQL or BL gone or hanging) is cut off and the
process exits 1 at the deadline (:mod:`dayclose.shutdown`). Anything not finished is redone on
restart: jobs are rows, exports have durable identities, the outbox is a table.
"""

from __future__ import annotations

import signal
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import structlog
from confluent_kafka import Consumer
from psycopg_pool import ConnectionPool

from consumer.codec import ConfluentRegistry, SchemaRegistry
from consumer.events import EventWriter
from consumer.exporting import ExportPolicy, ExportWorker, WorkerPool
from consumer.loop import SalesLoop
from consumer.relay import OutboxRelay, listen_for_jobs
from dayclose import metrics
from dayclose.config import Settings, load_settings
from dayclose.db.exports import LEASE_PREFIX
from dayclose.db.migrate import migrate
from dayclose.health import HealthServer, consumer_checks
from dayclose.keys import KeyVault
from dayclose.logs import configure_logging, librdkafka_logger
from dayclose.shutdown import EXIT_CUT_SHORT, Deadline, Watchdog, bounded, exit_now
from exporters.base import Exporter
from exporters.bl.config import BLConfig
from exporters.bl.exporter import BLExporter

log = structlog.get_logger("dayclose.service")


def bl_exporter(settings: Settings) -> BLExporter:
    bl = settings.bl
    return BLExporter(BLConfig(
        client_id=bl.client_id,
        client_secret=bl.client_secret.reveal(),
        base_url=bl.base_url,
        token_url=bl.token_url,
        timeout_s=bl.timeout_s,
        max_requests_per_second=bl.max_requests_per_second,
        max_retries=bl.max_retries,
        ambiguous_quiet_s=bl.ambiguous_quiet_s,
    ))


def consumer_config(settings: Settings) -> dict[str, Any]:
    return {
        **settings.kafka.client_config(),
        "group.id": settings.kafka.group_id,
        "enable.auto.commit": True,
        "enable.auto.offset.store": False,  # offsets are stored only after the DB commit
        "auto.commit.interval.ms": settings.kafka.auto_commit_interval_ms,
        "auto.offset.reset": "earliest",
        "partition.assignment.strategy": "cooperative-sticky",
        "max.poll.interval.ms": 300_000,
        "session.timeout.ms": settings.kafka.session_timeout_ms,
        "heartbeat.interval.ms": settings.kafka.heartbeat_interval_ms,
        # A broker that does not wake parked fetches (librdkafka's mock cluster) would otherwise hold a
        # lone day close for the default 500 ms; 100 ms costs a few idle fetches a second, nothing more.
        "fetch.wait.max.ms": 100,
        "logger": librdkafka_logger(),
        "statistics.interval.ms": 15_000,  # feeds dayclose_consumer_lag per partition
        "stats_cb": metrics.kafka_stats,
    }


class BoundedCloseConsumer(Consumer):  # type: ignore[misc]
    """A consumer whose ``close()`` gives up after ``close_timeout()`` seconds: librdkafka's close commits
    the stored offsets and leaves the group, and waits for a coordinator that may be gone. Giving up
    loses nothing: uncommitted offsets are redelivered and ingest is idempotent."""

    close_timeout: Callable[[], float] = staticmethod(lambda: 30.0)
    closed_in_time = True

    def close(self) -> None:
        self.closed_in_time = bounded(super().close, self.close_timeout(), "kafka-consumer-close")


@dataclass
class Service:
    settings: Settings
    pool: ConnectionPool[Any]
    loop: SalesLoop
    workers: WorkerPool
    relay: OutboxRelay
    stop_event: threading.Event
    deadline: Deadline | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        if isinstance(self.loop.consumer, BoundedCloseConsumer):
            # Half the deadline at most: the export in hand and the outbox matter more than the commit.
            self.loop.consumer.close_timeout = lambda: self._deadline().remaining(reserve=self._budget(0.5))

    def run(self) -> bool:
        """Run until :meth:`stop`. True when the shutdown finished every step within the deadline."""
        self.relay.start()
        self.workers.start()
        listen_for_jobs(self.settings.database_url, self.workers.wake, self.stop_event)
        log.info("service.started", workers=self.workers.threads, group_id=self.settings.kafka.group_id)
        try:
            self.loop.run(self.stop_event)
        finally:
            clean = self._shut_down()
        return clean

    def stop(self) -> None:
        """Start the shutdown (SIGTERM/SIGINT): the loop stops polling and the workers take no new job,
        at once; :meth:`run` then winds down within ``DAYCLOSE_SHUTDOWN_TIMEOUT_SECONDS``."""
        self._deadline()
        self.stop_event.set()
        self.workers.stop(timeout=0)

    def _deadline(self) -> Deadline:
        if self.deadline is None:
            self.deadline = Deadline(self.settings.shutdown_timeout_s)
        return self.deadline

    def _budget(self, share: float) -> float:
        return self.settings.shutdown_timeout_s * share

    def _shut_down(self) -> bool:
        """Each step gets what is left of the deadline, less a reserve for the steps after it."""
        self.stop_event.set()
        deadline = self._deadline()
        consumer = self.loop.consumer
        steps = {"kafka-consumer-close": getattr(consumer, "closed_in_time", True)}
        steps["export-workers"] = self.workers.stop(deadline.remaining(reserve=self._budget(0.3)))
        steps["outbox-relay"] = self.relay.stop(deadline.remaining(reserve=self._budget(0.15)))
        steps["database-pool"] = bounded(lambda: self.pool.close(timeout=1.0),
                                         deadline.remaining(reserve=self._budget(0.1)), "database-pool")
        cut_short = sorted(name for name, done in steps.items() if not done)
        took = round(deadline.seconds - deadline.remaining(), 2)
        if cut_short:
            log.warning("service.stopped", clean=False, cut_short=cut_short, took_s=took,
                        hint="what was in flight is finished after a restart")
        else:
            log.info("service.stopped", clean=True, took_s=took)
        return not cut_short


def build_service(
    settings: Settings,
    exporter: Exporter | None = None,
    policy: ExportPolicy | None = None,
    registry: SchemaRegistry | None = None,
) -> Service:
    if settings.key_encryption_key is None:
        raise SystemExit("missing required setting DAYCLOSE_KEY_ENCRYPTION_KEY")
    if settings.migrate_on_start:
        migrate(settings.database_url)
    if registry is None and settings.kafka.schema_registry_url:
        registry = ConfluentRegistry(settings.kafka.schema_registry_url)
    instance = uuid.uuid4().hex[:16]
    # Every connection of this process carries its instance id, so other processes can tell from
    # pg_stat_activity whether this one is alive (an export lease of a dead process is void).
    pool: ConnectionPool[Any] = ConnectionPool(
        settings.database_url, min_size=2, max_size=2 * settings.export_workers + 4, open=True,
        name="dayclose", kwargs={"application_name": f"{LEASE_PREFIX}{instance}"},
    )
    pool.wait(timeout=30)  # fail fast at start-up when the database is unreachable
    events = EventWriter(settings.kafka.outcomes_topic, settings.kafka.dead_letter_topic, registry)
    worker = ExportWorker(pool, exporter or bl_exporter(settings), KeyVault(settings.key_encryption_key),
                          events, policy or ExportPolicy.from_settings(settings), instance=instance)
    workers = WorkerPool(worker, settings.export_workers)
    loop = SalesLoop(BoundedCloseConsumer(consumer_config(settings)), pool, events, settings.kafka.sales_topic,
                     settings.kafka.commands_topic, registry)
    relay = OutboxRelay(pool, settings.database_url, settings.kafka.producer_config())
    return Service(settings, pool, loop, workers, relay, threading.Event())


def main() -> int:
    settings = load_settings()
    configure_logging(settings.log_level, settings.log_format)
    service = build_service(settings)
    metrics.register_outbox_collector(lambda: service.pool.connection(timeout=2.0))
    health = HealthServer(consumer_checks(service), settings.http_port).start()
    watchdog = Watchdog(settings.shutdown_timeout_s, "dayclose run")

    def on_signal(*_: object) -> None:
        watchdog.arm()  # the process ends at the deadline even if the main thread itself is stuck
        service.stop()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    clean = service.run()
    health.stop()
    if not clean:
        exit_now(EXIT_CUT_SHORT)  # skip destructors: librdkafka's may wait for brokers that are gone
    return 0

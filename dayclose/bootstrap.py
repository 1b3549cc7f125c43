"""The one composition root: every adapter is built here, from one validated :class:`Settings`, and wired into
the service layer's handlers, the Kafka loop, the outbox relay and the BackOffice API (its wiring in
:mod:`dayclose.bootstrap_api`, which ``dayclose run`` never imports: FastAPI and pydantic are ~30 MB of a consumer
process). ``dayclose run``, ``dayclose api``, the devstack harness, the demo and the benchmarks all start from here;
tests pass their own exporter, policy or pool where they need one.

    settings ─▶ KeyVault (cipher) ─┐
                AvroEvents (encoder)┴─▶ units of work over one pool ─▶ export handlers (service.jobs) ─▶ BL
                                                            ├─▶ Kafka loops (consumer.loop), sales and commands ◀─ Kafka
                                                            ├─▶ OutboxRelay (consumer.relay) ─▶ Kafka
                                                            └─▶ BackOffice API (backoffice.app)
"""

from __future__ import annotations

import functools
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from psycopg_pool import ConnectionPool

from consumer.accumulator import Accumulator
from consumer.codec import ConfluentRegistry, SchemaRegistry
from consumer.decode import Decoder
from consumer.events import AvroEvents
from consumer.kafka_types import ConsumerLike
from consumer.loop import IngestLoop
from consumer.metrics import ConsumerLagCollector
from consumer.relay import OutboxRelay
from consumer.writer import Writer
from dayclose import telemetry
from dayclose.keys import KeyVault
from dayclose.logs import kafka_error_logger, librdkafka_logger
from dayclose.loops import KafkaLoops
from dayclose.preflight import wait_for_database
from dayclose.process import BoundedCloseConsumer, Service, WorkerPool
from dayclose.settings import Settings
from exporters.bl.exporter import BLExporter
from exporters.reporting import PdfDayReports
from service.company_facts import CompanyFactsStore
from service.deps import ExportDeps
from service.exporter import Exporter
from service.jobs import run_next_job
from service.lifecycle import ExportPolicy
from storage.backlog import Backlog, read_backlog
from storage.company_facts import PostgresCompanyFacts
from storage.exports import LEASE_PREFIX
from storage.migrate import migrate
from storage.notify import listen_for_jobs, listen_for_outbox
from storage.prepared import Connection
from storage.sales import prepare_rows
from storage.uow import PostgresUnitOfWork, unit_of_work


def export_policy(settings: Settings) -> ExportPolicy:
    return ExportPolicy(
        reconcile_wait=timedelta(seconds=settings.reconcile_wait_s),
        reconcile_retry=timedelta(seconds=min(5.0, settings.reconcile_wait_s / 10)),
        transient_backoff_initial=timedelta(seconds=settings.retry_backoff_s),
        transient_backoff_max=timedelta(seconds=settings.retry_backoff_max_s),
        late_sales_grace=timedelta(seconds=settings.late_sales_grace_s),
    )


def schema_registry(settings: Settings) -> SchemaRegistry | None:
    url = settings.kafka.schema_registry_url
    return ConfluentRegistry(url) if url else None


def event_encoder(settings: Settings, registry: SchemaRegistry | None) -> AvroEvents:
    kafka = settings.kafka
    return AvroEvents(kafka.outcomes_topic, kafka.dead_letter_topic, kafka.commands_topic, registry)


def bl_exporter(settings: Settings, facts: CompanyFactsStore | None = None) -> BLExporter:
    """The BL adapter; with ``facts``, the pre-flight's facts per company are shared by every process
    (:mod:`exporters.bl.facts`), else kept in this process."""
    return BLExporter(settings.bl, facts_store=facts)


def units_of_work(
    settings: Settings, pool: ConnectionPool[Any], registry: SchemaRegistry | None
) -> Callable[[], PostgresUnitOfWork]:
    window = timedelta(seconds=settings.conflict_notice_window_s)
    return unit_of_work(
        pool,
        KeyVault(settings.kek),
        event_encoder(settings, registry),
        settings.database_limits.pool_timeout_s,
        conflict_window=window,
    )


def consumer_config(
    settings: Settings, stats_cb: Callable[[str], None] | None = None, *, group_id: str | None = None
) -> dict[str, Any]:
    """A Kafka loop's consumer, in ``group_id`` (default: the sales group); ``stats_cb`` receives librdkafka's
    statistics (consumer lag, every 15 s)."""
    config = {
        **settings.kafka.client_config(),
        "group.id": group_id or settings.kafka.group_id,
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
        "error_cb": kafka_error_logger("consumer"),
    }
    if stats_cb is not None:
        config.update({"statistics.interval.ms": 15_000, "stats_cb": stats_cb})  # dayclose_consumer_lag
    return config


def producer_config(settings: Settings) -> dict[str, Any]:
    """Every producer of the service: librdkafka's own log lines go through structlog too."""
    return {**settings.kafka.producer_config(), "logger": librdkafka_logger()}


def service_pool(settings: Settings, instance: str) -> ConnectionPool[Any]:
    """The consumer process's connections (not opened yet). Each carries the process's instance id, so other processes
    can tell from pg_stat_activity whether this one is alive (an export lease of a dead process is void); each keeps
    its prepared statements across rollbacks (:mod:`storage.prepared`)."""
    return ConnectionPool(
        settings.database_url,
        connection_class=Connection,
        min_size=2,
        max_size=2 * settings.export_workers + 4,
        open=False,
        name="dayclose",
        kwargs={
            **settings.database_limits.connect_kwargs(settings.database_url),
            "application_name": f"{LEASE_PREFIX}{instance}",
        },
        timeout=settings.database_limits.pool_timeout_s,
    )


def build_service(
    settings: Settings,
    exporter: Exporter | None = None,
    policy: ExportPolicy | None = None,
    registry: SchemaRegistry | None = None,
) -> Service:
    """The consumer process (``dayclose run``): loop, export workers and relay over one pool."""
    if settings.migrate_on_start:
        migrate(settings.database_url)
    registry = registry or schema_registry(settings)
    instance = uuid.uuid4().hex[:16]
    limits = settings.database_limits.connect_kwargs(settings.database_url)
    pool = service_pool(settings, instance)
    pool.open()
    pool.wait(timeout=settings.startup_timeout_s)  # fail fast at start-up when the database is unreachable
    uow = units_of_work(settings, pool, registry)
    deps = ExportDeps(
        uow,
        exporter or bl_exporter(settings, PostgresCompanyFacts(pool)),
        PdfDayReports(),
        policy or export_policy(settings),
        instance=instance,
        observe=telemetry.export_finished,
    )
    workers = WorkerPool(functools.partial(run_next_job, deps), settings.export_workers)
    lag = ConsumerLagCollector()
    loop = kafka_loops(settings, uow, registry, lag)
    relay = OutboxRelay(
        uow,
        functools.partial(listen_for_outbox, settings.database_url, connect_kwargs=limits),
        {**producer_config(settings), "error_cb": kafka_error_logger("relay")},
    )
    service = Service(
        settings,
        pool,
        loop,
        workers,
        relay,
        threading.Event(),
        functools.partial(listen_for_jobs, settings.database_url, connect_kwargs=limits),
    )
    service.outbox_depth = functools.partial(outbox_depth, uow)
    service.backlog = functools.partial(backlog, uow)
    service.lag = lag
    return service


def kafka_loops(
    settings: Settings,
    uow: Callable[[], PostgresUnitOfWork],
    registry: SchemaRegistry | None,
    lag: ConsumerLagCollector,
) -> KafkaLoops:
    """Sales and commands, each in its own consumer group (why: :mod:`dayclose.loops`), each loop with its own
    writer thread; only the sales writer keeps running totals."""
    kafka = settings.kafka
    decoder = Decoder(kafka.sales_topic, kafka.commands_topic, registry)
    loops = []
    for topic, group, totals in (
        (kafka.sales_topic, kafka.group_id, Accumulator()),
        (kafka.commands_topic, kafka.commands_group_id, None),
    ):
        consumer: ConsumerLike = BoundedCloseConsumer(consumer_config(settings, lag.update, group_id=group))
        writer = Writer(uow, totals, name=f"writer-{'sales' if totals else 'commands'}", prepare_rows=prepare_rows)
        loops.append(IngestLoop(consumer, writer, decoder, [topic]))
    return KafkaLoops(loops)


def outbox_depth(uow: Callable[[], PostgresUnitOfWork]) -> tuple[int, float]:
    """(unsent outbox rows, age of the oldest), read when Prometheus scrapes (telemetry.OutboxCollector)."""
    with uow() as reading:
        return reading.outbox.depth()


def backlog(uow: Callable[[], PostgresUnitOfWork]) -> Backlog:
    """The export backlog, read when Prometheus scrapes (telemetry.BacklogCollector)."""
    with uow() as reading:
        return read_backlog(reading.conn)


@contextmanager
def cli_units_of_work(settings: Settings) -> Iterator[Callable[[], PostgresUnitOfWork]]:
    """Units of work over a one-connection pool, for an operator's command that calls a service handler."""
    wait_for_database(settings.database_url, min(settings.startup_timeout_s, 10.0))
    pool: ConnectionPool[Any] = ConnectionPool(
        settings.database_url, connection_class=Connection, min_size=1, max_size=1, open=True, name="cli"
    )
    try:
        yield units_of_work(settings, pool, schema_registry(settings))
    finally:
        pool.close()

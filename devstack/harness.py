"""Run the whole service against local services from Python: used by the demo, tests and benchmarks.

``Harness`` owns the topics, a producer for sales and commands, a reader for outcomes and dead
letters, and a :class:`dayclose.bootstrap.Service` running in a background thread.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from confluent_kafka import Consumer, Producer

import schemas
from consumer.codec import AvroCodec
from dayclose.bootstrap import build_service
from dayclose.keys import KeyVault
from dayclose.process import Service
from dayclose.settings import KafkaSettings, Settings
from exporters.bl.config import BLConfig
from service.exporter import Exporter
from service.lifecycle import ExportPolicy
from service.model import IntegrationStatus
from service.secrets import Secret
from storage.codecs import plan_from_json
from storage.integrations import PostgresIntegrations


@dataclass
class Topics:
    sales: str
    commands: str
    outcomes: str
    dead_letters: str

    @classmethod
    def fresh(cls, create: Callable[[str, int], None], partitions: int = 4) -> Topics:
        suffix = uuid.uuid4().hex[:8]
        topics = cls(f"pos.sales-{suffix}", f"commands-{suffix}", f"outcomes-{suffix}", f"dead-letters-{suffix}")
        for name in (topics.sales, topics.commands, topics.outcomes, topics.dead_letters):
            create(name, partitions)
        return topics


def make_settings(
    database_url: str,
    bootstrap: str,
    topics: Topics,
    *,
    bl_base_url: str = "http://127.0.0.1:1",
    bl_token_url: str = "http://127.0.0.1:1/token",  # noqa: S107 - a local URL, not a secret
    bl_client_id: str = "dayclose-local",
    bl_client_secret: str = "local-secret",  # noqa: S107 - the local stand-in's, not a real one
    workers: int = 4,
    group_id: str | None = None,
    kek: str | None = None,
) -> Settings:
    return Settings(
        database_url=database_url,
        kafka=KafkaSettings(
            bootstrap_servers=bootstrap,
            group_id=group_id or f"dayclose-{uuid.uuid4().hex[:8]}",
            sales_topic=topics.sales,
            commands_topic=topics.commands,
            outcomes_topic=topics.outcomes,
            dead_letter_topic=topics.dead_letters,
        ),
        bl=BLConfig(
            base_url=bl_base_url, token_url=bl_token_url, client_id=bl_client_id, client_secret=Secret(bl_client_secret)
        ),
        key_encryption_key=Secret(kek or KeyVault.generate_key()),
        export_workers=workers,
    )


@dataclass
class Harness:
    settings: Settings
    topics: Topics
    exporter: Exporter | None = None
    policy: ExportPolicy = field(default_factory=ExportPolicy)
    service: Service | None = None
    _thread: threading.Thread | None = None
    _producer: Producer | None = None
    _outcome_reader: Consumer | None = None

    def __post_init__(self) -> None:
        self.sales_codec = AvroCodec(schemas.SALES_EVENT, self.topics.sales)
        self.command_codec = AvroCodec(schemas.COMMAND, self.topics.commands)
        self.outcome_codec = AvroCodec(schemas.EXPORT_OUTCOME, self.topics.outcomes)
        self.dead_letter_codec = AvroCodec(schemas.DEAD_LETTER, self.topics.dead_letters)
        self.vault = KeyVault(self.settings.kek)
        self.outcomes: list[dict[str, Any]] = []
        self.dead_letters: list[dict[str, Any]] = []

    # --- merchant set-up -------------------------------------------------------------------------

    def activate(self, organization_id: str, user_key: str, plan: dict[str, Any], start_date: date) -> None:
        import psycopg

        with psycopg.connect(self.settings.database_url) as conn:
            integrations = PostgresIntegrations(conn, self.vault)
            integrations.save(
                organization_id,
                user_key=Secret(user_key),
                status=IntegrationStatus.ACTIVE,
                start_date=start_date,
                company_name="Demo AB",
            )
            integrations.save_plan(plan_from_json(organization_id, plan))

    def save_plan(self, organization_id: str, plan: dict[str, Any]) -> None:
        import psycopg

        with psycopg.connect(self.settings.database_url) as conn:
            PostgresIntegrations(conn, self.vault).save_plan(plan_from_json(organization_id, plan))

    # --- service ---------------------------------------------------------------------------------

    def start(self) -> Harness:
        self.service = build_service(self.settings, exporter=self.exporter, policy=self.policy)
        self._thread = threading.Thread(target=self.service.run, name="dayclose-service", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 30.0) -> None:
        if self.service is not None:
            self.service.stop()
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive():
                raise RuntimeError("service did not stop in time")
        self.service = None
        self._thread = None

    def close(self) -> None:
        self.stop()
        if self._outcome_reader is not None:
            self._outcome_reader.close()
        if self._producer is not None:
            self._producer.flush(10)
            # Dropping the last reference destroys the client now (librdkafka's handle), not when the garbage
            # collector gets to it: a producer outliving the cluster it talks to prints a disconnect per broker.
            self._producer = None

    # --- publishing ------------------------------------------------------------------------------

    @property
    def producer(self) -> Producer:
        if self._producer is None:
            self._producer = Producer(
                {**self.settings.kafka.client_config(), "enable.idempotence": True, "linger.ms": 5}
            )
        return self._producer

    def publish_sales(self, records: Iterable[dict[str, Any]], raw: Iterable[tuple[bytes, bytes]] = ()) -> int:
        n = 0
        for record in records:
            key = f"{record['organization_id']}/{record['store_id']}".encode()
            self.producer.produce(self.topics.sales, key=key, value=self.sales_codec.encode(record))
            n += 1
            if n % 10_000 == 0:
                self.producer.poll(0)
        for key, value in raw:
            self.producer.produce(self.topics.sales, key=key, value=value)
        remaining = self.producer.flush(30)
        if remaining:
            raise RuntimeError(f"{remaining} sales events not delivered")
        return n

    def wait_stored(self, organization_id: str, count: int, timeout: float = 30.0) -> None:
        """Wait until the service has stored ``count`` sales of the organization (a merchant clicks
        "export" after the POS has sent the sales; the topics are not ordered with each other)."""
        import psycopg

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with psycopg.connect(self.settings.database_url) as conn:
                row = conn.execute(
                    "SELECT count(*) FROM sales WHERE organization_id = %s", (organization_id,)
                ).fetchone()
            if row is not None and row[0] >= count:
                return
            time.sleep(0.02)  # deadline-bounded polling interval
        raise TimeoutError(f"{count} sales of {organization_id} not stored within {timeout}s")

    def publish_command(self, record: dict[str, Any]) -> None:
        self.producer.produce(
            self.topics.commands, key=record["organization_id"].encode(), value=self.command_codec.encode(record)
        )
        if self.producer.flush(30):
            raise RuntimeError("command not delivered")

    # --- reading outcomes ------------------------------------------------------------------------

    def _reader(self) -> Consumer:
        if self._outcome_reader is None:
            self._outcome_reader = Consumer(
                {
                    **self.settings.kafka.client_config(),
                    "group.id": f"reader-{uuid.uuid4().hex[:8]}",
                    "auto.offset.reset": "earliest",
                    "enable.auto.commit": False,
                    "session.timeout.ms": 6000,
                    "heartbeat.interval.ms": 500,
                }
            )
            self._outcome_reader.subscribe([self.topics.outcomes, self.topics.dead_letters])
        return self._outcome_reader

    def poll_outcomes(self, timeout: float = 0.2) -> None:
        for msg in self._reader().consume(num_messages=500, timeout=timeout):
            if msg.error():
                continue
            if msg.topic() == self.topics.outcomes:
                self.outcomes.append(self.outcome_codec.decode(msg.value()))
            else:
                self.dead_letters.append(self.dead_letter_codec.decode(msg.value()))

    def wait_for(self, predicate: Callable[[Harness], bool], timeout: float = 30.0, what: str = "condition") -> None:
        """Poll outcomes until ``predicate`` holds; raises TimeoutError naming ``what`` otherwise."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.poll_outcomes()
            if predicate(self):
                return
        raise TimeoutError(
            f"timed out after {timeout}s waiting for {what}; outcomes so far: "
            f"{[(o['status'], o['failure'] and o['failure']['reason_code']) for o in self.outcomes]}"
        )

    def outcomes_for(self, organization_id: str, status: str | None = None) -> list[dict[str, Any]]:
        return [
            o
            for o in self.outcomes
            if o["organization_id"] == organization_id and (status is None or o["status"] == status)
        ]


def settings_env(settings: Settings, **extra: str) -> dict[str, str]:
    """The environment that makes ``dayclose run`` in another process use these settings."""
    from devstack.ports import free_port

    env = {
        "DATABASE_URL": settings.database_url,
        "KAFKA_BOOTSTRAP_SERVERS": settings.kafka.bootstrap_servers,
        "DAYCLOSE_KAFKA_GROUP_ID": settings.kafka.group_id,
        "KAFKA_AUTO_COMMIT_INTERVAL_MS": str(settings.kafka.auto_commit_interval_ms),
        "KAFKA_SESSION_TIMEOUT_MS": str(settings.kafka.session_timeout_ms),
        "KAFKA_HEARTBEAT_INTERVAL_MS": str(settings.kafka.heartbeat_interval_ms),
        "DAYCLOSE_SALES_TOPIC": settings.kafka.sales_topic,
        "DAYCLOSE_COMMANDS_TOPIC": settings.kafka.commands_topic,
        "DAYCLOSE_OUTCOMES_TOPIC": settings.kafka.outcomes_topic,
        "DAYCLOSE_DEAD_LETTER_TOPIC": settings.kafka.dead_letter_topic,
        "BL_BASE_URL": settings.bl.base_url,
        "BL_TOKEN_URL": settings.bl.token_url,
        "BL_CLIENT_ID": settings.bl.client_id,
        "BL_CLIENT_SECRET": settings.bl.client_secret.reveal(),
        "DAYCLOSE_KEY_ENCRYPTION_KEY": settings.key_encryption_key.reveal() if settings.key_encryption_key else "",
        "DAYCLOSE_EXPORT_WORKERS": str(settings.export_workers),
        "DAYCLOSE_CONSUMER_PROCESSES": str(settings.consumer_processes),
        "DAYCLOSE_HTTP_PORT": str(free_port(span=1 + settings.consumer_processes)),
        "DAYCLOSE_LOG_FORMAT": "json",
    }
    env.update(extra)
    return env

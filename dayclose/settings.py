"""The service's settings, as one typed object: what every process is configured with, and each default.

:func:`dayclose.config.load_settings` reads them from the environment, once, and checks each; everything else takes
a :class:`Settings` and checks nothing again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from exporters.bl.config import BLConfig
from service.secrets import Secret
from storage.connections import ConnectionLimits

KEY_ENCRYPTION_KEY = "DAYCLOSE_KEY_ENCRYPTION_KEY"
API_TOKENS = "DAYCLOSE_API_TOKENS"


class ConfigError(ValueError):
    """Settings are missing or malformed: ``problems`` has one line per bad variable, naming it, never its value
    when the variable is a secret."""

    def __init__(self, problems: str | Sequence[str]) -> None:
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        super().__init__("; ".join(self.problems))


@dataclass(frozen=True)
class KafkaSettings:
    bootstrap_servers: str
    group_id: str = "dayclose"
    sales_topic: str = "pos.sales.v1"
    commands_topic: str = "backoffice.dayclose-commands.v1"
    outcomes_topic: str = "dayclose.outcomes.v1"
    dead_letter_topic: str = "dayclose.dead-letter.v1"
    schema_registry_url: str | None = None
    #: A restarted consumer waits about this long for its partitions; lower it where restarts are frequent.
    session_timeout_ms: int = 45_000
    heartbeat_interval_ms: int = 3_000
    #: How often stored offsets (written only after their batch's commit) are sent to Kafka; librdkafka's
    #: default. Lower means less re-reading after a crash and a tighter "offsets committed" in benchmarks.
    auto_commit_interval_ms: int = 5_000
    security_protocol: str | None = None
    sasl_mechanism: str | None = None
    sasl_username: str | None = None
    sasl_password: Secret | None = None
    #: Compression of what the service produces (outcomes, dead letters, commands, replays). gzip is
    #: the strongest codec every Kafka client reads without an extra library (lz4, snappy and zstd need
    #: one in kafka-python, KafkaJS and others).
    compression: str = "gzip"
    #: A request to a broker unanswered this long fails and its connection is dropped (librdkafka's
    #: ``socket.timeout.ms``, whose default is 60 s): how long a broker that went silent goes unnoticed. TCP
    #: keepalives are on as well.
    socket_timeout_ms: int = 30_000

    @property
    def commands_group_id(self) -> str:
        """The commands topic's consumer group, apart from the sales topic's (``group_id``) so that each topic's
        partitions are balanced across the processes on their own (:mod:`dayclose.loops`)."""
        return f"{self.group_id}.commands"

    def client_config(self) -> dict[str, str]:
        """librdkafka settings shared by every client (producer, consumer) of the service."""
        conf = {
            "bootstrap.servers": self.bootstrap_servers,
            "socket.timeout.ms": str(self.socket_timeout_ms),
            "socket.keepalive.enable": "true",
        }
        if self.security_protocol:
            conf["security.protocol"] = self.security_protocol
        if self.sasl_mechanism:
            conf["sasl.mechanism"] = self.sasl_mechanism
        if self.sasl_username:
            conf["sasl.username"] = self.sasl_username
        if self.sasl_password:
            conf["sasl.password"] = self.sasl_password.reveal()
        return conf

    def producer_config(self) -> dict[str, str]:
        """:meth:`client_config` plus what every producer of the service shares."""
        return {**self.client_config(), "compression.type": self.compression}


@dataclass(frozen=True)
class Settings:
    database_url: str
    kafka: KafkaSettings
    bl: BLConfig
    #: ``DAYCLOSE_KEY_ENCRYPTION_KEY``: Fernet keys, comma-separated, newest first (:class:`dayclose.keys.KeyVault`);
    #: required by the processes that handle merchants' keys (``load_settings(needs=…)``, :attr:`kek`).
    key_encryption_key: Secret | None = None
    #: ``DAYCLOSE_API_TOKENS`` entries, ``<kid>:<secret>`` (:func:`backoffice.signing_keys.api_signing_keys`).
    api_tokens: tuple[Secret, ...] = ()
    log_format: str = "auto"  # auto | json | console
    log_level: str = "INFO"
    http_port: int = 8080
    export_workers: int = 4
    migrate_on_start: bool = False
    #: How long a day close waits for late events before reporting RECONCILIATION_MISMATCH.
    reconcile_wait_s: float = 600.0
    #: How long after the end of its business day sales of a closed register-day wait for the register's next
    #: Z-report before they are booked without one (service/late_sales.py).
    late_sales_grace_s: float = 43_200.0
    #: First delay after a transient BL failure; doubles per attempt up to retry_backoff_max_s.
    retry_backoff_s: float = 5.0
    retry_backoff_max_s: float = 900.0
    #: Sales are kept this long after their business date (then purged by `dayclose purge`).
    sales_retention_days: int = 400
    #: The API refuses larger request bodies with 413 while they stream (the largest real body, an account
    #: plan, is a few kB).
    api_max_body_bytes: int = 256 * 1024
    #: A conflicting version of an event (its id seen before with other content) is dead-lettered and notified once
    #: per this window; its copies meanwhile are counted, not notified again.
    conflict_notice_window_s: float = 86_400.0
    #: The whole request body must arrive within this many seconds of the request (else 408, connection closed).
    api_body_timeout_s: float = 10.0
    #: Requests per second (refill) and at once (burst) the API takes per organization a valid token is for, per
    #: API process; more get 429 with Retry-After.
    api_rate_limit_per_s: float = 20.0
    api_rate_limit_burst: int = 100
    #: After SIGTERM the process exits within this many seconds, whatever state Kafka, PostgreSQL and BL
    #: are in; what is cut off is redone on restart (docs/runbook.md, "Stopping").
    shutdown_timeout_s: float = 30.0
    #: At start-up, how long ``dayclose run`` and ``dayclose api`` wait for PostgreSQL (and Kafka) to answer
    #: before they exit naming the setting to check (docs/runbook.md, "Start-up failures").
    startup_timeout_s: float = 30.0
    #: Swagger UI at ``/docs`` (served from our own assets, no CDN); off in production unless wanted.
    api_docs: bool = False
    #: ``dayclose api`` also serves the reference BackOffice card under ``/card/`` (docs/ui.md). Off unless asked
    #: for: on in the local stack and the demo, off in the chart's production values.
    card_enabled: bool = False
    #: How long a PostgreSQL connection may go silent before it fails (``DAYCLOSE_DB_*``; the defaults and what
    #: each bounds: :class:`storage.connections.ConnectionLimits`).
    database_limits: ConnectionLimits = ConnectionLimits()
    #: ``dayclose run`` as this many consumer processes, supervised by the one started (:mod:`dayclose.supervisor`):
    #: one Python process ingests on one core at a time, so a pod with more cores runs more processes.
    consumer_processes: int = 1

    @property
    def kek(self) -> Secret:
        """The key-encryption key, for whatever reads or writes merchants' keys."""
        if self.key_encryption_key is None:
            raise ConfigError(f"missing required setting {KEY_ENCRYPTION_KEY}")
        return self.key_encryption_key

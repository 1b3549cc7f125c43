"""Start-up checks of what a process depends on, each failing with one line that names the setting to check.

``dayclose run`` and ``dayclose api`` (and the operators' commands) call these before they build anything: an
unreachable PostgreSQL or Kafka, or a topic that does not exist, stops the process with
:class:`DependencyUnavailable` (exit 69, EX_UNAVAILABLE) or :class:`dayclose.settings.ConfigError` (exit 78) and a
sentence, instead of minutes of retries and a driver's traceback. Nothing here prints a password: a database is
named by host, port and database name only.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

import psycopg
from confluent_kafka import KafkaException, Producer
from psycopg.conninfo import conninfo_to_dict

from dayclose.logs import get_logger, librdkafka_logger
from dayclose.settings import ConfigError, Settings

log = get_logger("dayclose.startup")


class DependencyUnavailable(RuntimeError):
    """A service this process needs did not answer; the message names it and the setting that points at it."""


def database_target(url: str) -> str:
    """``host:port/dbname`` of a connection string, without user or password."""
    try:
        parts: Mapping[str, Any] = conninfo_to_dict(url)
    except psycopg.ProgrammingError:
        return "(unparsable DATABASE_URL)"
    host = parts.get("host") or parts.get("hostaddr") or "localhost"
    return f"{host}:{parts.get('port') or 5432}/{parts.get('dbname') or ''}"


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def wait_for_database(
    url: str,
    timeout_s: float,
    *,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> None:
    """Connect until PostgreSQL answers or ``timeout_s`` passes (a pod may start a moment before its database)."""
    deadline = clock() + timeout_s
    warned = False
    while True:
        remaining = deadline - clock()
        try:
            with psycopg.connect(url, connect_timeout=max(1, min(5, int(remaining)))) as conn:
                conn.execute("SELECT 1")
            return
        except psycopg.OperationalError as exc:
            reason = _first_line(exc)
        if clock() + 1 >= deadline:
            raise DependencyUnavailable(
                f"PostgreSQL at {database_target(url)} did not answer within {timeout_s:g} s ({reason}): "
                "check DATABASE_URL, the database server and the network between them"
            )
        if not warned:
            log.warning("startup.waiting_for_database", database=database_target(url), error=reason)
            warned = True
        sleep(1.0)


def check_kafka(settings: Settings, timeout_s: float, *, consumed: bool = True) -> None:
    """The cluster answers and the topics this process reads exist (``consumed``: the sales and commands
    topics; a topic it only writes to may be created by the broker on first use)."""
    kafka = settings.kafka
    client = Producer({**kafka.client_config(), "logger": librdkafka_logger(), "socket.timeout.ms": 10_000})
    try:
        metadata = client.list_topics(timeout=timeout_s)
    except KafkaException as exc:
        raise DependencyUnavailable(
            f"Kafka at {kafka.bootstrap_servers} did not answer within {timeout_s:g} s ({exc.args[0].str()}): "
            "check KAFKA_BOOTSTRAP_SERVERS (and KAFKA_SECURITY_PROTOCOL, KAFKA_SASL_* when the cluster needs them)"
        ) from None
    if not consumed:
        return
    wanted = {"DAYCLOSE_SALES_TOPIC": kafka.sales_topic, "DAYCLOSE_COMMANDS_TOPIC": kafka.commands_topic}
    missing = [
        f"topic {topic!r} ({name}) does not exist on {kafka.bootstrap_servers}: create it, or correct {name}"
        for name, topic in wanted.items()
        if topic not in metadata.topics or metadata.topics[topic].error is not None
    ]
    if missing:
        raise ConfigError(missing)

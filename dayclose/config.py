"""The settings (:mod:`dayclose.settings`) read once from the environment, failing fast with every bad setting's name.

Everything is validated here, once: required settings, numbers and choices, the key-encryption key (a
list of Fernet keys), the API's signing keys, and the BL client's settings, whose defaults live in one place
(:class:`exporters.bl.config.BLConfig`). The composition root (:mod:`dayclose.bootstrap`) builds adapters
from a :class:`Settings` and checks nothing again.

Every problem is collected before anything is raised, so an operator fixing a deployment sees all of them at
once (:class:`ConfigError` ``.problems``, one line each; the CLI prints them and exits 78, EX_CONFIG). The
readers below (``_get``, ``_require``, ``_parse``) take the environment first and the variable's name second:
a test reads every name from these calls to check the Helm chart maps the settings one to one.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import TypeVar

from backoffice.signing_keys import ApiSigningKey, api_signing_keys
from dayclose.keys import KeyVault, KeyVaultError
from dayclose.settings import API_TOKENS, KEY_ENCRYPTION_KEY, ConfigError, KafkaSettings, Settings
from exporters.bl.config import BLConfig
from service.secrets import Secret
from storage.connections import ConnectionLimits

T = TypeVar("T")


class _Environment(Mapping[str, str]):
    """The environment being read, and the problems found so far (recorded instead of raised)."""

    def __init__(self, env: Mapping[str, str]) -> None:
        self._env = env
        self.problems: list[str] = []

    def __getitem__(self, key: str) -> str:
        return self._env[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._env)

    def __len__(self) -> int:
        return len(self._env)


def _problem(env: Mapping[str, str], text: str) -> None:
    """Record a problem (raise it at once when reading a bare mapping outside :func:`load_settings`)."""
    if not isinstance(env, _Environment):
        raise ConfigError(text)
    if text not in env.problems:
        env.problems.append(text)


def _get(env: Mapping[str, str], name: str, default: str | None = None) -> str | None:
    value = env.get(name)
    if value is None or value.strip() == "":
        return default
    return value.strip()


def _require(env: Mapping[str, str], name: str) -> str:
    value = _get(env, name)
    if value is None:
        _problem(env, f"missing required setting {name}")
        return ""
    return value


def _parse(env: Mapping[str, str], name: str, default: T, parse: Callable[[str], T]) -> T:
    raw = _get(env, name)
    if raw is None:
        return default
    try:
        return parse(raw)
    except ValueError as exc:
        _problem(env, f"malformed setting {name}: {exc}")
        return default


def _positive_float(raw: str) -> float:
    value = float(raw)
    if not value > 0:
        raise ValueError("must be > 0")
    return value


def _non_negative_float(raw: str) -> float:
    value = float(raw)
    if not 0 <= value < 10**9:  # also refuses nan and inf
        raise ValueError("must be >= 0 and finite")
    return value


def _positive_int(raw: str) -> int:
    value = int(raw)
    if value <= 0:
        raise ValueError("must be > 0")
    return value


def _bool(raw: str) -> bool:
    lowered = raw.lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ValueError("expected true/false")


def _choice(*allowed: str) -> Callable[[str], str]:
    def parse(raw: str) -> str:
        if raw.lower() not in allowed:
            raise ValueError(f"expected one of {', '.join(allowed)}")
        return raw.lower()

    return parse


def _bl(env: Mapping[str, str]) -> BLConfig:
    """The BL client's settings; what the environment leaves out keeps :class:`BLConfig`'s default."""
    # A missing one is a recorded problem (load_settings raises): a placeholder keeps reading the others.
    client_id = _require(env, "BL_CLIENT_ID") or "unset"
    client_secret = Secret(_require(env, "BL_CLIENT_SECRET") or "unset")
    default = BLConfig(client_id, client_secret)
    return dataclasses.replace(
        default,
        base_url=_get(env, "BL_BASE_URL", default.base_url) or default.base_url,
        token_url=_get(env, "BL_TOKEN_URL", default.token_url) or default.token_url,
        timeout_s=_parse(env, "BL_TIMEOUT_SECONDS", default.timeout_s, _positive_float),
        max_requests_per_second=_parse(
            env, "BL_MAX_REQUESTS_PER_SECOND", default.max_requests_per_second, _positive_float
        ),
        max_requests_per_second_per_company=_parse(
            env,
            "BL_MAX_REQUESTS_PER_SECOND_PER_COMPANY",
            default.max_requests_per_second_per_company,
            _positive_float,
        ),
        preflight_ttl_s=_parse(env, "BL_PREFLIGHT_TTL_SECONDS", default.preflight_ttl_s, _positive_float),
        max_retries=_parse(env, "BL_MAX_RETRIES", default.max_retries, _positive_int),
        ambiguous_quiet_s=_parse(env, "BL_AMBIGUOUS_QUIET_SECONDS", default.ambiguous_quiet_s, _positive_float),
        connect_timeout_s=_parse(env, "BL_CONNECT_TIMEOUT_SECONDS", default.connect_timeout_s, _positive_float),
    )


def _database_limits(env: Mapping[str, str]) -> ConnectionLimits:
    """The PostgreSQL connection limits; what the environment leaves out keeps :class:`ConnectionLimits`'s default."""
    d = ConnectionLimits()
    return ConnectionLimits(
        connect_timeout_s=_parse(env, "DAYCLOSE_DB_CONNECT_TIMEOUT_SECONDS", d.connect_timeout_s, _positive_int),
        keepalives_idle_s=_parse(env, "DAYCLOSE_DB_KEEPALIVES_IDLE_SECONDS", d.keepalives_idle_s, _positive_int),
        keepalives_interval_s=_parse(
            env, "DAYCLOSE_DB_KEEPALIVES_INTERVAL_SECONDS", d.keepalives_interval_s, _positive_int
        ),
        keepalives_count=_parse(env, "DAYCLOSE_DB_KEEPALIVES_COUNT", d.keepalives_count, _positive_int),
        tcp_user_timeout_s=_parse(env, "DAYCLOSE_DB_TCP_USER_TIMEOUT_SECONDS", d.tcp_user_timeout_s, _positive_float),
        statement_timeout_s=_parse(
            env, "DAYCLOSE_DB_STATEMENT_TIMEOUT_SECONDS", d.statement_timeout_s, _positive_float
        ),
        pool_timeout_s=_parse(env, "DAYCLOSE_DB_POOL_TIMEOUT_SECONDS", d.pool_timeout_s, _positive_float),
    )


def _key_encryption_key(env: Mapping[str, str]) -> Secret | None:
    raw = _get(env, "DAYCLOSE_KEY_ENCRYPTION_KEY")
    if raw is None:
        return None
    try:
        KeyVault(Secret(raw))
    except KeyVaultError:
        _problem(env, f"malformed setting {KEY_ENCRYPTION_KEY}: not a list of Fernet keys")
        return None
    return Secret(raw)


def _api_tokens(env: Mapping[str, str]) -> tuple[Secret, ...]:
    tokens = _get(env, "DAYCLOSE_API_TOKENS")
    api_tokens = tuple(Secret(t.strip()) for t in tokens.split(",") if t.strip()) if tokens else ()
    try:
        api_signing_keys(api_tokens)
    except ValueError as exc:
        _problem(env, f"malformed setting DAYCLOSE_API_TOKENS: {exc}")
        return ()
    return api_tokens


def _kafka(env: Mapping[str, str]) -> KafkaSettings:
    """Kafka's settings: the brokers, topics, group, timeouts, security and compression."""
    sasl_password = _get(env, "KAFKA_SASL_PASSWORD")
    return KafkaSettings(
        bootstrap_servers=_require(env, "KAFKA_BOOTSTRAP_SERVERS"),
        group_id=_get(env, "DAYCLOSE_KAFKA_GROUP_ID", "dayclose") or "dayclose",
        sales_topic=_get(env, "DAYCLOSE_SALES_TOPIC", KafkaSettings.sales_topic) or "",
        commands_topic=_get(env, "DAYCLOSE_COMMANDS_TOPIC", KafkaSettings.commands_topic) or "",
        outcomes_topic=_get(env, "DAYCLOSE_OUTCOMES_TOPIC", KafkaSettings.outcomes_topic) or "",
        dead_letter_topic=_get(env, "DAYCLOSE_DEAD_LETTER_TOPIC", KafkaSettings.dead_letter_topic) or "",
        schema_registry_url=_get(env, "SCHEMA_REGISTRY_URL"),
        session_timeout_ms=_parse(env, "KAFKA_SESSION_TIMEOUT_MS", 45_000, _positive_int),
        heartbeat_interval_ms=_parse(env, "KAFKA_HEARTBEAT_INTERVAL_MS", 3_000, _positive_int),
        auto_commit_interval_ms=_parse(env, "KAFKA_AUTO_COMMIT_INTERVAL_MS", 5_000, _positive_int),
        security_protocol=_get(env, "KAFKA_SECURITY_PROTOCOL"),
        sasl_mechanism=_get(env, "KAFKA_SASL_MECHANISM"),
        sasl_username=_get(env, "KAFKA_SASL_USERNAME"),
        sasl_password=Secret(sasl_password) if sasl_password else None,
        compression=_parse(
            env,
            "DAYCLOSE_KAFKA_COMPRESSION",
            KafkaSettings.compression,
            _choice("none", "gzip", "snappy", "lz4", "zstd"),
        ),
        socket_timeout_ms=_parse(env, "KAFKA_SOCKET_TIMEOUT_MS", KafkaSettings.socket_timeout_ms, _positive_int),
    )


def load_settings(env: Mapping[str, str] | None = None, *, needs: Iterable[str] = ()) -> Settings:
    """Read every setting once. Raises :class:`ConfigError` listing every bad variable. ``needs`` names
    optional settings this process cannot run without (``dayclose run``: the key-encryption key; ``dayclose
    api``: that and the API's signing keys)."""
    env = _Environment(os.environ if env is None else env)
    kafka = _kafka(env)
    settings = Settings(
        database_url=_require(env, "DATABASE_URL"),
        kafka=kafka,
        bl=_bl(env),
        key_encryption_key=_key_encryption_key(env),
        api_tokens=_api_tokens(env),
        log_format=_parse(env, "DAYCLOSE_LOG_FORMAT", "auto", _choice("auto", "json", "console")),
        log_level=_parse(env, "DAYCLOSE_LOG_LEVEL", "INFO", _choice("debug", "info", "warning", "error")).upper(),
        http_port=_parse(env, "DAYCLOSE_HTTP_PORT", 8080, _positive_int),
        export_workers=_parse(env, "DAYCLOSE_EXPORT_WORKERS", 4, _positive_int),
        migrate_on_start=_parse(env, "DAYCLOSE_MIGRATE_ON_START", False, _bool),
        reconcile_wait_s=_parse(env, "DAYCLOSE_RECONCILE_WAIT_SECONDS", 600.0, _positive_float),
        late_sales_grace_s=_parse(env, "DAYCLOSE_LATE_SALES_GRACE_SECONDS", 43_200.0, _non_negative_float),
        retry_backoff_s=_parse(env, "DAYCLOSE_RETRY_BACKOFF_SECONDS", 5.0, _positive_float),
        retry_backoff_max_s=_parse(env, "DAYCLOSE_RETRY_BACKOFF_MAX_SECONDS", 900.0, _positive_float),
        sales_retention_days=_parse(env, "DAYCLOSE_SALES_RETENTION_DAYS", 400, _positive_int),
        api_max_body_bytes=_parse(env, "DAYCLOSE_API_MAX_BODY_BYTES", Settings.api_max_body_bytes, _positive_int),
        api_body_timeout_s=_parse(
            env, "DAYCLOSE_API_BODY_TIMEOUT_SECONDS", Settings.api_body_timeout_s, _positive_float
        ),
        api_rate_limit_per_s=_parse(
            env, "DAYCLOSE_API_RATE_LIMIT_PER_SECOND", Settings.api_rate_limit_per_s, _positive_float
        ),
        api_rate_limit_burst=_parse(env, "DAYCLOSE_API_RATE_LIMIT_BURST", Settings.api_rate_limit_burst, _positive_int),
        conflict_notice_window_s=_parse(
            env, "DAYCLOSE_CONFLICT_NOTICE_WINDOW_SECONDS", Settings.conflict_notice_window_s, _non_negative_float
        ),
        shutdown_timeout_s=_parse(env, "DAYCLOSE_SHUTDOWN_TIMEOUT_SECONDS", 30.0, _positive_float),
        startup_timeout_s=_parse(env, "DAYCLOSE_STARTUP_TIMEOUT_SECONDS", 30.0, _positive_float),
        api_docs=_parse(env, "DAYCLOSE_API_DOCS", False, _bool),
        card_enabled=_parse(env, "DAYCLOSE_CARD_ENABLED", False, _bool),
        database_limits=_database_limits(env),
        consumer_processes=_parse(env, "DAYCLOSE_CONSUMER_PROCESSES", 1, _positive_int),
    )
    for name in needs:  # after the settings every process needs, which are named first
        _require(env, name)
    if env.problems:
        raise ConfigError(env.problems)
    return settings


def api_signing_keys_from_env(env: Mapping[str, str] | None = None) -> tuple[ApiSigningKey, ...]:
    """Only ``DAYCLOSE_API_TOKENS``, required, as keys (``dayclose token`` needs nothing else). Raises
    :class:`ConfigError` when it is missing or malformed."""
    checked = _Environment(os.environ if env is None else env)
    _require(checked, API_TOKENS)
    tokens = _api_tokens(checked)
    if checked.problems:
        raise ConfigError(checked.problems)
    return api_signing_keys(tokens)

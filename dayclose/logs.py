"""structlog set-up: JSON when not on a TTY, pretty on a terminal; stdlib and librdkafka routed through it.

A redaction processor runs last before rendering, so a secret passed to a log call by mistake
comes out masked whatever the call site did.

librdkafka's own lines (every Kafka client of the service passes :func:`librdkafka_logger` as its ``logger``)
come out as ``kafka.client_log`` events with their ``facility``, ``client`` and ``message``, and are rate-limited
per level and facility (:class:`RateLimit`): an unreachable broker, which librdkafka reports several times a
second per connection, costs a few lines a minute, the first of each minute saying how many were dropped.
"""

from __future__ import annotations

import logging
import re
import sys
import threading
import time
from collections.abc import Callable, Mapping, MutableMapping
from dataclasses import dataclass
from typing import Any, TextIO

import structlog

from service.secrets import Secret

#: Keys whose values are always masked, wherever they appear in an event dict.
SENSITIVE_KEYS = re.compile(
    r"(secret|password|passwd|token|authorization|user[-_]?key|public[-_]?key|api[-_]?key|bl_key|cookie)",
    re.IGNORECASE,
)
#: Values that look like credentials are masked even under innocent keys.
_BEARER = re.compile(r"(Bearer\s+)[A-Za-z0-9._~+/=-]+", re.IGNORECASE)
_GUID = re.compile(r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b")
_URL_PASSWORD = re.compile(r"(\b[a-z][a-z0-9+.-]*://[^:/@\s]+:)[^@\s]+(@)", re.IGNORECASE)
_SECRET_PARAM = re.compile(r"((?:client_secret|access_token|password)=)[^&\s]+", re.IGNORECASE)
REDACTED = "[redacted]"

#: Keys carrying identifiers we mint ourselves (export ids, request ids) are GUIDs but not secrets.
_SAFE_GUID_KEYS = frozenset({"export_id", "request_id", "event_id", "receipt_id", "organization_id"})


def _scrub_text(text: str, key: str) -> str:
    text = _BEARER.sub(r"\1" + REDACTED, text)
    text = _SECRET_PARAM.sub(r"\1" + REDACTED, text)
    text = _URL_PASSWORD.sub(r"\1" + REDACTED + r"\2", text)
    if key not in _SAFE_GUID_KEYS:
        text = _GUID.sub(REDACTED, text)
    return text


def _scrub(value: Any, key: str) -> Any:
    if isinstance(value, Secret):
        return REDACTED
    if isinstance(value, str):
        return _scrub_text(value, key)
    if isinstance(value, dict):
        return {k: (REDACTED if SENSITIVE_KEYS.search(str(k)) else _scrub(v, str(k))) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_scrub(v, key) for v in value)
    return value


def redact(_logger: Any, _method: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """structlog processor: mask sensitive keys, Secret objects, bearer tokens and GUID-shaped keys."""
    for key in list(event_dict.keys()):
        if SENSITIVE_KEYS.search(key):
            event_dict[key] = REDACTED
        else:
            event_dict[key] = _scrub(event_dict[key], key)
    return event_dict


LIBRDKAFKA_LOGGER = "librdkafka"


@dataclass
class _Window:
    started: float
    passed: int = 0
    dropped: int = 0


class RateLimit(logging.Filter):
    """Lets through at most ``burst`` records per key (level and librdkafka facility) every ``period_s``; the first
    record let through after a window that dropped some carries ``suppressed`` (how many were dropped)."""

    def __init__(self, burst: int = 5, period_s: float = 60.0, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self.burst, self.period_s, self.clock = burst, period_s, clock
        self._windows: dict[tuple[int, str], _Window] = {}
        self._lock = threading.Lock()

    def filter(self, record: logging.LogRecord) -> bool:
        key = (record.levelno, _facility(record))
        now = self.clock()
        with self._lock:
            window = self._windows.get(key)
            if window is None or now - window.started >= self.period_s:
                dropped = window.dropped if window is not None else 0
                window = self._windows[key] = _Window(now)
                if dropped:
                    record.suppressed = dropped
            if window.passed < self.burst:
                window.passed += 1
                return True
            window.dropped += 1
            return False


def _facility(record: logging.LogRecord) -> str:
    """confluent-kafka logs ``("%s [%s] %s", facility, client name, message)``."""
    args = record.args
    return str(args[0]) if isinstance(args, tuple) and len(args) == 3 else ""


def _kafka_fields(_logger: Any, _method: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """A librdkafka record as a structured event: ``kafka.client_log`` with facility, client and message (the
    formatter passes a foreign record's arguments as ``positional_args``; no other record keeps them)."""
    args = event_dict.pop("positional_args", None)
    record = event_dict.get("_record")
    if record is not None and record.name == LIBRDKAFKA_LOGGER:
        if isinstance(args, tuple) and len(args) == 3:
            event_dict.update(event="kafka.client_log", facility=args[0], client=args[1], message=str(args[2]))
        suppressed = getattr(record, "suppressed", 0)
        if suppressed:
            event_dict["suppressed"] = suppressed
    return event_dict


def configure_logging(
    level: str = "INFO", fmt: str = "auto", stream: TextIO | None = None, fields: Mapping[str, Any] | None = None
) -> None:
    """Configure structlog and the stdlib root logger once for the whole process; ``fields`` go on every line of it,
    whichever thread logs (e.g. which of a pod's consumer processes it is)."""
    stream = sys.stderr if stream is None else stream
    use_json = fmt == "json" or (fmt == "auto" and not stream.isatty())
    shared: list[Any] = [
        _with_fields(dict(fields or {})),
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.format_exc_info,
    ]
    renderer: Any = structlog.processors.JSONRenderer() if use_json else structlog.dev.ConsoleRenderer(colors=False)
    # In place, as structlog's own capture_logs does: a logger already used (cache_logger_on_first_use) keeps a
    # reference to this list, and must see the chain configured now, not the one of an earlier call.
    processors = structlog.get_config()["processors"]
    processors[:] = [*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter]
    structlog.configure(
        processors=processors,
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[_kafka_fields, *shared],
        pass_foreign_args=True,
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, redact, renderer],
    )
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # Third-party chatter stays at warning unless we are debugging.
    for noisy in ("urllib3", "kafka", LIBRDKAFKA_LOGGER):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
    kafka = logging.getLogger(LIBRDKAFKA_LOGGER)
    kafka.filters[:] = [f for f in kafka.filters if not isinstance(f, RateLimit)]
    kafka.addFilter(RateLimit())


def kafka_error_logger(client: str, limit: RateLimit | None = None) -> Callable[[Any], None]:
    """A confluent-kafka ``error_cb`` logging each client-level error (a broker that stopped answering, a request
    timed out, every broker down) as ``kafka.client_error``: librdkafka retries them itself, so without this a Kafka
    outage leaves no line in our log (#24). Rate-limited per error code like librdkafka's own lines (#25): an
    unreachable cluster reports the same error for every broker, every few seconds."""
    log = structlog.get_logger("dayclose.kafka")
    limit = limit if limit is not None else RateLimit()

    def on_error(error: Any) -> None:
        code = error.name() if hasattr(error, "name") else str(error)
        key = logging.LogRecord(LIBRDKAFKA_LOGGER, logging.WARNING, "", 0, "%s [%s] %s", (code, client, ""), None)
        if not limit.filter(key):
            return
        log.warning(
            "kafka.client_error",
            client=client,
            code=code,
            reason=error.str() if hasattr(error, "str") else str(error),
            fatal=bool(error.fatal()) if hasattr(error, "fatal") else False,
            suppressed=getattr(key, "suppressed", 0),
        )

    return on_error


def _with_fields(fields: dict[str, Any]) -> Any:
    def add(_logger: Any, _method: str, event_dict: Any) -> Any:
        for key, value in fields.items():
            event_dict.setdefault(key, value)
        return event_dict

    return add


def librdkafka_logger() -> logging.Logger:
    """The stdlib logger to pass as confluent-kafka's ``logger`` config so librdkafka logs via structlog."""
    return logging.getLogger(LIBRDKAFKA_LOGGER)


def get_logger(name: str | None = None) -> Any:
    return structlog.get_logger(name)

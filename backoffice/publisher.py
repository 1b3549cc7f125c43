"""Publishing BackOffice commands (schemas/command.avsc) to the commands topic."""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime
from typing import Any, Protocol

import schemas
from consumer.codec import AvroCodec, SchemaRegistry
from dayclose.config import KafkaSettings

MANUAL_EXPORT = "dayclose.backoffice.v1.ManualExportRequested"


class PublishError(RuntimeError):
    pass


class CommandPublisher(Protocol):
    def publish(self, record: dict[str, Any]) -> None:
        """Deliver one command record durably (acked by the cluster) or raise :class:`PublishError`."""
        ...


def manual_export_command(request_id: uuid.UUID, organization_id: str, store_id: str | None,
                          requested_by: str | None, now: datetime | None = None) -> dict[str, Any]:
    return {
        "command_id": str(request_id),
        "organization_id": organization_id,
        "requested_at": now or datetime.now(UTC),
        "requested_by": requested_by,
        "payload": (MANUAL_EXPORT, {"store_id": store_id}),
    }


class KafkaCommandPublisher:
    """An idempotent producer (no duplicates from its own retries, per-partition order kept), keyed by
    organization so one merchant's commands stay in order. ``publish`` waits for the broker's ack."""

    def __init__(self, kafka: KafkaSettings, registry: SchemaRegistry | None = None, timeout_s: float = 10.0) -> None:
        self._config = {**kafka.producer_config(), "enable.idempotence": True, "acks": "all", "linger.ms": 0}
        self._codec = AvroCodec(schemas.COMMAND, kafka.commands_topic, registry)
        self._timeout_s = timeout_s
        self._producer: Any = None
        self._lock = threading.Lock()

    def _get(self) -> Any:
        with self._lock:
            if self._producer is None:
                from confluent_kafka import Producer

                self._producer = Producer(self._config)
            return self._producer

    def publish(self, record: dict[str, Any]) -> None:
        producer = self._get()
        errors: list[Any] = []
        delivered = threading.Event()

        def on_delivery(err: Any, _msg: Any) -> None:
            if err is not None:
                errors.append(err)
            delivered.set()

        try:
            producer.produce(self._codec.topic, key=record["organization_id"].encode(),
                             value=self._codec.encode(record), on_delivery=on_delivery)
        except BufferError as exc:
            raise PublishError(f"producer queue full: {exc}") from None
        producer.flush(self._timeout_s)
        if not delivered.is_set():
            raise PublishError(f"command not acknowledged within {self._timeout_s} s")
        if errors:
            raise PublishError(f"command not delivered: {errors[0]}")

    def close(self) -> None:
        with self._lock:
            if self._producer is not None:
                self._producer.flush(self._timeout_s)
                self._producer = None

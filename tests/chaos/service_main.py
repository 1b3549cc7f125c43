"""``dayclose run`` for the fault suite, with one test-only change: a short Kafka session timeout.

The service's consumer uses librdkafka's default ``session.timeout.ms`` (45 s), and no setting exposes
it; after a SIGKILL the restarted consumer would wait ~44 s for its partitions, so 100 kills would take
over an hour. Until a ``KAFKA_SESSION_TIMEOUT_MS``-style setting exists, this wrapper adds it from
``CHAOS_KAFKA_SESSION_TIMEOUT_MS`` and runs the unchanged ``consumer.service.main``.
"""

from __future__ import annotations

import os
import sys
from typing import Any

from consumer import service
from dayclose.config import Settings

_production_config = service.consumer_config


def _consumer_config(settings: Settings) -> dict[str, Any]:
    timeout_ms = int(os.environ.get("CHAOS_KAFKA_SESSION_TIMEOUT_MS", "6000"))
    return {**_production_config(settings), "session.timeout.ms": timeout_ms,
            "heartbeat.interval.ms": max(100, timeout_ms // 10)}


service.consumer_config = _consumer_config  # type: ignore[assignment]

if __name__ == "__main__":
    sys.exit(service.main())

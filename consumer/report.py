"""What a committed batch did, told once: one summary line, one line per day close and command (per receipt at
debug), and the ingest metrics."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import Any

import structlog

from consumer import metrics
from consumer.ingest import BatchResult, Decoded
from consumer.kafka_types import MessageLike
from service.messages import DayClosed, SalesEnvelope

log = structlog.get_logger("dayclose.consumer")


def report_batch(messages: Sequence[MessageLike], decoded: Decoded, result: BatchResult, started: float) -> None:
    log.info(
        "batch.ingested",
        messages=len(messages),
        new=result.new_events,
        duplicates=result.duplicates,
        jobs=result.jobs,
        commands=result.commands,
        dead_letters=result.dead_letters,
        took_ms=round((time.monotonic() - started) * 1000, 1),
    )
    _log_messages(decoded)
    metrics.batch_ingested(
        decoded.sales, decoded.commands, [p.code for p in decoded.poison], result.duplicates, result.conflicts
    )


def _log_messages(decoded: Decoded) -> None:
    """One line per handled message: day closes and commands at info, the many receipts at debug."""
    verbose = logging.getLogger("dayclose.consumer").isEnabledFor(logging.DEBUG)
    for msg, obj in decoded.handled:
        if not verbose and isinstance(obj, SalesEnvelope) and not isinstance(obj.item, DayClosed):
            continue  # checked first: this runs for every receipt
        context: dict[str, Any] = {
            "topic": msg.topic(),
            "partition": msg.partition(),
            "offset": msg.offset(),
            "organization_id": obj.organization_id,
        }
        if isinstance(obj, SalesEnvelope):
            context.update(
                kind=obj.kind, store_id=obj.store_id, business_date=str(obj.business_date), event_key=obj.event_key
            )
            (log.info if isinstance(obj.item, DayClosed) else log.debug)("message.handled", **context)
        else:
            context.update(kind=type(obj).__name__, store_id=obj.store_id, command_id=obj.command_id)
            log.info("message.handled", **context)

"""Record a sales batch over one connection as the Kafka ingest does: storage stores it, the service's handler
(:func:`service.sales.record_sales`, through the bus) queues the jobs it asks for (day closes, late sales). For tests
that seed a database with days to export without a consumer (the caller commits)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import psycopg

from service import bus
from service.messages import SalesEnvelope
from service.sales import RecordSales, SalesRecorded
from storage.uow import OnConnection


def record(conn: psycopg.Connection[Any], envelopes: Sequence[SalesEnvelope]) -> SalesRecorded:
    return bus.handle(OnConnection(conn), RecordSales(envelopes))

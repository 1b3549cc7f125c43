"""Record a sales batch over one connection as the Kafka ingest does: storage stores it, the service's handler
(:func:`service.sales.record_sales`) queues the jobs it asks for (day closes, late sales). For tests that seed a
database with days to export without a consumer (the caller commits)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import psycopg

from service.messages import SalesEnvelope
from service.sales import RecordSales, SalesRecorded, record_sales
from storage.jobs import PostgresJobs
from storage.sales import PostgresSales


@dataclass(frozen=True)
class ConnectionWork:
    """The two repositories recording sales uses, over one connection (its transaction is the caller's)."""

    sales: PostgresSales
    jobs: PostgresJobs


def record(conn: psycopg.Connection[Any], envelopes: Sequence[SalesEnvelope]) -> SalesRecorded:
    return record_sales(ConnectionWork(PostgresSales(conn), PostgresJobs(conn)), RecordSales(envelopes))

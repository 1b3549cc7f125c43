"""What one day close's export costs in CPU, in the worker and in PostgreSQL, on one pooled connection (issue #27): at a
midnight on this rig the node's two cores bound the rate, so CPU per booked day is the midnight's figure.

    python -m bench.export_cost [--days 200] [--warm 20]

Days of 20 receipts, each closed in a store of its own, are exported one job after another by ``run_next_job`` over a
pool of one connection, against the BL stand-in (no latency). The same days are run twice: once over the pools'
connection class (:class:`storage.prepared.Connection`: prepared statements kept across rollbacks) and once over
psycopg's own (what a user gets by default: it forgets them at every rollback). The first ``--warm`` jobs of each are
not counted. Printed per booked day: the worker thread's CPU, and the PostgreSQL backend's (user + system from
``/proc``, which other load does not inflate the way wall time would).
"""

from __future__ import annotations

import argparse
import time
from datetime import date
from pathlib import Path
from typing import Any

import psycopg
from psycopg_pool import ConnectionPool

from bench.pod import cpu_seconds
from bench.stack import Stack, local_stack
from consumer.events import AvroEvents
from consumer.records import sales_envelope
from dayclose.keys import KeyVault
from dayclose.logs import configure_logging
from devstack import sampledata
from exporters.bl import BLExporter
from exporters.bl.config import BLConfig
from exporters.reporting import PdfDayReports
from service import bus
from service.deps import ExportDeps
from service.jobs import run_next_job
from service.lifecycle import ExportPolicy
from service.model import IntegrationStatus
from service.sales import RecordSales
from service.secrets import Secret
from storage.codecs import plan_from_json
from storage.exports import LEASE_PREFIX
from storage.integrations import PostgresIntegrations
from storage.prepared import Connection
from storage.uow import OnConnection, unit_of_work

DAY = date(2026, 11, 25)


def _setup(stack: Stack, url: str, org: str, vault: KeyVault, days: int) -> None:
    with psycopg.connect(url) as conn:
        integrations = PostgresIntegrations(conn, vault)
        integrations.save(org, user_key=Secret(stack.company.user_key), status=IntegrationStatus.ACTIVE, start_date=DAY)
        integrations.save_plan(plan_from_json(org, sampledata.SAMPLE_PLAN))
        conn.commit()
        for i in range(days):
            day = sampledata.store_day(org, f"s{i}", DAY, 20, seed=i)
            # As the Kafka ingest records a batch: the rows, and the day close's job.
            bus.handle(OnConnection(conn), RecordSales([sales_envelope(r) for r in [*day.events(), day.day_closed()]]))
            conn.commit()


def measure(stack: Stack, connection_class: type[psycopg.Connection[Any]], days: int, warm: int) -> tuple[float, float]:
    """(worker CPU ms, PostgreSQL CPU ms) per booked day over ``days - warm`` jobs."""
    url = stack.database()
    vault = KeyVault(Secret(KeyVault.generate_key()))
    org = f"org-cost-{connection_class.__module__.split('.')[0]}"
    _setup(stack, url, org, vault, days)
    bl = BLConfig(
        base_url=stack.bl.base_url,
        token_url=stack.bl.token_url,
        client_id=stack.bl.client_id,
        client_secret=Secret(stack.bl.client_secret),
        max_requests_per_second=10_000.0,
        max_requests_per_second_per_company=10_000.0,
    )
    pool: ConnectionPool[Any] = ConnectionPool(
        url,
        connection_class=connection_class,
        min_size=1,
        max_size=1,
        open=True,
        kwargs={"application_name": f"{LEASE_PREFIX}export-cost"},
    )
    exporter = BLExporter(bl)
    try:
        deps = ExportDeps(
            unit_of_work(pool, vault, AvroEvents("outcomes", "dlq", "commands")),
            exporter,
            PdfDayReports(),
            ExportPolicy(),
            today=lambda: DAY,
            instance="export-cost",
        )
        with pool.connection() as conn:
            backend = Path(f"/proc/{conn.info.backend_pid}/stat")
        for _ in range(warm):
            run_next_job(deps)
        mine, server, booked = time.thread_time(), cpu_seconds(backend), days - warm
        for _ in range(booked):
            if not run_next_job(deps):
                raise RuntimeError("a job was missing")
        return (time.thread_time() - mine) / booked * 1e3, (cpu_seconds(backend) - server) / booked * 1e3
    finally:
        exporter.close()
        pool.close()
        stack.drop(url)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.export_cost", description=__doc__)
    parser.add_argument("--days", type=int, default=200)
    parser.add_argument("--warm", type=int, default=20)
    args = parser.parse_args(argv)
    configure_logging("WARNING", "console")  # the jobs' lines would bury the figures
    with local_stack() as stack:
        print(
            f"{args.days - args.warm} day closes exported one after another on one connection; CPU ms per booked day:"
        )
        for name, cls in (
            ("storage.prepared.Connection (the pools')", Connection),
            ("psycopg.Connection (psycopg's own)", psycopg.Connection),
        ):
            worker, postgres = measure(stack, cls, args.days, args.warm)
            print(
                f"  {name:42s} worker {worker:5.1f}  PostgreSQL {postgres:5.1f}  both {worker + postgres:5.1f}",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

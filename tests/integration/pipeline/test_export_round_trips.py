"""The day close's export is the midnight's other hot path: how many round trips to PostgreSQL one job costs, from its
lease to its end, counted on the wire (libpq's protocol trace: every ``Sync`` of the extended protocol and every
simple ``Query`` is one round trip; a ``COMMIT`` is one of them). On this rig PostgreSQL shares the node's cores with
the pod, so each round trip is CPU taken from booking (docs/performance.md, issue #27).

The path without faults: the job leased, the store's open work looked for, the integration and its plan read, the
day close reconciled and claimed, the voucher built, the export leased with its post recorded as attempted, the
post, the result with its audit record and outcome, the attach recorded as attempted, the attach, the document's
state, the job's end. The counts are exact; what commits when (and why each commit is needed) is in
docs/architecture.md.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date
from typing import Any

import psycopg
import pytest
from psycopg_pool import ConnectionPool

from consumer.events import AvroEvents
from consumer.records import sales_envelope
from dayclose.keys import KeyVault
from devstack import sampledata
from devstack.bl_standin import BLStandIn, Company
from exporters.bl import BLExporter
from exporters.reporting import PdfDayReports
from service.deps import ExportDeps
from service.jobs import run_next_job
from service.model import IntegrationStatus
from service.secrets import Secret
from storage.codecs import plan_from_json
from storage.exports import LEASE_PREFIX
from storage.integrations import PostgresIntegrations
from storage.uow import unit_of_work
from tests.integration.pipeline.conftest import FAST_POLICY
from tests.recording import record
from tests.wire import Wire

pytestmark = pytest.mark.integration
ORG = "org-trips"
DAY = date(2026, 11, 25)


@pytest.fixture
def exporting(
    database_url: str, bl_standin: BLStandIn, bl_company: Company, make_bl_exporter: Callable[..., BLExporter]
) -> Iterator[tuple[ExportDeps, psycopg.Connection[Any]]]:
    """The export's dependencies over a pool of one connection (every unit of work on it, so one trace sees all)."""
    vault = KeyVault(Secret(KeyVault.generate_key()))
    with psycopg.connect(database_url) as conn:
        integrations = PostgresIntegrations(conn, vault)
        integrations.save(ORG, user_key=Secret(bl_company.user_key), status=IntegrationStatus.ACTIVE, start_date=DAY)
        integrations.save_plan(plan_from_json(ORG, sampledata.SAMPLE_PLAN))
    instance = "trips"
    pool: ConnectionPool[Any] = ConnectionPool(
        database_url, min_size=1, max_size=1, open=True, kwargs={"application_name": f"{LEASE_PREFIX}{instance}"}
    )
    try:
        deps = ExportDeps(
            unit_of_work(pool, vault, AvroEvents("outcomes", "dlq", "commands")),
            make_bl_exporter(),
            PdfDayReports(),
            FAST_POLICY,
            today=lambda: DAY,
            instance=instance,
        )
        with pool.connection() as conn:
            pass  # the pool's one connection, traced while idle in the pool
        yield deps, conn
    finally:
        pool.close()


def close_day(database_url: str, store: str, receipts: int = 5) -> None:
    day = sampledata.store_day(ORG, store, DAY, receipts, seed=len(store))
    with psycopg.connect(database_url) as conn:
        record(conn, [sales_envelope(r) for r in [*day.events(), day.day_closed()]])


def test_a_day_close_s_export_costs_a_fixed_number_of_round_trips_and_commits(
    database_url: str, exporting: tuple[ExportDeps, psycopg.Connection[Any]], bl_standin: BLStandIn
) -> None:
    deps, conn = exporting
    close_day(database_url, "s1")
    run_next_job(deps)  # the first of the process: the pre-flight's facts fetched, kept for the company
    close_day(database_url, "s2")
    bl_standin.requests.clear()

    with Wire(conn) as wire:
        assert run_next_job(deps) is True

    # 90 and 13 since the fence (3 trips and a commit before each write to BL: a worker whose job was taken over
    # sends nothing); 84 and 11 before it.
    assert (len(wire.trips), wire.commits) == (90, 13), "\n".join(t[:120] for t in wire.trips)
    assert [(r.method, r.path.split("/")[-2]) for r in bl_standin.requests.all() if r.user_key] == [
        ("POST", "sp"),  # POST …/sp/journal
        ("POST", "JOURNAL"),  # POST …/document/attachto/JOURNAL/{entity id}
    ]
    with psycopg.connect(database_url) as check:
        assert check.execute("SELECT count(*) FROM export_jobs").fetchone() == (0,)
        assert check.execute("SELECT store_id, status, document_status FROM exports ORDER BY 1").fetchall() == [
            ("s1", "booked", "attached"),
            ("s2", "booked", "attached"),
        ]

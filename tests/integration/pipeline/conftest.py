"""The whole pipeline against real PostgreSQL, the Kafka mock cluster and the BL stand-in over HTTP."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date, timedelta
from typing import Any

import pytest

from devstack.bl_standin import BLStandIn, Company
from devstack.harness import Harness, Topics, make_settings
from devstack.kafka import KafkaCluster
from devstack.sampledata import SAMPLE_PLAN
from exporters.bl import BLExporter
from service.lifecycle import ExportPolicy

ORG = "org-cafe"
START = date(2026, 1, 1)
FAST_POLICY = ExportPolicy(
    reconcile_wait=timedelta(seconds=3),
    reconcile_retry=timedelta(milliseconds=200),
    transient_backoff_initial=timedelta(milliseconds=200),
    transient_backoff_max=timedelta(seconds=1),
)


@pytest.fixture
def make_pipeline(
    database_url: str,
    kafka_cluster: KafkaCluster,
    bl_standin: BLStandIn,
    bl_company: Company,
    make_bl_exporter: Callable[..., BLExporter],
) -> Iterator[Callable[..., Harness]]:
    made: list[Harness] = []
    topics = Topics.fresh(kafka_cluster.create_topic)
    group = f"dayclose-{topics.sales}"
    kek = None

    def make(
        *,
        activate: bool = True,
        plan: dict[str, Any] | None = None,
        start: bool = True,
        policy: ExportPolicy = FAST_POLICY,
        **exporter_overrides: Any,
    ) -> Harness:
        nonlocal kek
        settings = make_settings(database_url, kafka_cluster.bootstrap_servers, topics, group_id=group, kek=kek)
        kek = settings.key_encryption_key.reveal() if settings.key_encryption_key else None
        h = Harness(settings, topics, exporter=make_bl_exporter(**exporter_overrides), policy=policy)
        if activate and not made:
            h.activate(ORG, bl_company.user_key, plan or SAMPLE_PLAN, START)
        made.append(h)
        return h.start() if start else h

    yield make
    for h in made:
        h.close()


@pytest.fixture
def pipeline(make_pipeline: Callable[..., Harness]) -> Harness:
    return make_pipeline()


def a_closed_day(database_url: str, user_key: str, day: date, org: str = "o", store: str = "s1") -> Any:
    """An active merchant (the sample plan, a new key vault) with one store-day of 3 receipts and its Z-report
    recorded, its export job queued: what a worker's job books. Returns the vault its key is sealed with."""
    import psycopg

    from consumer.records import sales_envelope
    from dayclose.keys import KeyVault
    from devstack import sampledata
    from service.model import IntegrationStatus
    from service.secrets import Secret
    from storage.codecs import plan_from_json
    from storage.integrations import PostgresIntegrations
    from tests.recording import record

    vault = KeyVault(Secret(KeyVault.generate_key()))
    with psycopg.connect(database_url) as conn:
        integrations = PostgresIntegrations(conn, vault)
        integrations.save(org, user_key=Secret(user_key), status=IntegrationStatus.ACTIVE, start_date=day)
        integrations.save_plan(plan_from_json(org, sampledata.SAMPLE_PLAN))
        closed = sampledata.store_day(org, store, day, 3)
        record(conn, [sales_envelope(r) for r in [*closed.events(), closed.day_closed()]])
    return vault

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

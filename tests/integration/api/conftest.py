"""The BackOffice API against real PostgreSQL, the BL stand-in over HTTP and the Kafka mock cluster."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient
from psycopg_pool import ConnectionPool

from consumer.relay import OutboxRelay
from dayclose.bootstrap import units_of_work
from dayclose.bootstrap_api import build_api
from dayclose.settings import Settings
from devstack.bl_standin import BLStandIn
from devstack.harness import Harness, Topics, make_settings
from devstack.kafka import KafkaCluster
from exporters.bl import BLExporter
from service.lifecycle import ExportPolicy
from tests.tokens import SERVICE_TOKEN, bearer

FAST_POLICY = ExportPolicy(
    reconcile_wait=timedelta(seconds=3),
    reconcile_retry=timedelta(milliseconds=200),
    transient_backoff_initial=timedelta(milliseconds=200),
    transient_backoff_max=timedelta(seconds=1),
)


@dataclass
class Merchant:
    """One organization's view of the API, with a token scoped to it."""

    client: TestClient
    org: str

    @property
    def base(self) -> str:
        return f"/v1/organizations/{self.org}/bjorn-lunden"

    def headers(self) -> dict[str, str]:
        return bearer(self.org)

    def get(self, path: str = "", **kwargs: Any) -> Any:
        return self.client.get(self.base + path, headers=self.headers(), **kwargs)

    def put(self, path: str, body: Any) -> Any:
        return self.client.put(self.base + path, json=body, headers=self.headers())

    def post(self, path: str, body: Any = None) -> Any:
        return self.client.post(self.base + path, json=body, headers=self.headers())


@dataclass
class Api:
    settings: Settings
    topics: Topics
    client: TestClient
    pool: ConnectionPool[Any]

    def merchant(self, org: str) -> Merchant:
        return Merchant(self.client, org)

    def sql(self, query: str, *params: Any) -> list[tuple[Any, ...]]:
        with psycopg.connect(self.settings.database_url) as conn:
            return conn.execute(query, params).fetchall()  # type: ignore[arg-type]

    def relay_outbox(self) -> int:
        """Publish what the API wrote to the outbox (the consumer process's relay does this in production)."""
        relay = OutboxRelay(
            units_of_work(self.settings, self.pool, None),
            lambda _wake, _stop: threading.Thread(),
            self.settings.kafka.producer_config(),
        )
        sent = relay.publish_pending()
        relay.producer.flush(10)
        return sent

    def wait_sql(self, query: str, *params: Any, timeout: float = 20.0, what: str = "rows") -> list[tuple[Any, ...]]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            rows = self.sql(query, *params)
            if rows:
                return rows
            time.sleep(0.1)
        raise TimeoutError(f"timed out waiting for {what}")


@pytest.fixture
def api(
    database_url: str, kafka_cluster: KafkaCluster, bl_standin: BLStandIn, make_bl_exporter: Callable[..., BLExporter]
) -> Iterator[Api]:
    topics = Topics.fresh(kafka_cluster.create_topic, partitions=2)
    settings = replace(
        make_settings(
            database_url,
            kafka_cluster.bootstrap_servers,
            topics,
            bl_base_url=bl_standin.base_url,
            bl_token_url=bl_standin.token_url,
            bl_client_id=bl_standin.client_id,
            bl_client_secret=bl_standin.client_secret,
        ),
        api_tokens=(SERVICE_TOKEN,),
    )
    pool: ConnectionPool[Any] = ConnectionPool(database_url, min_size=1, max_size=6, open=True)
    app = build_api(settings, exporter=make_bl_exporter(), pool=pool)
    with TestClient(app) as client:
        yield Api(settings, topics, client, pool)
    pool.close()


@pytest.fixture
def pipeline(api: Api, make_bl_exporter: Callable[..., BLExporter]) -> Iterator[Harness]:
    """The consumer service on the same database and topics, as in production."""
    harness = Harness(api.settings, api.topics, exporter=make_bl_exporter(), policy=FAST_POLICY).start()
    yield harness
    harness.close()


def days_ago(n: int) -> date:
    from backoffice.context import stockholm_today

    return stockholm_today() - timedelta(days=n)


def set_up_active(api: Api, bl_standin: BLStandIn, org: str, org_number: str = "5560000001") -> tuple[Merchant, str]:
    """An organization through the wizard to active, with its BL company's key."""
    from devstack.sampledata import SAMPLE_PLAN

    company = bl_standin.register_company(name=f"{org} AB", org_number=org_number)
    m = api.merchant(org)
    for path, body in (
        ("/key", {"public_key": company.user_key}),
        ("/start-date", {"start_date": str(days_ago(3))}),
        ("/account-plan", SAMPLE_PLAN),
    ):
        r = m.put(path, body)
        assert r.status_code == 200, r.text
    r = m.post("/activation")
    assert r.status_code == 200, r.text
    return m, company.user_key

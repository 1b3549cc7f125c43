"""The card served by the API app (TestClient over HTTPS, so the Secure cookie travels), against real PostgreSQL and
the BL stand-in over HTTP."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from psycopg_pool import ConnectionPool

from dayclose.bootstrap_api import build_api
from devstack.bl_standin import BLStandIn
from devstack.harness import Topics, make_settings
from devstack.kafka import KafkaCluster
from exporters.bl import BLExporter
from tests.tokens import SERVICE_TOKEN, mint

CSRF = re.compile(r'name="csrf" value="([^"]+)"')


@dataclass
class Browser:
    """One signed-in merchant's cookie jar, as a browser holds it."""

    client: TestClient
    org: str

    @property
    def base(self) -> str:
        return f"/card/{self.org}"

    def get(self, path: str = "/", **kwargs: Any) -> httpx.Response:
        return self.client.get(self.base + path, **kwargs)

    def csrf(self, path: str = "/") -> str:
        found = CSRF.search(self.get(path).text)
        assert found, "no CSRF token on the page"
        return found.group(1)

    def post(self, path: str, data: dict[str, str], *, csrf: str | None = None, **kwargs: Any) -> httpx.Response:
        form = {"csrf": self.csrf() if csrf is None else csrf, **data}
        return self.client.post(self.base + path, data=form, follow_redirects=False, **kwargs)


@pytest.fixture
def card_client(
    database_url: str, kafka_cluster: KafkaCluster, bl_standin: BLStandIn, make_bl_exporter: Callable[..., BLExporter]
) -> Iterator[Callable[..., TestClient]]:
    topics = Topics.fresh(kafka_cluster.create_topic, partitions=1)
    settings = replace(
        make_settings(database_url, kafka_cluster.bootstrap_servers, topics),
        api_tokens=(SERVICE_TOKEN,),
        card_enabled=True,
    )
    pool: ConnectionPool[Any] = ConnectionPool(database_url, min_size=1, max_size=4, open=True)
    clients: list[TestClient] = []

    def make(enabled: bool = True) -> TestClient:
        app = build_api(replace(settings, card_enabled=enabled), exporter=make_bl_exporter(), pool=pool)
        client = TestClient(app, base_url="https://testserver")
        client.__enter__()
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)
    pool.close()


def sign_in(client: TestClient, org: str, **claims: Any) -> Browser:
    response = client.get("/card/signin", params={"token": mint(org, **claims)})
    assert response.status_code == 200 and response.url.path == f"/card/{org}/", response.text
    return Browser(client, org)

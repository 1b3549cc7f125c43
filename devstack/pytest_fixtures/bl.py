"""pytest fixtures for the BL stand-in and the production BL exporter pointed at it.

- ``bl_standin``: the stand-in (one per session), faults reset and request log cleared per test;
  after each test, every request the test sent must match BL's OpenAPI document.
- ``bl_company``: a registered, activated company with a fresh User-Key.
- ``bl_config`` / ``bl_exporter`` / ``bl_client``: the production adapter against the stand-in,
  with fast backoff; ``make_bl_exporter(**overrides)`` for other settings.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from devstack.bl_standin import BLStandIn, Company
from devstack.bl_standin.conformance import request_problems
from devstack.bl_standin.openapi import DOCUMENT
from exporters.bl import BLConfig, BLExporter
from exporters.bl.client import BLClient
from service.secrets import Secret

#: The shared reference copy of BL's OpenAPI document when it sits beside the repo (as in CI),
#: else the stand-in's own copy of the same public document.
_SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "reference" / "bl-openapi-subset.json"
REFERENCE_DOCUMENT = _SHARED if _SHARED.exists() else DOCUMENT


@pytest.fixture(scope="session")
def bl_standin_server() -> Iterator[BLStandIn]:
    with BLStandIn() as standin:
        yield standin


@pytest.fixture
def bl_standin(bl_standin_server: BLStandIn) -> Iterator[BLStandIn]:
    standin = bl_standin_server
    standin.reset_faults()
    standin.token_ttl_s = 3600.0
    standin.requests.clear()
    yield standin
    standin.reset_faults()
    problems = request_problems(standin.requests.all(), REFERENCE_DOCUMENT)
    if problems:
        pytest.fail("requests that do not match BL's OpenAPI document:\n" + "\n".join(problems[:20]))


@pytest.fixture
def bl_company(bl_standin: BLStandIn) -> Company:
    return bl_standin.register_company(name="Testkaféet AB", org_number="5560000050")


@pytest.fixture
def bl_config(bl_standin: BLStandIn) -> BLConfig:
    return BLConfig(
        client_id=bl_standin.client_id,
        client_secret=Secret(bl_standin.client_secret),
        base_url=bl_standin.base_url,
        token_url=bl_standin.token_url,
        timeout_s=1.0,
        connect_timeout_s=1.0,
        max_requests_per_second=500.0,
        max_requests_per_second_per_company=500.0,
        max_retries=3,
        backoff_initial_s=0.005,
        backoff_max_s=0.05,
        retry_after_cap_s=2.0,
        ambiguous_quiet_s=0.05,
    )


@pytest.fixture
def make_bl_exporter(bl_config: BLConfig) -> Iterator[Callable[..., BLExporter]]:
    made: list[BLExporter] = []

    def make(**overrides: Any) -> BLExporter:
        kwargs = {k: overrides.pop(k) for k in ("session", "sleep", "clock") if k in overrides}
        exporter = BLExporter(replace(bl_config, **overrides), **kwargs)
        made.append(exporter)
        return exporter

    yield make
    for exporter in made:
        exporter.close()


@pytest.fixture
def bl_exporter(make_bl_exporter: Callable[..., BLExporter]) -> BLExporter:
    return make_bl_exporter()


@pytest.fixture
def bl_client(bl_exporter: BLExporter) -> BLClient:
    return bl_exporter.client

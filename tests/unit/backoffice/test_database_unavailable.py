"""PostgreSQL lost in the middle of a request (a restart, a crash, a partition: the soak, #24) is answered 503 in the
API's error shape with Retry-After, so BackOffice says "try again"; never a bare 500 and a traceback in the log."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from backoffice.app import create_app
from backoffice.auth import TokenVerifier
from backoffice.context import Context
from backoffice.openapi_doc import _NoReports
from dayclose.health import Checks
from service.ports import StorageUnavailable
from tests.tokens import SERVICE_TOKEN, bearer


def lost_database() -> Any:
    raise StorageUnavailable("terminating connection due to unexpected postmaster exit")


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/exports"), ("POST", "/manual-exports"), ("GET", "/status"), ("PUT", "/start-date")],
)
def test_a_lost_database_is_a_503_to_try_again(method: str, path: str) -> None:
    verifier = TokenVerifier((SERVICE_TOKEN,))
    ctx = Context(uow=lost_database, bl=None, verifier=verifier, sales_retention_days=400, reports=_NoReports())  # type: ignore[arg-type]
    client = TestClient(create_app(ctx, Checks(), max_body_bytes=10_000), raise_server_exceptions=False)
    body = {"start_date": "2026-01-01"} if method == "PUT" else {}
    url = f"/v1/organizations/org-1/bjorn-lunden{path}"
    response = client.request(method, url, json=body if method != "GET" else None, headers=bearer("org-1"))
    assert response.status_code == 503, response.text
    assert response.json()["code"] == "DATABASE_UNAVAILABLE"
    assert int(response.headers["Retry-After"]) > 0

"""Issue #20 finding 7, against the real API: a slow authenticated body no longer holds a connection open, and the
audit endpoints (like every organization's operation) have a rate per token scope."""

from __future__ import annotations

import socket
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
from fastapi.testclient import TestClient

from dayclose.bootstrap_api import build_api
from devstack.processes import ServiceProcess, service_env
from exporters.bl import BLExporter
from tests.integration.api.conftest import Api
from tests.tokens import SERVICE_TOKEN, bearer, mint


def test_a_body_trickling_in_is_answered_408_and_closed_by_dayclose_api(api: Api, tmp_path: Path) -> None:
    env = service_env(api.settings, DAYCLOSE_API_TOKENS=SERVICE_TOKEN.reveal(), DAYCLOSE_API_BODY_TIMEOUT_SECONDS="1")
    url = f"http://127.0.0.1:{env['DAYCLOSE_HTTP_PORT']}"
    process = ServiceProcess(env, tmp_path / "api.log", argv=(sys.executable, "-m", "dayclose", "api")).start()
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and process.alive:
            try:
                httpx.get(f"{url}/readyz", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.1)  # polling a deadline loop while the process starts
        head = (
            "PUT /v1/organizations/org-slow/bjorn-lunden/key HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            f"Content-Length: 200\r\nAuthorization: Bearer {mint('org-slow')}\r\n\r\n"
        )
        with socket.create_connection(("127.0.0.1", int(env["DAYCLOSE_HTTP_PORT"])), timeout=15) as sock:
            sock.sendall(head.encode() + b'{"public_k')  # ... and nothing more: a client sending 0-2 bytes a second
            started = time.monotonic()
            answer = b""
            while chunk := sock.recv(65536):  # until the server closes the connection
                answer += chunk
            waited = time.monotonic() - started
    finally:
        assert process.stop() in (0, -15), process.log_tail()
    assert answer.startswith(b"HTTP/1.1 408 ") and b"BODY_READ_TIMEOUT" in answer, answer[:300]
    assert waited < 10, f"the connection stayed open {waited:.1f} s"  # the deadline is 1 s; generous for CI load


def test_the_audit_endpoints_are_rate_limited_per_organization(
    api: Api, make_bl_exporter: Callable[..., BLExporter]
) -> None:
    settings = replace(api.settings, api_rate_limit_per_s=0.01, api_rate_limit_burst=3)
    app = build_api(settings, exporter=make_bl_exporter(), pool=api.pool)
    with TestClient(app) as client:

        def get(org: str, path: str) -> Any:
            return client.get(f"/v1/organizations/{org}/bjorn-lunden{path}", headers=bearer(org))

        answers = [get("org-a", "/audit/receipts/r1").status_code for _ in range(3)]
        limited = get("org-a", "/audit/vouchers/D/1")
        other = get("org-b", "/audit/receipts/r1")
    assert answers == [404, 404, 404]
    assert (limited.status_code, limited.json()["code"]) == (429, "RATE_LIMITED")
    assert int(limited.headers["retry-after"]) >= 1
    assert other.status_code == 404

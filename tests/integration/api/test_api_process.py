"""`dayclose api` as its own process, configured from the environment as operators run it."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import httpx

from devstack.processes import ServiceProcess, service_env
from tests.integration.api.conftest import Api
from tests.tokens import SERVICE_TOKEN, mint


def test_dayclose_api_serves_until_sigterm(api: Api, tmp_path: Path) -> None:
    env = service_env(api.settings, DAYCLOSE_API_TOKENS=f"old:{'o' * 40},{SERVICE_TOKEN.reveal()}")
    url = f"http://127.0.0.1:{env['DAYCLOSE_HTTP_PORT']}"
    process = ServiceProcess(env, tmp_path / "api.log", argv=(sys.executable, "-m", "dayclose", "api")).start()
    try:
        deadline = time.monotonic() + 20
        ready = None
        while time.monotonic() < deadline and process.alive:
            try:
                ready = httpx.get(f"{url}/readyz", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.1)  # polling a deadline loop while the process starts
        assert ready is not None and ready.status_code == 200, process.log_tail()
        assert httpx.get(f"{url}/v1/organizations/org-p/bjorn-lunden").status_code == 401
        token = mint("org-p")
        r = httpx.get(f"{url}/v1/organizations/org-p/bjorn-lunden", headers={"Authorization": f"Bearer {token}"})
        assert (r.status_code, r.json()["status"]) == (200, "setup")
    finally:
        # uvicorn shuts down gracefully, then re-raises the SIGTERM it caught: -15 is its clean exit.
        assert process.stop() in (0, -15), process.log_tail()
    log = (tmp_path / "api.log").read_text()
    assert "Application shutdown complete" in log
    assert '"route": "/v1/organizations/{organization_id}/bjorn-lunden"' in log and "org-p" not in log

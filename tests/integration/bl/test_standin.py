"""The stand-in itself behaves like BL where the client depends on it, and is drivable over HTTP."""

from __future__ import annotations

import re
import subprocess
import sys
import uuid
from datetime import date

import pytest
import requests

from devstack.bl_standin import BLStandIn

pytestmark = pytest.mark.integration


def _token(standin: BLStandIn) -> str:
    response = requests.post(
        standin.token_url,
        data={
            "grant_type": "client_credentials",
            "client_id": standin.client_id,
            "client_secret": standin.client_secret,
        },
        timeout=5,
    )
    assert response.status_code == 200
    return response.json()["access_token"]


def _get(standin: BLStandIn, path: str, key: str, token: str | None = None) -> requests.Response:
    headers = {"Authorization": f"Bearer {token or _token(standin)}", "User-Key": key}
    return requests.get(standin.base_url + path, headers=headers, timeout=5)


def test_token_endpoint_refuses_bad_client_credentials(bl_standin):
    response = requests.post(
        bl_standin.token_url,
        data={"grant_type": "client_credentials", "client_id": bl_standin.client_id, "client_secret": "nope"},
        timeout=5,
    )

    assert response.status_code == 401


def test_company_guards(bl_standin, bl_company):
    inactive = bl_standin.register_company(activated=False)

    assert _get(bl_standin, "/details", bl_company.user_key).json()["orgNumber"] == "5560000050"
    forbidden = _get(bl_standin, "/details", inactive.user_key)
    assert forbidden.status_code == 403 and "out of allowed scope" in forbidden.json()["message"]
    assert _get(bl_standin, "/details", str(uuid.uuid4())).status_code == 500
    assert _get(bl_standin, "/details", bl_company.user_key, token="made-up").status_code == 401  # noqa: S106


def test_expired_tokens_are_refused(bl_standin, bl_company):
    token = _token(bl_standin)
    bl_standin.expire_tokens()

    assert _get(bl_standin, "/details", bl_company.user_key, token).status_code == 401


def test_a_body_that_breaks_the_schema_is_a_400_with_sub_errors(bl_standin, bl_company):
    response = requests.post(
        bl_standin.base_url + "/journal",
        timeout=5,
        headers={
            "Authorization": f"Bearer {_token(bl_standin)}",
            "User-Key": bl_company.user_key,
            "Content-Type": "application/json",
        },
        data=b'{"journalId":"K","ledgerEntries":[{"accountId":1910}]}',
    )

    assert response.status_code == 400
    assert response.json()["exceptionId"] == "DESERIALIZATION_FAILED"
    assert response.json()["subErrors"]
    bl_standin.requests.clear()  # deliberately non-conforming: keep it out of the fixture's check


def test_search_pages(bl_exporter, bl_standin, bl_company, make_voucher):
    for d in range(1, 6):
        bl_exporter.export(make_voucher(date(2026, 9, d)), bl_company.user_key)
    token = _token(bl_standin)

    page2 = _get(bl_standin, "/journal/entry/batch?search=Dagsavslut&rows=2&page=2", bl_company.user_key, token)

    body = page2.json()
    assert (body["totalRows"], body["totalPages"], body["rowsReturned"]) == (5, 3, 2)
    assert [e["journalEntryId"] for e in body["data"]] == [3, 4]


def test_admin_http_endpoints_drive_the_stand_in(bl_standin):
    admin = bl_standin.url + "/_admin"
    key = requests.post(f"{admin}/companies", json={"name": "Curl AB"}, timeout=5).json()["user_key"]
    token = _token(bl_standin)
    faults = requests.post(f"{admin}/faults", json={"throttle_next": 1, "retry_after_s": 0}, timeout=5).json()
    assert faults["remaining"]["throttle_next"] == 1
    throttled = _get(bl_standin, "/details", key, token)
    assert (throttled.status_code, throttled.headers["Retry-After"]) == (429, "0")
    assert _get(bl_standin, "/details", key, token).json()["name"] == "Curl AB"
    requests.post(
        f"{admin}/companies/{key}", json={"close_accounts": ["3001"], "lock_through": "2026-02-28"}, timeout=5
    )
    company = bl_standin.company(key)
    assert company.accounts["3001"]["closed"]
    assert company.financial_year_for(date(2026, 3, 1)).first_open_period == "202603"
    assert requests.get(f"{admin}/companies/{key}/vouchers", timeout=5).json() == []
    assert requests.delete(f"{admin}/faults", timeout=5).json()["throttle_next"] == 0
    assert requests.get(f"{admin}/stats", timeout=5).json()["requests"] >= 2
    assert requests.post(f"{admin}/faults", json={"no_such_knob": 1}, timeout=5).status_code == 400
    bl_standin.requests.clear()


def test_fractional_fault_knobs_from_the_admin_api_slow_requests_down_instead_of_failing_them(bl_standin):
    """Issue #20 finding 8: the admin API reads JSON numbers with a fraction as Decimal (as BL's amounts), and a
    fractional latency_jitter_s made every request fail in random.uniform."""
    admin = bl_standin.url + "/_admin"
    key = requests.post(f"{admin}/companies", json={"name": "Jitter AB"}, timeout=5).json()["user_key"]
    token = _token(bl_standin)
    knobs = {"latency_s": 0.01, "latency_jitter_s": 0.02, "error_rate": 0.0, "rate_limit_per_s": 0.5, "seed": 7}
    faults = requests.post(f"{admin}/faults", json=knobs, timeout=5)
    assert faults.status_code == 200, faults.text
    assert {k: faults.json()[k] for k in knobs} == knobs
    assert _get(bl_standin, "/details", key, token).status_code == 200
    for bad in ({"latency_s": "1"}, {"errors_next": 1.5}, {"refuse_documents": 1}, {"paths": "journal"}):
        assert requests.post(f"{admin}/faults", json=bad, timeout=5).status_code == 400, bad
    requests.delete(f"{admin}/faults", timeout=5)
    bl_standin.requests.clear()


def test_runs_standalone_and_prints_its_base_url():
    process = subprocess.Popen(
        [sys.executable, "-m", "devstack.bl_standin", "--port", "0", "--seed-demo-company"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        lines = dict(process.stdout.readline().strip().split("=", 1) for _ in range(6))
        base_url, demo_key = lines["BL_BASE_URL"], lines["BL_DEMO_USER_KEY"]
        assert base_url.startswith("http://127.0.0.1:") and base_url.endswith("/bla-api/v1/sp")
        token = requests.post(
            lines["BL_TOKEN_URL"],
            timeout=5,
            data={
                "grant_type": "client_credentials",
                "client_id": lines["BL_CLIENT_ID"],
                "client_secret": lines["BL_CLIENT_SECRET"],
            },
        ).json()["access_token"]
        details = requests.get(
            base_url + "/details", timeout=5, headers={"Authorization": f"Bearer {token}", "User-Key": demo_key}
        )
        assert details.status_code == 200
        # The key BackOffice's merchant would paste: the API accepts only GUIDs.
        assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", demo_key)
    finally:
        process.terminate()
        process.wait(timeout=10)

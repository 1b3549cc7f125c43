"""The card is safe by default (issue #26): off unless switched on; a session only from a valid BackOffice token,
in an HttpOnly, SameSite=Strict, Secure cookie that is no API token; CSRF on every form; a Content-Security-Policy
without scripts on every answer; another organization's pages, exports and day reports closed."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient

from backoffice.card.session import COOKIE
from devstack.bl_standin import BLStandIn
from tests.integration.card.conftest import Browser, sign_in
from tests.tokens import bearer, mint

A, B = "org-a", "org-b"


def test_the_card_is_off_unless_its_setting_is_on(card_client: Any) -> None:
    off: TestClient = card_client(enabled=False)
    assert off.get("/card/signin", params={"token": mint(A)}).status_code == 404
    assert off.get(f"/card/{A}/").status_code == 404
    assert off.get("/card/static/card.css").status_code == 404
    assert "/card" not in str(off.app.openapi())  # type: ignore[attr-defined]


def test_sign_in_takes_a_valid_backoffice_token_and_sets_a_strict_httponly_cookie(card_client: Any) -> None:
    client: TestClient = card_client()
    for token in ("", "nonsense", mint(A, ttl_s=-300), mint(A, secret="not-our-key-0123456789-0123456789-0123")):
        r = client.get("/card/signin", params={"token": token})
        assert r.status_code == 401 and "set-cookie" not in r.headers
    r = client.get("/card/signin", params={"token": mint(A, sub="anna")}, follow_redirects=False)
    assert (r.status_code, r.headers["location"]) == (303, f"/card/{A}/")
    cookie = r.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE}=")
    for flag in ("HttpOnly", "Secure", "SameSite=strict", "Path=/card/", "Max-Age=3600"):
        assert flag.lower() in cookie.lower(), cookie
    r = client.post("/card/signin", data={"token": mint(A)}, follow_redirects=False)  # posted: out of the URL
    assert r.status_code == 303 and COOKIE in r.headers["set-cookie"]


def test_another_site_cannot_sign_the_browser_in(card_client: Any) -> None:
    """Login CSRF: a page elsewhere must not sign the merchant in to an organization of its choosing."""
    client: TestClient = card_client()
    cross = {"Sec-Fetch-Site": "cross-site"}
    r = client.get("/card/signin", params={"token": mint(A)}, headers=cross)
    assert r.status_code == 403 and "set-cookie" not in r.headers
    r = client.post("/card/signin", data={"token": mint(A)}, headers=cross)
    assert r.status_code == 403 and "set-cookie" not in r.headers
    for site in ("none", "same-origin", "same-site"):  # typed or pasted, BackOffice's own pages
        assert client.get("/card/signin", params={"token": mint(A)}, headers={"Sec-Fetch-Site": site}).is_success


def test_the_session_cookie_is_no_api_token_and_a_forged_one_opens_nothing(card_client: Any) -> None:
    client: TestClient = card_client()
    sign_in(client, A)
    session = client.cookies.get(COOKIE)
    assert session
    api = client.get(f"/v1/organizations/{A}/bjorn-lunden", headers={"Authorization": f"Bearer {session}"})
    assert api.status_code == 401
    head, payload, signature = session.split(".")
    for forged in (f"{head}.{payload}.{signature[::-1]}", mint(A)):  # a bad signature; an API token is no session
        client.cookies.clear()
        client.cookies.set(COOKIE, forged)
        assert client.get(f"/card/{A}/").status_code == 401


PAGES = [
    "/",
    "/activate",
    "/activate/key",
    "/activate/start-date",
    "/activate/payment-methods",
    "/history",
    "/notifications",
    "/notifications/current",
    "/manual-export",
    "/deactivate",
    "/settings/events",
]


@pytest.mark.parametrize("path", PAGES)
def test_another_organizations_pages_are_closed(card_client: Any, path: str) -> None:
    b = sign_in(card_client(), A)
    r = b.client.get(f"/card/{B}{path}")
    assert r.status_code == 403
    assert "Du har inte behörighet till den här sidan." in r.text and B not in r.text.replace(f"/card/{B}", "")


def test_every_form_needs_the_sessions_csrf_token_and_our_origin(card_client: Any) -> None:
    client: TestClient = card_client()
    a = sign_in(client, A)
    token = a.csrf()
    forms = {
        "/activate/key": {"public_key": "x"},
        "/manual-export": {},
        "/deactivate": {},
        "/retry": {},
        "/lang": {"lang": "en"},
        "/activate/events": {"events.TIPS": "2829"},
        "/signout": {},
    }
    for path, data in forms.items():
        for csrf in ("", "forged", token[:-1]):
            r = a.post(path, data, csrf=csrf)
            assert r.status_code == 403, (path, csrf, r.status_code)
            assert "Formuläret kunde inte skickas" in r.text
        r = a.post(path, data, csrf=token, headers={"Origin": "https://evil.example"})
        assert r.status_code == 403, path
    other = sign_in(TestClient(client.app, base_url="https://testserver"), A)  # another session of the same org
    r = other.post("/lang", {"lang": "en"}, csrf=token)
    assert r.status_code == 403  # a token is bound to its session, not only to the organization
    r = a.post("/lang", {"lang": "en", "next": f"/card/{A}/history"}, csrf=token)
    assert (r.status_code, r.headers["location"]) == (303, f"/card/{A}/history")


def test_language_switch_never_redirects_elsewhere(card_client: Any) -> None:
    a = sign_in(card_client(), A)
    for target in ("https://evil.example/", "//evil.example/x", f"/card/{B}/", f"/card/{A}//evil.example"):
        r = a.post("/lang", {"lang": "en", "next": target})
        assert r.headers["location"] == f"/card/{A}/", target


def test_every_answer_has_a_csp_without_scripts_and_pages_have_no_script(card_client: Any) -> None:
    client: TestClient = card_client()
    a = sign_in(client, A)
    answers = [a.get(p) for p in PAGES] + [client.get("/card/static/card.css"), client.get(f"/card/{B}/")]
    answers.append(client.get("/card/signin", params={"token": "bad"}))
    for r in answers:
        csp = r.headers["content-security-policy"]
        assert "default-src 'none'" in csp and "frame-ancestors 'self'" in csp and "script-src" not in csp
        assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
        assert r.headers["x-content-type-options"] == "nosniff" and r.headers["cache-control"] == "no-store"
        assert not re.search(r"<script|\son[a-z]+=|javascript:", r.text, re.IGNORECASE)
        assert not re.search(r"(src|href)=\"https?://", r.text)  # nothing loaded from anywhere else


def test_another_organizations_export_cannot_be_corrected_or_its_day_report_read(
    card_client: Any, bl_standin: BLStandIn
) -> None:
    client: TestClient = card_client()
    a = sign_in(client, A)
    someone_elses = uuid.uuid4()  # an export id A does not have (B's, or nobody's: the same answer)
    assert a.get(f"/history/{someone_elses}/day-report").status_code == 404
    assert a.get(f"/history/{someone_elses}/correct").status_code == 404
    r = a.post(f"/history/{someone_elses}/correct", {"reason": "x", "acting_user": "y"})
    assert r.status_code in (404, 409)  # A is not active (409) or the export is not A's (404): nothing happens
    assert client.get(f"/v1/organizations/{A}/bjorn-lunden/exports", headers=bearer(A)).json()["items"] == []


def test_signing_out_ends_the_session(card_client: Any) -> None:
    client: TestClient = card_client()
    a = sign_in(client, A)
    r = a.post("/signout", {})
    assert r.status_code == 200 and "Du är utloggad." in r.text
    assert 'dayclose_card=""' in r.headers["set-cookie"] and "Max-Age=0" in r.headers["set-cookie"]
    assert client.get(f"/card/{A}/").status_code == 401


def test_a_sign_in_for_b_opens_b_and_closes_a(card_client: Any) -> None:
    client: TestClient = card_client()
    sign_in(client, A)
    b: Browser = sign_in(client, B)  # the same browser signs in for B: one session, B's
    assert b.get("/").status_code == 200
    assert client.get(f"/card/{A}/").status_code == 403

"""BL's session reads the environment once, at start-up (issue #27: ``requests`` read it on every request, ~2 % of an
export's CPU), and picks for BL's and its token's URLs the proxy and CA bundle ``requests`` itself would have picked
from that environment: its own session, trusting the environment, is the reference."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from exporters.bl.config import BLConfig
from exporters.bl.transport import new_session
from service.secrets import Secret

BASE, TOKEN = "https://bl.example.se/bla-api/v1/sp", "https://auth.example.se/auth/oauth/v2/token"
ENVIRONMENTS = [
    {},
    {"HTTPS_PROXY": "http://proxy.internal:3128"},
    {"https_proxy": "http://user:pw@proxy.internal:3128", "NO_PROXY": "auth.example.se"},
    {"ALL_PROXY": "socks5://socks.internal:1080", "no_proxy": ".example.se"},
    {"HTTP_PROXY": "http://plain.internal:80"},  # not for https
    {"HTTPS_PROXY": "http://proxy.internal:3128", "REQUESTS_CA_BUNDLE": "/etc/ssl/internal-ca.pem"},
    {"CURL_CA_BUNDLE": "/etc/ssl/curl-ca.pem"},
]
NAMES = ("HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY", "NO_PROXY", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")


def config() -> BLConfig:
    return BLConfig(client_id="c", client_secret=Secret("s"), base_url=BASE, token_url=TOKEN)


def settings(session: requests.Session, url: str) -> tuple[Any, Any]:
    """(the proxy, the CA bundle) ``session`` sends a request to ``url`` with, as requests decides them."""
    merged = session.merge_environment_settings(url, {}, None, None, None)
    return requests.utils.select_proxy(url, merged["proxies"]), merged["verify"]


def clean(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in NAMES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_the_session_picks_what_requests_would_from_the_environment_at_start_up(
    monkeypatch: pytest.MonkeyPatch, environment: dict[str, str]
) -> None:
    clean(monkeypatch)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    ours, reference = new_session(config()), requests.Session()
    for url in (f"{BASE}/journal", TOKEN):
        assert settings(ours, url) == settings(reference, url)
    assert not ours.trust_env


def test_the_environment_is_read_once(monkeypatch: pytest.MonkeyPatch) -> None:
    clean(monkeypatch)
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.internal:3128")
    session = new_session(config())
    monkeypatch.setenv("HTTPS_PROXY", "http://another.internal:3128")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/later.pem")
    assert settings(session, f"{BASE}/journal") == ("http://proxy.internal:3128", True)

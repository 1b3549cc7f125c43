"""OAuth2 client-credentials token, shared by every thread of one client and renewed before expiry.

BL issues no refresh token: a new token is simply requested with our client id and secret.
Only one thread fetches at a time; the others wait for its result instead of stampeding.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import requests

from exporters.bl.config import BLConfig
from exporters.bl.errors import RetryableFailure
from exporters.bl.ratelimit import TokenBucket
from exporters.bl.reading import read_body
from service.exporter import OperatorError
from service.reasons import ReasonCode


@dataclass(frozen=True, slots=True)
class AccessToken:
    value: str = field(repr=False)
    renew_at: float

    def __repr__(self) -> str:  # never show the token itself
        return f"AccessToken(renew_at={self.renew_at:.0f})"


class TokenProvider:
    def __init__(
        self,
        config: BLConfig,
        session: requests.Session,
        limiter: TokenBucket,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._config = config
        self._session = session
        self._limiter = limiter
        self._clock = clock
        self._lock = threading.Lock()
        self._token: AccessToken | None = None
        self.fetch_count = 0

    def token(self) -> str:
        """A valid bearer token, fetching a new one if none is cached or it is about to expire."""
        with self._lock:
            if self._token is None or self._clock() >= self._token.renew_at:
                self._token = self._fetch()
            return self._token.value

    def invalidate(self, rejected: str) -> None:
        """Forget ``rejected`` after a 401, unless another thread already replaced it."""
        with self._lock:
            if self._token is not None and self._token.value == rejected:
                self._token = None

    def _fetch(self) -> AccessToken:
        cfg = self._config
        self._limiter.acquire()
        started = self._clock()
        deadline = time.monotonic() + cfg.connect_timeout_s + cfg.timeout_s
        try:
            response = self._session.post(
                cfg.token_url,
                data={
                    "grant_type": "client_credentials",
                    "client_id": cfg.client_id,
                    "client_secret": cfg.client_secret.reveal(),
                },
                headers={"Accept": "application/json"},
                timeout=cfg.timeouts,
                stream=True,
            )
            read_body(response, deadline)
        except requests.RequestException as exc:
            raise RetryableFailure(f"token request failed: {type(exc).__name__}") from None
        self.fetch_count += 1
        if response.status_code in (400, 401, 403):
            raise OperatorError(
                ReasonCode.CLIENT_CREDENTIALS_INVALID,
                f"BL token endpoint refused client {cfg.client_id} (HTTP {response.status_code})",
                {"status": response.status_code},
            )
        if response.status_code == 429 or response.status_code >= 500:
            raise RetryableFailure(f"token endpoint HTTP {response.status_code}", status=response.status_code)
        try:
            body = response.json()
            value = body["access_token"]
            expires_in = float(body.get("expires_in", 3600))
        except (ValueError, KeyError, TypeError):
            raise OperatorError(
                ReasonCode.CLIENT_CREDENTIALS_INVALID,
                f"BL token endpoint answered HTTP {response.status_code} without a token",
                {"status": response.status_code},
            ) from None
        # Renew early, but never so early that a short-lived token is useless.
        margin = min(cfg.token_renew_margin_s, expires_in / 2)
        return AccessToken(value=value, renew_at=started + expires_in - margin)

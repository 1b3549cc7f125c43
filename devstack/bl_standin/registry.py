"""Who the stand-in knows: our integration's client credentials, its tokens and the companies."""

from __future__ import annotations

import secrets
import threading
import time
import uuid

from devstack.bl_standin import chart
from devstack.bl_standin.state import Company

DEFAULT_CLIENT_ID = "dayclose-dev"
DEFAULT_CLIENT_SECRET = "dayclose-dev-secret"  # noqa: S105 - a local stand-in's fixed demo credential


class Registry:
    def __init__(
        self,
        client_id: str = DEFAULT_CLIENT_ID,
        client_secret: str = DEFAULT_CLIENT_SECRET,
        token_ttl_s: float = 3600.0,
    ) -> None:
        self._lock = threading.Lock()
        self.client_id = client_id
        self.client_secret = client_secret
        self.token_ttl_s = token_ttl_s
        self._tokens: dict[str, float] = {}
        self._companies: dict[str, Company] = {}
        self.tokens_issued = 0

    # -- companies ----------------------------------------------------------------------

    def register(
        self,
        user_key: str | None = None,
        name: str = "Demo Café AB",
        org_number: str = "5566778899",
        activated: bool = True,
        fiscal_years: tuple[int, ...] = chart.DEFAULT_FISCAL_YEARS,
    ) -> Company:
        key = user_key or str(uuid.uuid4())
        with self._lock:
            if key in self._companies:
                raise ValueError("a company with this user key already exists")
            company = Company(
                key,
                entity_id=len(self._companies) + 1,
                name=name,
                org_number=org_number,
                activated=activated,
                fiscal_years=fiscal_years,
            )
            self._companies[key] = company
            return company

    def company(self, user_key: str | None) -> Company | None:
        with self._lock:
            return self._companies.get(user_key or "")

    def companies(self) -> list[Company]:
        with self._lock:
            return list(self._companies.values())

    # -- client credentials and tokens -------------------------------------------------

    def credentials_ok(self, client_id: str | None, client_secret: str | None) -> bool:
        return bool(client_id and client_secret) and secrets.compare_digest(
            f"{client_id}\0{client_secret}", f"{self.client_id}\0{self.client_secret}"
        )

    def issue_token(self) -> tuple[str, float]:
        token = secrets.token_urlsafe(32)
        with self._lock:
            self._tokens[token] = time.monotonic() + self.token_ttl_s
            self.tokens_issued += 1
            return token, self.token_ttl_s

    def token_valid(self, token: str | None) -> bool:
        with self._lock:
            expiry = self._tokens.get(token or "")
            return expiry is not None and time.monotonic() < expiry

    def expire_tokens(self) -> int:
        """Make every issued token invalid now, as if it had expired; returns how many."""
        with self._lock:
            count = len(self._tokens)
            self._tokens.clear()
            return count

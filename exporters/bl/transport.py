"""One pooled HTTP session to BL: rate limits, bearer token, User-Key, timeouts, bounded retries.

Every request waits for its company's token bucket, then the client's (:mod:`exporters.bl.ratelimit`), carries
``Authorization`` and ``User-Key``, and has a connect timeout and a deadline for the whole response, headers and
body: a body that trickles in a byte at a time never outlives it. A 401 triggers one token renewal and one resend.
Transient failures (connection errors, 429, 5xx) are retried with jittered exponential
backoff, honouring ``Retry-After``, when the caller says the request is safe to repeat;
otherwise they are raised for the caller to resolve (see the exporter's ambiguous-post rule).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

import requests
import structlog
from requests.adapters import HTTPAdapter
from requests.utils import get_environ_proxies, select_proxy
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_random_exponential,
)

from exporters.bl import metrics
from exporters.bl.auth import TokenProvider
from exporters.bl.config import BLConfig
from exporters.bl.errors import BLHttpError, RetryableFailure
from exporters.bl.ratelimit import KeyedTokenBucket, TokenBucket
from exporters.bl.reading import read_body
from service.exporter import OperatorError, mask_secret
from service.reasons import ReasonCode

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class _Call:
    """One logical request, resent as is on retry or after a token renewal."""

    method: str
    path: str
    user_key: str = field(repr=False)
    operation: str
    params: Mapping[str, str | int] | None = None
    body_text: str | None = field(default=None, repr=False)
    files: Mapping[str, tuple[str, bytes, str]] | None = field(default=None, repr=False)
    final_statuses: frozenset[int] = frozenset()
    #: Called once the rate limits let the request go, just before it is sent (and before a resend after a new
    #: token): a write that must not reach BL unless the caller still holds what it writes for raises here.
    before_send: Callable[[], None] | None = field(default=None, repr=False)


def new_session(config: BLConfig) -> requests.Session:
    session = requests.Session()
    adapter = HTTPAdapter(pool_connections=2, pool_maxsize=config.pool_size, max_retries=0)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    session.headers.update({"User-Agent": config.user_agent, "Accept": "application/json"})
    read_environment_once(session, (config.base_url, config.token_url))
    return session


def read_environment_once(session: requests.Session, urls: tuple[str, ...]) -> None:
    """What ``requests`` reads from the environment on every request when it trusts it (``HTTPS_PROXY``, ``ALL_PROXY``,
    ``NO_PROXY`` and the rest, ``REQUESTS_CA_BUNDLE``/``CURL_CA_BUNDLE``; ~2 % of an export's CPU), read once here
    for the URLs the session calls: the proxy ``requests`` would pick for each (None: direct) and the CA bundle, as
    the environment is at start-up. ``~/.netrc`` is not read: every request carries its own credentials."""
    for url in urls:
        host = urlsplit(url)
        chosen = select_proxy(url, get_environ_proxies(url))
        session.proxies[f"{host.scheme}://{host.hostname}"] = chosen  # type: ignore[assignment] # None: no proxy
    session.verify = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or True
    session.trust_env = False


def parse_retry_after(value: str | None, now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds or HTTP date); None if absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, (parsedate_to_datetime(value) - now()).total_seconds())
    except (TypeError, ValueError):
        return None


class BLTransport:
    def __init__(
        self,
        config: BLConfig,
        session: requests.Session | None = None,
        limiter: TokenBucket | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        company_limiter: KeyedTokenBucket | None = None,
    ) -> None:
        self.config = config
        self.session = session or new_session(config)
        self.limiter = limiter or TokenBucket(config.max_requests_per_second, config.rate_limit_burst)
        #: Keyed by User-Key alone: BL would count a company's requests whichever organization books into it.
        self.company_limiter = company_limiter or KeyedTokenBucket(
            config.max_requests_per_second_per_company, config.rate_limit_burst
        )
        self.tokens = TokenProvider(config, self.session, self.limiter, clock)
        self._sleep = sleep

    def close(self) -> None:
        self.session.close()

    def request(
        self,
        method: str,
        path: str,
        *,
        user_key: str,
        operation: str,
        params: Mapping[str, str | int] | None = None,
        body_text: str | None = None,
        files: Mapping[str, tuple[str, bytes, str]] | None = None,
        retry: bool = True,
        final_statuses: frozenset[int] = frozenset(),
        before_send: Callable[[], None] | None = None,
    ) -> Any:
        """Send one logical request; return its parsed JSON (numbers as ``Decimal``).

        Raises :class:`BLHttpError` for a final answer, :class:`RetryableFailure` once retries
        are exhausted (or at once when ``retry`` is False), :class:`OperatorError` for bad
        credentials. ``final_statuses`` are 5xx codes to treat as answers, not outages. ``before_send`` runs after
        the rate limits' wait, right before each send; whatever it raises is raised as it is, nothing sent.
        """

        call = _Call(method, path, user_key, operation, params, body_text, files, final_statuses, before_send)

        def attempt() -> Any:
            return self._attempt(call)

        if not retry:
            return attempt()
        retrying = Retrying(
            stop=stop_after_attempt(self.config.max_retries + 1),
            wait=self.backoff,
            retry=retry_if_exception_type(RetryableFailure),
            sleep=self._sleep,
            reraise=True,
            before_sleep=lambda state: _log_retry(state, operation, user_key),
        )
        return retrying(attempt)

    def quiet_before_look(self, event: str, last_s_ago: float | None, **fields: object) -> None:
        """An earlier attempt may have sent a write ``last_s_ago`` seconds ago (0: its process died, or lost the
        database, with one maybe on its way; None: none known). BL may still be committing it: a look for it waits
        until it is the quiet period old, as a retry after a lost answer does. Without this wait a look right after
        a crash found nothing while BL was still committing the dead process's post, and the voucher was posted
        twice (the long chaos run, seed 101, caught it)."""
        if last_s_ago is None:
            return
        wait_s = self.config.ambiguous_quiet_s - last_s_ago
        if wait_s > 0:
            log.info(event, wait_s=round(wait_s, 3), **fields)
            self._sleep(wait_s)

    def backoff(self, state: RetryCallState) -> float:
        """Jittered exponential backoff, replaced by BL's ``Retry-After`` (capped) when it sent one."""
        cfg = self.config
        jittered = wait_random_exponential(multiplier=cfg.backoff_initial_s, max=cfg.backoff_max_s)(state)
        failure = state.outcome.exception() if state.outcome else None
        if isinstance(failure, RetryableFailure) and failure.retry_after_s is not None:
            return min(failure.retry_after_s, cfg.retry_after_cap_s) + min(jittered, cfg.backoff_initial_s)
        return float(jittered)

    def _attempt(self, call: _Call) -> Any:
        token = self.tokens.token()
        response = self._send(call, token)
        if response.status_code == 401:
            # Expired or revoked early: renew once and resend once; a second 401 is our credentials.
            self.tokens.invalidate(token)
            response = self._send(call, self.tokens.token())
            if response.status_code == 401:
                raise OperatorError(
                    ReasonCode.CLIENT_CREDENTIALS_INVALID,
                    f"BL refused a fresh token for {call.operation} (HTTP 401)",
                    {"status": 401, "operation": call.operation},
                )
        status = response.status_code
        metrics.bl_response(call.operation, status, response.elapsed.total_seconds())
        if 200 <= status < 300:
            return _json_or_none(response)
        if status == 429 or (status >= 500 and status not in call.final_statuses):
            raise RetryableFailure(
                f"{call.operation}: HTTP {status}",
                status=status,
                retry_after_s=parse_retry_after(response.headers.get("Retry-After")),
                maybe_committed=status >= 500 and call.method != "GET",
            )
        raise BLHttpError(status, _api_error(response, call.user_key), call.operation)

    def _send(self, call: _Call, token: str) -> requests.Response:
        method, path = call.method, call.path
        headers = {"Authorization": f"Bearer {token}", "User-Key": call.user_key}
        data: bytes | None = None
        if call.body_text is not None:
            headers["Content-Type"] = "application/json"
            data = call.body_text.encode("utf-8")
        # The company's slot first: a request waiting for its company holds no slot of the client's.
        self.company_limiter.acquire(call.user_key)
        self.limiter.acquire()
        if call.before_send is not None:
            call.before_send()
        deadline = time.monotonic() + self.config.connect_timeout_s + self.config.timeout_s
        try:
            response = self.session.request(
                method,
                self.config.base_url.rstrip("/") + path,
                params=call.params,
                data=data,
                files=call.files,
                headers=headers,
                timeout=self.config.timeouts,
                stream=True,
            )
            read_body(response, deadline)
            return response
        except requests.ConnectTimeout:
            raise RetryableFailure(f"{method} {path}: connect timeout") from None
        except requests.ReadTimeout:
            raise RetryableFailure(f"{method} {path}: read timeout", maybe_committed=True) from None
        except requests.ConnectionError as exc:
            raise RetryableFailure(
                f"{method} {path}: connection error ({type(exc).__name__})", maybe_committed=True
            ) from None
        except requests.RequestException as exc:
            raise OperatorError(
                ReasonCode.INVALID_REQUEST, f"cannot send to BL: {type(exc).__name__}", {"path": path}
            ) from None


def _json_or_none(response: requests.Response) -> Any:
    if not response.content:
        return None
    try:
        return json.loads(response.content, parse_float=Decimal)
    except ValueError:
        # A success whose body we cannot read (a gateway's page, an answer cut short) still means BL processed it.
        maybe_committed = response.request is not None and response.request.method != "GET"
        raise RetryableFailure(
            f"unreadable JSON from BL (HTTP {response.status_code})", maybe_committed=maybe_committed
        ) from None


def _api_error(response: requests.Response, user_key: str) -> dict[str, Any]:
    """BL's ApiError body, with the merchant's key masked wherever BL echoed it."""
    try:
        body = json.loads(response.content)
    except ValueError:
        return {}
    if not isinstance(body, dict):
        return {}
    masked = mask_secret(user_key)
    return {k: v.replace(user_key, masked) if isinstance(v, str) and user_key else v for k, v in body.items()}


def _log_retry(state: RetryCallState, operation: str, user_key: str) -> None:
    failure = state.outcome.exception() if state.outcome else None
    metrics.bl_retry(operation, failure)
    log.warning(
        "bl.retry",
        operation=operation,
        attempt=state.attempt_number,
        cause=getattr(failure, "description", type(failure).__name__),
        wait_s=round(state.upcoming_sleep, 3),
        user_key=mask_secret(user_key),
    )

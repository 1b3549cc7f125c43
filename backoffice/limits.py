"""What one caller may cost the API: a deadline on reading a request's body, and a rate per token scope.

- :class:`BodyReadTimeout` (``DAYCLOSE_API_BODY_TIMEOUT_SECONDS``): the whole body must have arrived this long after
  the request did, or the answer is 408 ``BODY_READ_TIMEOUT`` and the connection is closed. Without it a client
  sending 2 bytes a second held a connection (and a worker waiting on it) for as long as it liked. Only the body
  is timed: once it is in, a slow handler (a BL call) is not cut short.
- :class:`RateLimiter` (``DAYCLOSE_API_RATE_LIMIT_PER_SECOND``, ``DAYCLOSE_API_RATE_LIMIT_BURST``): a token bucket per
  token scope, the organization a valid token is for (BackOffice mints a token per request, so the token string
  itself is no key), checked after authentication by :class:`backoffice.middleware.OrganizationAuthorization`:
  429 ``RATE_LIMITED`` with ``Retry-After``. Per API process: with N replicas an organization may get N times it.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from backoffice.errors import ApiError, error_response

#: Keys the limiter keeps at most; beyond it, those whose bucket has refilled are forgotten (they are full anyway).
MAX_KEYS = 100_000


class _BodyTimedOut(Exception):
    """Raised from ``receive`` to stop the app reading; the middleware answers 408 instead."""


class BodyReadTimeout:
    def __init__(self, app: ASGIApp, timeout_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.app = app
        self.timeout_s = timeout_s
        self.clock = clock

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        deadline = self.clock() + self.timeout_s
        body_done = timed_out = started = False

        async def timed_receive() -> Message:
            nonlocal body_done, timed_out
            if body_done:
                return await receive()  # e.g. waiting for a disconnect while a handler runs: not timed
            try:
                message = await asyncio.wait_for(receive(), timeout=max(deadline - self.clock(), 0.0))
            except TimeoutError:
                timed_out = True
                raise _BodyTimedOut from None
            body_done = message["type"] != "http.request" or not message.get("more_body", False)
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if timed_out:
                return  # the app's answer to a read we cut short; ours follows
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, timed_receive, guarded_send)
        except Exception:
            if not timed_out:
                raise
        if timed_out and not started:
            error = ApiError(
                408,
                "BODY_READ_TIMEOUT",
                f"The request body did not arrive within {self.timeout_s:g} s.",
                headers={"Connection": "close"},
            )
            await error_response(error)(scope, receive, send)


class RateLimiter:
    """A token bucket per key: ``burst`` requests at once, refilled at ``rate_per_s``. Thread-safe."""

    def __init__(self, rate_per_s: float, burst: int, clock: Callable[[], float] = time.monotonic) -> None:
        if rate_per_s <= 0 or burst < 1:
            raise ValueError("a rate limit needs a positive rate and a burst of at least 1")
        self.rate_per_s = rate_per_s
        self.burst = float(burst)
        self.clock = clock
        self._lock = threading.Lock()
        self._buckets: dict[str, tuple[float, float]] = {}  # key → (tokens, when)

    def take(self, key: str) -> float:
        """0 when ``key`` may make a request now (one token is spent), else the seconds until it may."""
        now = self.clock()
        with self._lock:
            tokens, when = self._buckets.get(key, (self.burst, now))
            tokens = min(self.burst, tokens + (now - when) * self.rate_per_s)
            if tokens >= 1.0:
                self._buckets[key] = (tokens - 1.0, now)
                self._forget_full(now)
                return 0.0
            self._buckets[key] = (tokens, now)
            return (1.0 - tokens) / self.rate_per_s

    def _forget_full(self, now: float) -> None:
        if len(self._buckets) <= MAX_KEYS:
            return
        refill_s = self.burst / self.rate_per_s
        for key in [k for k, (_, when) in self._buckets.items() if now - when >= refill_s]:
            del self._buckets[key]

"""Fault knobs and request accounting: what makes the stand-in misbehave, and what it saw.

Rates draw from one seeded random generator, so a run with the same seed and the same request
order fails the same way. The ``*_next`` counters fail exactly the next N matching requests,
for tests that must not depend on chance.
"""

from __future__ import annotations

import random
import threading
import time
from collections import deque
from dataclasses import asdict, dataclass, field, fields
from decimal import Decimal
from typing import Any, get_type_hints

DROP_MODES = ("timeout", "reset", "late")


@dataclass(frozen=True)
class Faults:
    #: Seconds added to every BL request (not admin), plus up to ``latency_jitter_s`` at random.
    latency_s: float = 0.0
    latency_jitter_s: float = 0.0
    #: Probability that a request is answered with ``error_status`` before it is processed.
    error_rate: float = 0.0
    error_status: int = 503
    #: The next N matching requests are answered with ``error_status`` (not processed).
    errors_next: int = 0
    #: Server-side limit: more than this many BL requests in any second → 429. 0 = unlimited.
    rate_limit_per_s: float = 0.0
    #: The next N matching requests are answered 429 (a "storm").
    throttle_next: int = 0
    #: ``Retry-After`` seconds sent with every 429; None sends no header.
    retry_after_s: int | None = 1
    #: The next N ``POST /journal`` are committed and then their response is lost.
    commit_then_drop: int = 0
    #: The next N document attachments (``POST /document…``) are committed and then their response is lost.
    documents_commit_then_drop: int = 0
    #: The next N document uploads/attachments are refused (HTTP 400), or all of them while set.
    refuse_documents_next: int = 0
    refuse_documents: bool = False
    #: How a lost response looks: "timeout" (held open for ``drop_hold_s``, then reset), "reset", or "late" (held
    #: ``drop_hold_s``, then sent whole: slower than a client's timeout, after BL committed).
    drop_mode: str = "timeout"
    drop_hold_s: float = 3.0
    # -- BL misbehaving quietly (#24): answers that look like answers ---------------------------------------
    #: The next N matching requests are processed (committed), then answered 200 with a body that never finishes:
    #: half of it, then a byte every ``stall_interval_s`` until ``drop_hold_s`` has passed, then a reset.
    stall_body_next: int = 0
    stall_interval_s: float = 0.5
    #: The next N matching requests are processed, then answered with their JSON cut in half (a complete HTTP
    #: message: Content-Length is the cut body's).
    truncate_json_next: int = 0
    #: The next N matching requests get a gateway's HTML 502 page; processed first (the backend committed, the
    #: gateway lost the answer) when ``gateway_after_commit``.
    gateway_html_next: int = 0
    gateway_after_commit: bool = False
    #: The next N matching requests are refused 401 before they are processed (our token refused mid-day).
    unauthorized_next: int = 0
    #: Probability / next-N count of a connection reset before the request is processed.
    reset_rate: float = 0.0
    resets_next: int = 0
    #: Faults apply only to request paths containing one of these substrings (empty = all).
    paths: tuple[str, ...] = ()
    #: Faults apply only to these methods (empty = all).
    methods: tuple[str, ...] = ()
    seed: int = 0

    def __post_init__(self) -> None:
        if self.drop_mode not in DROP_MODES:
            raise ValueError(f"drop_mode must be one of {DROP_MODES}")
        for name in ("error_rate", "reset_rate"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be within 0..1")

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Faults:
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown fault knobs: {sorted(unknown)}")
        hints = get_type_hints(cls)
        return cls(**{name: _knob(name, hints[name], value) for name, value in data.items()})

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _knob(name: str, hint: Any, value: Any) -> Any:
    """One knob from the admin API's JSON as the type the knob has, or ``ValueError`` naming it (the admin API
    answers 400). Numbers with a fraction arrive as ``Decimal`` (the stand-in reads BL's amounts exactly), which
    ``random.uniform`` and ``time.sleep`` cannot take."""
    wanted = str(hint)
    if value is None and "None" in wanted:
        return None
    if "tuple" in wanted:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ValueError(f"{name} must be a list of strings")
        return tuple(value)
    if hint is bool or hint is str:
        if type(value) is not hint:
            raise ValueError(f"{name} must be a {hint.__name__}")
        return value
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        raise ValueError(f"{name} must be a number")
    if "int" in wanted:
        if value != int(value):
            raise ValueError(f"{name} must be a whole number")
        return int(value)
    return float(value)


@dataclass
class Decision:
    """What to do with one request: any of these may be set."""

    delay_s: float = 0.0
    reset: bool = False
    status: int | None = None
    retry_after_s: int | None = None
    drop_after_commit: bool = False
    refuse_document: bool = False
    #: How a processed request is answered quietly wrong: "stall", "truncate" or "gateway" (None: as it should).
    garble: str | None = None
    unauthorized: bool = False


class FaultInjector:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.set(Faults())

    def set(self, faults: Faults) -> None:
        with self._lock:
            self.faults = faults
            self._random = random.Random(faults.seed)
            self._left = {
                "errors_next": faults.errors_next,
                "throttle_next": faults.throttle_next,
                "commit_then_drop": faults.commit_then_drop,
                "resets_next": faults.resets_next,
                "documents_commit_then_drop": faults.documents_commit_then_drop,
                "refuse_documents_next": faults.refuse_documents_next,
                "stall_body_next": faults.stall_body_next,
                "truncate_json_next": faults.truncate_json_next,
                "gateway_html_next": faults.gateway_html_next,
                "unauthorized_next": faults.unauthorized_next,
            }
            self._window: deque[float] = deque()

    def remaining(self) -> dict[str, int]:
        with self._lock:
            return dict(self._left)

    def decide(self, method: str, path: str) -> Decision:
        with self._lock:
            f = self.faults
            decision = Decision()
            if not self._applies(f, method, path):
                return decision
            decision.delay_s = f.latency_s + (self._random.uniform(0, f.latency_jitter_s) if f.latency_jitter_s else 0)
            if self._take("resets_next") or (f.reset_rate and self._random.random() < f.reset_rate):
                decision.reset = True
            elif self._take("throttle_next") or self._over_limit(f):
                decision.status, decision.retry_after_s = 429, f.retry_after_s
            elif self._take("errors_next") or (f.error_rate and self._random.random() < f.error_rate):
                decision.status = f.error_status
            elif self._take("unauthorized_next"):
                decision.unauthorized = True
            elif not f.gateway_after_commit and self._take("gateway_html_next"):
                decision.status, decision.garble = 502, "gateway"
            elif method == "POST" and path.endswith("/journal") and self._take("commit_then_drop"):
                decision.drop_after_commit = True
            elif method == "POST" and "/document" in path:
                if f.refuse_documents or self._take("refuse_documents_next"):
                    decision.refuse_document = True
                elif self._take("documents_commit_then_drop"):
                    decision.drop_after_commit = True
            untouched = not (decision.reset or decision.unauthorized or decision.drop_after_commit)
            if untouched and decision.status is None and not decision.refuse_document:
                decision.garble = self._garble_after_commit(f)
            return decision

    def _garble_after_commit(self, f: Faults) -> str | None:
        if self._take("stall_body_next"):
            return "stall"
        if self._take("truncate_json_next"):
            return "truncate"
        if f.gateway_after_commit and self._take("gateway_html_next"):
            return "gateway"
        return None

    @staticmethod
    def _applies(f: Faults, method: str, path: str) -> bool:
        if f.methods and method not in f.methods:
            return False
        return not f.paths or any(p in path for p in f.paths)

    def _take(self, counter: str) -> bool:
        if self._left[counter] > 0:
            self._left[counter] -= 1
            return True
        return False

    def _over_limit(self, f: Faults) -> bool:
        if not f.rate_limit_per_s:
            return False
        now = time.monotonic()
        while self._window and now - self._window[0] >= 1.0:
            self._window.popleft()
        if len(self._window) >= f.rate_limit_per_s:
            return True
        self._window.append(now)
        return False


@dataclass
class RecordedRequest:
    at: float
    method: str
    path: str
    query: str
    content_type: str
    body: bytes = field(repr=False)
    user_key: str | None = field(repr=False)
    status: int | None = None


class RequestLog:
    """Every BL request the stand-in received (admin calls excluded), for assertions and rates."""

    def __init__(self, max_records: int = 200_000) -> None:
        self._lock = threading.Lock()
        self._records: deque[RecordedRequest] = deque(maxlen=max_records)

    def add(self, record: RecordedRequest) -> None:
        with self._lock:
            self._records.append(record)

    def clear(self) -> None:
        with self._lock:
            self._records.clear()

    def all(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._records)

    def count(self, method: str | None = None, path_contains: str | None = None) -> int:
        return len(
            [
                r
                for r in self.all()
                if (method is None or r.method == method) and (path_contains is None or path_contains in r.path)
            ]
        )

    def peak_rate(self, window_s: float = 1.0) -> int:
        """The most requests received within any ``window_s``-second span."""
        times = sorted(r.at for r in self.all())
        peak, start = 0, 0
        for end, t in enumerate(times):
            while t - times[start] >= window_s:
                start += 1
            peak = max(peak, end - start + 1)
        return peak

    def per_second(self) -> list[int]:
        """Requests per whole second since the first one, for benchmark plots."""
        times = sorted(r.at for r in self.all())
        if not times:
            return []
        counts = [0] * (int(times[-1] - times[0]) + 1)
        for t in times:
            counts[int(t - times[0])] += 1
        return counts

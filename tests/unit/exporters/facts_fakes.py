"""Fakes for the pre-flight's facts: BL's answers per company (every fetch counted, a gate to hold fetches), and
the store's contract (service/company_facts.py) in memory, as PostgreSQL's adapter keeps it."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from service.company_facts import KINDS, Fetched, StoredFacts
from service.ports import StorageUnavailable


class FakeTime:
    def __init__(self) -> None:
        self.now = 1_790_000_000.0

    def clock(self) -> float:
        return self.now


class FakeBL:
    """What BL holds per company; every fetch counted. ``gate`` (if set) holds fetches until released."""

    def __init__(self) -> None:
        self.fetches: Counter[tuple[str, str]] = Counter()
        self.accounts_of: dict[str, list[dict[str, Any]]] = {}
        self.years = [2025, 2026]
        self.gate: threading.Event | None = None
        self.entered = threading.Semaphore(0)
        self.fail_next: list[BaseException] = []

    def _fetch(self, key: str, kind: str, answer: Callable[[], Any]) -> Any:
        self.fetches[(key, kind)] += 1
        self.entered.release()
        if self.gate is not None:
            self.gate.wait()
        if self.fail_next:
            raise self.fail_next.pop(0)
        return answer()

    def financial_years(self, user_key: str) -> list[dict[str, Any]]:
        years = [{"id": f"{y}01", "fromDate": f"{y}-01-01", "toDate": f"{y}-12-31", "open": True} for y in self.years]
        return list(self._fetch(user_key, "years", lambda: years))

    def accounts(self, user_key: str) -> list[dict[str, Any]]:
        return list(self._fetch(user_key, "accounts", lambda: self.accounts_of.get(user_key, CHART)))

    def cost_centres(self, user_key: str) -> list[dict[str, Any]]:
        return list(self._fetch(user_key, "cost centres", lambda: []))


CHART = [
    {"id": "1910", "name": "Kassa", "closed": False, "vatCode": "0", "type": "asset"},
    {"id": "3001", "name": "Försäljning 25 %", "closed": False, "vatCode": "1"},
    {"id": "3002", "name": "Försäljning 12 %", "closed": True, "vatCode": "2"},
    *({"id": str(4000 + n), "name": f"Konto {n}", "closed": False} for n in range(200)),
]


@dataclass
class _Row:
    facts: Any = None
    fetched_at: datetime | None = None
    stored_at: datetime | None = None
    forgotten_at: datetime | None = None


class FakeStore:
    """The port's contract in memory: what PostgreSQL's adapter does, with a lock per (company, kind) standing in
    for the advisory lock and the fake clock for the database's."""

    def __init__(self, t: FakeTime) -> None:
        self.t = t
        self.rows: dict[tuple[str, str, str], _Row] = {}
        self.locks: dict[tuple[str, str, str], threading.Lock] = {}
        self.guard = threading.Lock()
        self.down = False
        self.reads = 0

    def _now(self) -> datetime:
        self.t.now += 0.001  # the database's clock moves on between statements
        return datetime.fromtimestamp(self.t.now, UTC)

    def _up(self) -> None:
        if self.down:
            raise StorageUnavailable("connection refused")

    def versions(self, org: str, company: str) -> dict[str, datetime]:
        self._up()
        return {k[2]: r.fetched_at for k, r in self.rows.items() if k[:2] == (org, company) and r.fetched_at}

    def read(self, org: str, company: str, kind: str) -> StoredFacts | None:
        self._up()
        self.reads += 1
        row = self.rows.get((org, company, kind))
        return StoredFacts(row.facts, row.fetched_at) if row and row.fetched_at else None

    def fetch_once(
        self,
        org: str,
        company: str,
        kind: str,
        usable: Callable[[StoredFacts, bool], bool],
        fetch: Callable[[StoredFacts | None], Any],
    ) -> Fetched:
        self._up()
        key = (org, company, kind)
        with self.guard:
            lock = self.locks.setdefault(key, threading.Lock())
        waited_since = self._now()
        with lock:
            row = self.rows.setdefault(key, _Row())
            began = self._now()
            kept = StoredFacts(row.facts, row.fetched_at) if row.fetched_at else None
            if kept is not None:
                meanwhile = row.stored_at is not None and row.stored_at >= waited_since
                if usable(kept, meanwhile):
                    return Fetched(kept, fresh=meanwhile)
            found = fetch(kept)
            stored = row.forgotten_at is None or row.forgotten_at < began
            if stored:
                row.facts, row.fetched_at, row.stored_at = found, began, self._now()
            return Fetched(StoredFacts(found, began), fresh=True, kept=stored)

    def forget(self, org: str, company: str, kinds: Collection[str] = KINDS) -> None:
        self._up()
        for kind in kinds:
            row = self.rows.get((org, company, kind))
            if row is not None:
                row.facts, row.fetched_at, row.forgotten_at = None, None, self._now()


class RecordingStore(FakeStore):
    def __init__(self, t: FakeTime) -> None:
        super().__init__(t)
        self.forgotten: list[tuple[str, ...]] = []

    def forget(self, org: str, company: str, kinds: Collection[str] = KINDS) -> None:
        self.forgotten.append(tuple(kinds))
        super().forget(org, company, kinds)

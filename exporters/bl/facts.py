"""What the pre-flight knows of each BL company: its fiscal years, and the accounts and cost centres its vouchers
use. Fetched once per company for every pod and kept across restarts, so a night's booking asks BL only for what
it books (issue #27: two requests per booked day).

- **Kept in PostgreSQL, read through memory.** The store (:class:`service.company_facts.CompanyFactsStore`, given
  by :mod:`dayclose.bootstrap`) holds the facts per (organization, company); this process keeps what it read in
  memory, and every pre-flight first asks the store which facts are current (:meth:`CompanyFacts.confirm`: one
  small read), so a forget in another process — a refusal there, a plan saved in the API — is seen by the next
  pre-flight here. How long each kind stays valid: :mod:`exporters.bl.kept`.
- **One fetch for everyone.** Threads asking about one company wait for one fetch (:mod:`exporters.bl.flights`);
  processes wait for one another on the store's lock.
- **A refusal is made on fresh facts only.** What is kept can only let through a voucher that BL then refuses (BL
  refuses a post into a closed year or a locked period or onto a missing or closed account) — except an account's
  VAT code, which BL does not check (the TTL bounds it). A check that fails on kept facts asks BL again
  (``fresh=True``) before it refuses (:mod:`exporters.bl.preflight`), and every merchant-fixable refusal forgets
  what it concerns (:meth:`CompanyFacts.forget`), so the attempt after the merchant's fix, in any process, asks BL.
- **Small.** Of the chart only the accounts and cost centres asked about are kept, with those the caller expects to
  ask about next (its plan's: ``also``); asking about another one fetches the chart again. In memory, at most
  ``max_companies`` companies, the least recently used dropped first.
- **Without an organization or a store** (the API's exporter, tests) the facts are kept in this process only.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, NamedTuple

import structlog

from exporters.bl.client import BLClient
from exporters.bl.flights import Flights
from exporters.bl.kept import (
    ChartFact,
    Company,
    Known,
    chart_facts,
    decode,
    encode,
    fiscal_years,
    kept_subset,
    valid_for,
)
from mapping.periods import FiscalYear
from service.company_facts import ACCOUNTS, COST_CENTRES, FISCAL_YEARS, KINDS, CompanyFactsStore, StoredFacts
from service.ports import StorageUnavailable

log = structlog.get_logger(__name__)


@dataclass
class _Kept:
    value: Any
    fetched_at: float  # wall clock, seconds
    version: datetime | None  # the store's fetched_at, None when kept in memory only


@dataclass
class _Company:
    kept: dict[str, _Kept] = field(default_factory=dict)
    #: Bumped by every forget of a kind: what a look that began before it finds is kept for nobody.
    epoch: dict[str, int] = field(default_factory=dict)


class _Since(NamedTuple):
    company: _Company
    epoch: int


class _Answer(NamedTuple):
    value: Any
    fresh: bool
    whole: bool  # everything BL holds of the kind (a fetch's answer), not what was kept of it


class CompanyFacts:
    def __init__(
        self,
        client: BLClient,
        ttl_s: float,
        clock: Callable[[], float] = time.time,
        max_companies: int = 20_000,
        store: CompanyFactsStore | None = None,
    ) -> None:
        self._client = client
        self._ttl_s = ttl_s
        self._clock = clock
        self._max = max_companies
        self._store = store
        self._lock = threading.Lock()
        self._companies: OrderedDict[tuple[str, str], _Company] = OrderedDict()
        self._flights: Flights[tuple[tuple[str, str], str], _Answer] = Flights()

    def financial_years(self, company: Company, *, fresh: bool = False) -> Known[list[FiscalYear]]:
        return self._ask(company, FISCAL_YEARS, lambda _: True, (), fresh)

    def financial_year(self, company: Company, day: date, *, fresh: bool = False) -> Known[FiscalYear | None]:
        """The fiscal year covering ``day``, from the company's years (a date outside the kept years asks BL)."""
        known = self._ask(company, FISCAL_YEARS, lambda years: any(y.covers(day) for y in years), (), fresh)
        return Known(next((y for y in known.value if y.covers(day)), None), known.fresh)

    def accounts(
        self, company: Company, wanted: Collection[str], also: Collection[str] = (), *, fresh: bool = False
    ) -> Known[dict[str, ChartFact]]:
        """The ``wanted`` accounts that exist in the company's chart (keeping ``also`` from a fetch, if one is made)."""
        return self._chart(company, ACCOUNTS, wanted, also, fresh)

    def cost_centres(
        self, company: Company, wanted: Collection[str], also: Collection[str] = (), *, fresh: bool = False
    ) -> Known[dict[str, ChartFact]]:
        """The ``wanted`` cost centres that exist in the company's BL (keeping ``also`` from a fetch, if made)."""
        return self._chart(company, COST_CENTRES, wanted, also, fresh)

    def confirm(self, company: Company) -> None:
        """Drop what this process keeps of the company that the store no longer holds as it was (forgotten or
        fetched again by another process). When the store cannot say, nothing kept here is trusted."""
        store = self._store_of(company)
        if store is None or company.org is None:
            return
        try:
            current = store.versions(company.org, company.digest)
        except StorageUnavailable as exc:
            log.warning("bl.facts_store_unavailable", step="confirm", error=str(exc))
            current = {}
        with self._lock:
            kept = self._companies.get(company.name)
            if kept is None:
                return
            for kind, was in list(kept.kept.items()):
                if was.version is None or current.get(kind) != was.version:
                    del kept.kept[kind]

    def forget(self, company: Company, kinds: Collection[str] = KINDS) -> None:
        """Ask BL again next time, in every process (the merchant will fix something); fetches in progress are kept
        for nobody."""
        with self._lock:
            kept = self._companies.get(company.name)
            for kind in kinds:
                if kept is not None:
                    kept.kept.pop(kind, None)
                    kept.epoch[kind] = kept.epoch.get(kind, 0) + 1
        self._flights.detach(lambda key: key[0] == company.name and key[1] in kinds)
        store = self._store_of(company)
        if store is not None and company.org is not None:
            try:
                store.forget(company.org, company.digest, kinds)
            except StorageUnavailable as exc:  # the other processes' next pre-flight may use what they keep
                log.warning("bl.facts_store_unavailable", step="forget", error=str(exc))

    def __len__(self) -> int:
        with self._lock:
            return len(self._companies)

    # -- asking ----------------------------------------------------------------------------------------------------

    def _chart(
        self, company: Company, kind: str, wanted: Collection[str], also: Collection[str], fresh: bool
    ) -> Known[dict[str, ChartFact]]:
        ids = set(wanted)
        known = self._ask(company, kind, lambda chart: ids <= chart.keys(), ids.union(also), fresh)
        return Known(kept_subset(known.value, ids), known.fresh)

    def _ask(
        self, company: Company, kind: str, usable: Callable[[Any], bool], keep: Collection[str], fresh: bool
    ) -> Known[Any]:
        """What is known of ``kind`` that ``usable`` accepts: kept (here, then in the store), unless ``fresh``;
        else from one fetch for every thread and process asking meanwhile."""
        if not fresh:
            for look in (self._remembered, self._stored):
                value = look(company, kind)
                if value is not None and usable(value):
                    return Known(value, False)
        while True:
            answer, led = self._flights.run(
                (company.name, kind), lambda: self._lead(company, kind, usable, keep, fresh)
            )
            if led or ((answer.fresh or not fresh) and (answer.whole or usable(answer.value))):
                return Known(answer.value, answer.fresh)
            # another thread's answer does not answer this question (other accounts, or kept, not fresh): ask again

    def _lead(
        self, company: Company, kind: str, usable: Callable[[Any], bool], keep: Collection[str], fresh: bool
    ) -> _Answer:
        since, began = self._since(company, kind), self._clock()  # kept facts age from when their fetch began
        store = self._store_of(company)
        whole: list[Any] = []

        def fetch(kept: StoredFacts | None) -> Any:
            whole.append(self._from_bl(company, kind))
            before = decode(kind, kept.facts) if kept is not None and kind != FISCAL_YEARS else {}
            return encode(kind, self._keepable(kind, whole[0], [*keep, *before]))

        def acceptable(kept: StoredFacts, fetched_meanwhile: bool) -> bool:
            valid = fetched_meanwhile or (not fresh and self._valid(company, kind, kept.fetched_at.timestamp()))
            return valid and usable(decode(kind, kept.facts))

        if store is not None and company.org is not None:
            try:
                got = store.fetch_once(company.org, company.digest, kind, acceptable, fetch)
            except StorageUnavailable as exc:
                log.warning("bl.facts_store_unavailable", step="fetch", error=str(exc))
            else:
                value = decode(kind, got.stored.facts)
                if got.kept:
                    self._remember(
                        company, kind, _Kept(value, got.stored.fetched_at.timestamp(), got.stored.fetched_at), since
                    )
                if whole:
                    return _Answer(whole[0], True, True)
                return _Answer(value, got.fresh, got.fresh and kind == FISCAL_YEARS)
        if not whole:
            whole.append(self._from_bl(company, kind))
        before = self._remembered(company, kind) if kind != FISCAL_YEARS else None
        keepable = self._keepable(kind, whole[0], [*keep, *(before or {})])
        self._remember(company, kind, _Kept(keepable, began, None), since)
        return _Answer(whole[0], True, True)

    def _from_bl(self, company: Company, kind: str) -> Any:
        if kind == FISCAL_YEARS:
            return fiscal_years(self._client.financial_years(company.user_key))
        if kind == ACCOUNTS:
            return chart_facts(self._client.accounts(company.user_key))
        return chart_facts(self._client.cost_centres(company.user_key))

    @staticmethod
    def _keepable(kind: str, whole: Any, keep: Collection[str]) -> Any:
        return whole if kind == FISCAL_YEARS else kept_subset(whole, keep)

    # -- keeping ---------------------------------------------------------------------------------------------------

    def _store_of(self, company: Company) -> CompanyFactsStore | None:
        return self._store if company.org is not None else None

    def _valid(self, company: Company, kind: str, fetched_at: float) -> bool:
        life = valid_for(kind, self._ttl_s, company.digest)
        return life is None or self._clock() - fetched_at < life

    def _remembered(self, company: Company, kind: str) -> Any:
        with self._lock:
            kept = self._companies.get(company.name)
            was = kept.kept.get(kind) if kept else None
            if was is None:
                return None
            self._companies.move_to_end(company.name)
        return was.value if self._valid(company, kind, was.fetched_at) else None

    def _stored(self, company: Company, kind: str) -> Any:
        store = self._store_of(company)
        if store is None or company.org is None:
            return None
        since = self._since(company, kind)
        try:
            stored = store.read(company.org, company.digest, kind)
        except StorageUnavailable as exc:
            log.warning("bl.facts_store_unavailable", step="read", error=str(exc))
            return None
        if stored is None or not self._valid(company, kind, stored.fetched_at.timestamp()):
            return None
        value = decode(kind, stored.facts)
        self._remember(company, kind, _Kept(value, stored.fetched_at.timestamp(), stored.fetched_at), since)
        return value

    def _since(self, company: Company, kind: str) -> _Since:
        """Where a look begins: kept only if no forget of the kind came after it."""
        with self._lock:
            kept = self._companies.get(company.name)
            if kept is None:
                kept = self._companies[company.name] = _Company()
                while len(self._companies) > self._max:
                    self._companies.popitem(last=False)
            self._companies.move_to_end(company.name)
            return _Since(kept, kept.epoch.get(kind, 0))

    def _remember(self, company: Company, kind: str, kept: _Kept, since: _Since) -> None:
        with self._lock:
            current = self._companies.get(company.name)
            if current is since.company and current.epoch.get(kind, 0) == since.epoch:
                current.kept[kind] = kept

"""What the pre-flight knows of each BL company: its fiscal years, and the accounts and cost centres its vouchers
use. Fetched once per company and day, and shared by every worker of the process.

- **Once per company and day.** An answer is kept for ``ttl_s`` (a day by default). BL remains the judge of every
  voucher (it refuses a post into a closed year or a locked period, or onto a missing or closed account), so a kept
  answer can only let through a voucher that BL then refuses; every merchant-fixable refusal forgets the company
  (:meth:`CompanyFacts.forget`), so the attempt after the merchant's fix asks BL again. What a kept answer can miss
  for up to a day is what BL does not check: an account's VAT code changed to contradict the plan, a new name of an
  account in the day report.
- **Single flight.** Workers asking about the same company at once wait for one fetch and share its answer, or its
  failure (the stores of one merchant close together). A fetch that began before the company was forgotten is
  shared with those already waiting, but kept for nobody.
- **Small.** Fiscal years are kept whole (a few per company). Of the chart, only the accounts and cost centres asked
  about are kept (name, closed, VAT code), with those the caller expects to ask about next (its plan's: ``also``),
  not the company's whole chart (up to a thousand accounts): asking about another one fetches the chart again. At
  most ``max_companies`` companies, the least recently used dropped first.
- **Keyed by the company (User-Key)**: the facts are the BL company's, the same for every organization booking into
  it; no organization's data is in them.
"""

from __future__ import annotations

import sys
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, NamedTuple

from exporters.bl.client import BLClient
from mapping.periods import FiscalYear

ACCOUNTS, COST_CENTRES, YEARS = "accounts", "cost centres", "fiscal years"


class ChartFact(NamedTuple):
    """An account or a cost centre as the pre-flight, the audit record and the day report need it."""

    name: str
    closed: bool
    vat_code: str = ""


@dataclass
class _Company:
    #: kind → (when the fetch began, what is kept). Chart kinds keep only the ids asked about.
    kept: dict[str, tuple[float, Any]] = field(default_factory=dict)


class _Flight:
    """One fetch in progress, for every thread asking the same question meanwhile."""

    def __init__(self, company: _Company, started: float) -> None:
        self.company = company
        self.started = started
        self.done = threading.Event()
        self.value: Any = None
        self.error: BaseException | None = None


class CompanyFacts:
    def __init__(
        self,
        client: BLClient,
        ttl_s: float,
        clock: Callable[[], float] = time.monotonic,
        max_companies: int = 20_000,
    ) -> None:
        self._client = client
        self._ttl_s = ttl_s
        self._clock = clock
        self._max = max_companies
        self._lock = threading.Lock()
        self._companies: OrderedDict[str, _Company] = OrderedDict()
        self._flights: dict[tuple[str, str], _Flight] = {}

    def financial_years(self, user_key: str) -> list[FiscalYear]:
        hit = self._kept(user_key, YEARS)
        if hit is not None:
            years: list[FiscalYear] = hit
            return years
        flight = self._fetch(user_key, YEARS, lambda: fiscal_years(self._client.financial_years(user_key)))
        self._keep(user_key, YEARS, flight, lambda _: flight.value)
        fetched: list[FiscalYear] = flight.value
        return fetched

    def financial_year(self, user_key: str, day: date) -> FiscalYear | None:
        """The fiscal year covering ``day``, from the company's list of years (one fetch serves every date)."""
        return next((year for year in self.financial_years(user_key) if year.covers(day)), None)

    def accounts(self, user_key: str, wanted: Collection[str], also: Collection[str] = ()) -> dict[str, ChartFact]:
        """The ``wanted`` accounts that exist in the company's chart (keeping ``also`` from a fetch, if one is made)."""
        return self._chart(user_key, ACCOUNTS, wanted, also, lambda: self._client.accounts(user_key))

    def cost_centres(self, user_key: str, wanted: Collection[str], also: Collection[str] = ()) -> dict[str, ChartFact]:
        """The ``wanted`` cost centres that exist in the company's BL (keeping ``also`` from a fetch, if made)."""
        return self._chart(user_key, COST_CENTRES, wanted, also, lambda: self._client.cost_centres(user_key))

    def forget(self, user_key: str) -> None:
        """Ask BL again next time (the merchant will fix something); fetches in progress are kept for nobody."""
        with self._lock:
            self._companies.pop(user_key, None)
            for kind in (ACCOUNTS, COST_CENTRES, YEARS):
                self._flights.pop((user_key, kind), None)

    def __len__(self) -> int:
        with self._lock:
            return len(self._companies)

    # -- the cache -------------------------------------------------------------------------

    def _chart(
        self,
        user_key: str,
        kind: str,
        wanted: Collection[str],
        also: Collection[str],
        fetch: Callable[[], list[dict[str, Any]]],
    ) -> dict[str, ChartFact]:
        ids = set(wanted)
        hit = self._kept(user_key, kind)
        if hit is not None and ids <= hit.keys():
            return {i: hit[i] for i in ids}
        flight = self._fetch(user_key, kind, lambda: _facts(fetch()))
        whole: dict[str, ChartFact] = flight.value

        def merged(kept: Mapping[str, ChartFact] | None) -> dict[str, ChartFact]:
            return {i: whole[i] for i in ids.union(also, kept or ()) if i in whole}

        self._keep(user_key, kind, flight, merged)
        return {i: whole[i] for i in ids if i in whole}

    def _kept(self, user_key: str, kind: str) -> Any:
        with self._lock:
            company = self._companies.get(user_key)
            if company is None or kind not in company.kept:
                return None
            self._companies.move_to_end(user_key)
            started, value = company.kept[kind]
            return value if self._clock() - started < self._ttl_s else None

    def _fetch(self, user_key: str, kind: str, fetch: Callable[[], Any]) -> _Flight:
        """The answer of the fetch in progress for (company, kind), or of a new one this thread makes."""
        with self._lock:
            flight = self._flights.get((user_key, kind))
            leader = flight is None
            if flight is None:
                flight = self._flights[(user_key, kind)] = _Flight(self._company(user_key), self._clock())
        if leader:
            try:
                flight.value = fetch()  # outside the lock: a slow BL must not hold up other companies
            except BaseException as exc:  # noqa: BLE001 - shared with the waiters, then raised below
                flight.error = exc
            finally:
                with self._lock:
                    if self._flights.get((user_key, kind)) is flight:
                        del self._flights[(user_key, kind)]
                flight.done.set()
        else:
            flight.done.wait()  # the leader's fetch is bounded by the client's timeouts and retries
        if flight.error is not None:
            raise flight.error
        return flight

    def _keep(self, user_key: str, kind: str, flight: _Flight, value: Callable[[Any], Any]) -> None:
        """Keep what ``flight`` found, unless the company was forgotten (or dropped) since it began."""
        with self._lock:
            company = self._companies.get(user_key)
            if company is not flight.company:
                return
            before = company.kept.get(kind)
            company.kept[kind] = (flight.started, value(before[1] if before else None))

    def _company(self, user_key: str) -> _Company:
        company = self._companies.get(user_key)
        if company is None:
            company = self._companies[user_key] = _Company()
            while len(self._companies) > self._max:
                self._companies.popitem(last=False)
        self._companies.move_to_end(user_key)
        return company


def fiscal_years(raw: Iterable[dict[str, Any]]) -> list[FiscalYear]:
    """BL's ``FinancialYear`` list as fiscal years (a year without its dates says nothing, and is left out)."""
    return [
        FiscalYear(
            id=str(fy.get("id") or ""),
            from_date=date.fromisoformat(str(fy["fromDate"])),
            to_date=date.fromisoformat(str(fy["toDate"])),
            open=fy.get("open") is not False,
            first_open_period=str(fy.get("firstOpenPeriod") or ""),
        )
        for fy in raw
        if fy.get("fromDate") and fy.get("toDate")
    ]


def _facts(items: Iterable[dict[str, Any]]) -> dict[str, ChartFact]:
    """BL's accounts or cost centres by id, as the few interned fields the checks and reports read."""
    return {
        sys.intern(str(item.get("id"))): ChartFact(
            sys.intern(str(item.get("name") or "")),
            item.get("closed") is True,
            sys.intern(str(item.get("vatCode") or "")),
        )
        for item in items
        if item.get("id") is not None
    }

"""Pre-flight: can this voucher be booked in this company's books right now?

BL answers most of these questions itself when we post, but asking first lets us name every
problem at once (all missing accounts, not just the first) and keeps failed posts out of the
merchant's audit log. What BL told us is cached per company for a short TTL, and forgotten as
soon as a check fails, so a merchant's fix is seen on the next retry.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import date
from typing import Any, TypeVar

from exporters.bl.client import BLClient
from mapping.voucher import Voucher
from service.exporter import MerchantActionRequired
from service.reasons import ReasonCode
from service.vatcodes import vat_code_conflict

T = TypeVar("T")


class CompanyFacts:
    """Fiscal years, accounts and cost centres per User-Key, cached for ``ttl_s`` seconds."""

    def __init__(self, client: BLClient, ttl_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._client = client
        self._ttl_s = ttl_s
        self._clock = clock
        self._lock = threading.Lock()
        self._cache: dict[tuple[str, str, str], tuple[float, Any]] = {}

    def financial_year(self, user_key: str, day: date) -> dict[str, Any] | None:
        return self._cached(user_key, "fy", day.isoformat(), lambda: self._client.financial_year_for(user_key, day))

    def financial_years(self, user_key: str) -> list[dict[str, Any]]:
        return self._cached(user_key, "fys", "", lambda: self._client.financial_years(user_key))

    def accounts(self, user_key: str) -> dict[str, dict[str, Any]]:
        return self._cached(user_key, "accounts", "", lambda: _by_id(self._client.accounts(user_key)))

    def cost_centres(self, user_key: str) -> dict[str, dict[str, Any]]:
        return self._cached(user_key, "costcenters", "", lambda: _by_id(self._client.cost_centres(user_key)))

    def forget(self, user_key: str) -> None:
        with self._lock:
            for key in [k for k in self._cache if k[0] == user_key]:
                del self._cache[key]

    def _cached(self, user_key: str, kind: str, sub: str, fetch: Callable[[], T]) -> T:
        key = (user_key, kind, sub)
        now = self._clock()
        with self._lock:
            hit = self._cache.get(key)
            if hit is not None and now - hit[0] < self._ttl_s:
                cached: T = hit[1]
                return cached
        value = fetch()  # outside the lock: a slow BL must not serialise every company
        with self._lock:
            self._cache[key] = (now, value)
        return value


def _by_id(items: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {str(item.get("id")): item for item in items}


def period_of(day: date) -> str:
    """BL's period id for a date: ``YYYYMM``."""
    return f"{day.year:04d}{day.month:02d}"


def check(facts: CompanyFacts, voucher: Voucher, user_key: str) -> str:
    """Raise :class:`MerchantActionRequired` naming every problem; return the fiscal year's id."""
    problems: list[MerchantActionRequired] = []
    fy = facts.financial_year(user_key, voucher.entry_date)
    fy_id = ""
    day = voucher.entry_date.isoformat()
    if fy is None:
        problems.append(
            MerchantActionRequired(ReasonCode.FISCAL_YEAR_MISSING, f"no fiscal year in BL covers {day}", {"date": day})
        )
    else:
        fy_id = str(fy.get("id") or "")
        if fy.get("open") is False:
            problems.append(
                MerchantActionRequired(
                    ReasonCode.FISCAL_YEAR_CLOSED,
                    f"fiscal year {fy_id} is closed in BL",
                    {"financial_year": fy_id},
                )
            )
        first_open = str(fy.get("firstOpenPeriod") or "")
        if first_open and period_of(voucher.entry_date) < first_open:
            problems.append(
                MerchantActionRequired(
                    ReasonCode.PERIOD_LOCKED,
                    f"{day} is in a locked period (first open period is {first_open})",
                    {"date": day, "first_open_period": first_open},
                )
            )
    problems.extend(_account_problems(facts, voucher, user_key))
    problems.extend(_cost_centre_problems(facts, voucher, user_key))
    if problems:
        first = problems[0]
        if len(problems) > 1:
            first.details["other_problems"] = [{"reason_code": str(p.reason_code), **p.details} for p in problems[1:]]
        raise first
    return fy_id


def _account_problems(facts: CompanyFacts, voucher: Voucher, user_key: str) -> list[MerchantActionRequired]:
    accounts = facts.accounts(user_key)
    used = sorted({row.account for row in voucher.rows})
    missing = [a for a in used if a not in accounts]
    closed = [a for a in used if a in accounts and accounts[a].get("closed") is True]
    problems = _vat_code_problems(accounts, voucher)
    if missing:
        problems.append(
            MerchantActionRequired(
                ReasonCode.ACCOUNT_MISSING_IN_BL,
                f"accounts missing in BL: {', '.join(missing)}",
                {"accounts": missing},
            )
        )
    if closed:
        problems.append(
            MerchantActionRequired(
                ReasonCode.ACCOUNT_CLOSED, f"accounts closed in BL: {', '.join(closed)}", {"accounts": closed}
            )
        )
    return problems


def _vat_code_problems(accounts: dict[str, dict[str, Any]], voucher: Voucher) -> list[MerchantActionRequired]:
    """A sales account whose VAT code in BL says another rate than the one the plan books on it."""
    conflicts = [
        (account, why)
        for account, rate in voucher.sales_rates
        if account in accounts and (why := vat_code_conflict(account, rate, accounts[account].get("vatCode")))
    ]
    if not conflicts:
        return []
    named = sorted({account for account, _ in conflicts})
    return [
        MerchantActionRequired(
            ReasonCode.ACCOUNT_VAT_CODE_MISMATCH,
            "; ".join(why for _, why in conflicts),
            {"accounts": named, **{f"account {a}": "; ".join(w for b, w in conflicts if b == a) for a in named}},
        )
    ]


def _cost_centre_problems(facts: CompanyFacts, voucher: Voucher, user_key: str) -> list[MerchantActionRequired]:
    used = sorted({row.cost_centre for row in voucher.rows if row.cost_centre})
    if not used:
        return []
    centres = facts.cost_centres(user_key)
    bad = [c for c in used if c not in centres or centres[c].get("closed") is True]
    if not bad:
        return []
    return [
        MerchantActionRequired(
            ReasonCode.COST_CENTRE_MISSING,
            f"cost centres missing or closed in BL: {', '.join(bad)}",
            {"cost_centres": bad},
        )
    ]

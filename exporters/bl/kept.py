"""The facts the pre-flight keeps of a BL company, as values and as the JSON the store keeps, and how long each kind
stays valid.

- **Fiscal years** (with their locked-through period) stay valid until a date outside them is asked about, or BL
  refuses a date, a year or a period (a merchant-fixable refusal forgets them): a company's years change a few
  times a year, and BL refuses every post the kept years would wrongly let through.
- **Accounts and cost centres** stay valid for the TTL (``BL_PREFLIGHT_TTL_SECONDS``, a week by default), spread
  over its last fifth per company (:func:`spread`) so that companies first seen on one night do not all ask again
  on one night. BL refuses a post on a missing or closed account or cost centre; what it does not check is an
  account's VAT code, so the TTL bounds how long a VAT code changed in BL (without the plan being saved: a save
  forgets) can go unseen by the courtesy check.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Generic, NamedTuple, TypeVar

from mapping.periods import FiscalYear
from service.company_facts import ACCOUNTS, COST_CENTRES, FISCAL_YEARS, company_digest

T = TypeVar("T")
#: Accounts and cost centres are valid for between SPREAD_FLOOR × TTL and the TTL, fixed per company.
SPREAD_FLOOR = 0.8


@dataclass(frozen=True, slots=True)
class Company:
    """A BL company as one organization books into it: the key for BL, the digest its facts are kept under.
    Without an organization, its facts are kept in this process only."""

    user_key: str = field(repr=False)
    org: str | None
    digest: str

    @classmethod
    def of(cls, user_key: str, org: str | None = None) -> Company:
        return cls(user_key, org, company_digest(user_key))

    @property
    def name(self) -> tuple[str, str]:
        return (self.org or "", self.digest)


class Known(NamedTuple, Generic[T]):
    """An answer about a company. ``fresh``: found by a fetch that ended while it was asked, not kept from
    before (a refusal is only ever made on fresh facts: :mod:`exporters.bl.preflight`)."""

    value: T
    fresh: bool


class ChartFact(NamedTuple):
    """An account or a cost centre as the pre-flight, the audit record and the day report need it."""

    name: str
    closed: bool
    vat_code: str = ""


def spread(digest: str) -> float:
    """The share of the TTL a company's accounts are valid for: fixed per company, between SPREAD_FLOOR and 1."""
    return SPREAD_FLOOR + (1 - SPREAD_FLOOR) * int(digest[:8], 16) / 0xFFFFFFFF


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


def chart_facts(items: Iterable[dict[str, Any]]) -> dict[str, ChartFact]:
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


def encode(kind: str, value: Any) -> Any:
    """The JSON the store keeps for ``kind``."""
    if kind == FISCAL_YEARS:
        return [
            {
                "id": y.id,
                "from": y.from_date.isoformat(),
                "to": y.to_date.isoformat(),
                "open": y.open,
                "first_open_period": y.first_open_period,
            }
            for y in value
        ]
    return {i: {"name": f.name, "closed": f.closed, "vat_code": f.vat_code} for i, f in value.items()}


def decode(kind: str, facts: Any) -> Any:
    """The value of what the store keeps for ``kind``."""
    if kind == FISCAL_YEARS:
        return [
            FiscalYear(
                y["id"], date.fromisoformat(y["from"]), date.fromisoformat(y["to"]), y["open"], y["first_open_period"]
            )
            for y in facts
        ]
    return {
        sys.intern(i): ChartFact(sys.intern(f["name"]), bool(f["closed"]), sys.intern(f["vat_code"]))
        for i, f in facts.items()
    }


def valid_for(kind: str, ttl_s: float, digest: str) -> float | None:
    """How long ``kind`` stays valid after its fetch began (None: until forgotten or outgrown)."""
    if kind == FISCAL_YEARS:
        return None
    if kind in (ACCOUNTS, COST_CENTRES):
        return ttl_s * spread(digest)
    raise ValueError(f"unknown kind of facts: {kind}")


def kept_subset(whole: Mapping[str, ChartFact], ids: Iterable[str]) -> dict[str, ChartFact]:
    return {i: whole[i] for i in ids if i in whole}

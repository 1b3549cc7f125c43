"""The merchant's account plan: which BAS account every payment method, VAT rate, product group
and other event is booked on, optional cost centres per store, and the voucher series.

A plan may be stored half-filled while the merchant works through BackOffice, so building one
never raises; :meth:`AccountPlan.problems` lists per-field problems for the form, and
:meth:`AccountPlan.missing_for` lists what a given batch needs that the plan lacks.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import TypeVar

from mapping.errors import InvalidPlanError, MissingItem, PlanProblem
from mapping.sales import CASH_METHOD, DEPOSIT, FLOAT_CHANGE, GIFT_CARD_METHOD, WITHDRAWAL, SalesBatch
from mapping.voucher import ACCOUNT_PATTERN, SERIES_PATTERN


class Event(StrEnum):
    """Other events (övriga händelser) and what their account means."""

    TIPS = "TIPS"  # liability to staff for card tips (credit)
    ROUNDING = "ROUNDING"  # öresavrundning, e.g. 3740
    CASH_DIFFERENCE = "CASH_DIFFERENCE"  # kassadifferens at day close
    CASH_DEPOSIT = "CASH_DEPOSIT"  # where cash put into the register comes from, e.g. 1930
    CASH_WITHDRAWAL = "CASH_WITHDRAWAL"  # where cash taken out goes, e.g. 1930 / kassaöverföring
    FLOAT_CHANGE = "FLOAT_CHANGE"  # counter account when the change float (växelkassa) changes
    EXPIRED_GIFT_CARD = "EXPIRED_GIFT_CARD"  # revenue from expired multi-purpose gift cards


MOVEMENT_EVENT = {
    DEPOSIT: Event.CASH_DEPOSIT,
    WITHDRAWAL: Event.CASH_WITHDRAWAL,
    FLOAT_CHANGE: Event.FLOAT_CHANGE,
}


K = TypeVar("K")
V = TypeVar("V")


def _frozen(mapping: Mapping[K, V]) -> Mapping[K, V]:
    return MappingProxyType(dict(mapping))


@dataclass(frozen=True)
class AccountPlan:
    """One organization's mapping to accounts. All accounts are 4-digit BAS numbers as strings.

    ``vat_rates`` maps basis points (2500 = 25 %) to the output VAT account. A 0 % rate books no
    VAT and needs no account. ``events`` maps :class:`Event` codes to accounts. Cost centres go
    on result rows (accounts 3xxx–8xxx) only, unless ``cost_centre_on_balance_accounts``: cash
    and receivables are not followed up per store in Swedish practice.
    """

    organization_id: str
    series: str
    payment_methods: Mapping[str, str] = field(default_factory=dict)
    vat_rates: Mapping[int, str] = field(default_factory=dict)
    product_groups: Mapping[str, str] = field(default_factory=dict)
    events: Mapping[str, str] = field(default_factory=dict)
    store_cost_centres: Mapping[str, str] = field(default_factory=dict)
    cost_centre_on_balance_accounts: bool = False

    def __post_init__(self) -> None:
        # Copied and read-only, so a plan cannot change under a running aggregation.
        for name in ("payment_methods", "vat_rates", "product_groups", "events", "store_cost_centres"):
            object.__setattr__(self, name, _frozen(getattr(self, name)))

    def problems(self) -> tuple[PlanProblem, ...]:
        """Every problem with the plan itself, one per field, in a stable order."""
        found: list[PlanProblem] = []
        if not isinstance(self.series, str) or not SERIES_PATTERN.match(self.series):
            found.append(PlanProblem("series", "must be one capital letter or digit"))
        for section, entries in (
            ("payment_methods", self.payment_methods),
            ("product_groups", self.product_groups),
            ("events", self.events),
        ):
            for code, account in sorted(entries.items(), key=lambda kv: str(kv[0])):
                if not isinstance(code, str) or not code.strip():
                    found.append(PlanProblem(f"{section}.{code}", "code must be a non-empty string"))
                found.extend(_account_problem(f"{section}.{code}", account))
        known_events = {e.value for e in Event}
        found += [
            PlanProblem(f"events.{code}", "unknown event")
            for code in sorted(self.events, key=str)
            if code not in known_events
        ]
        for rate, account in sorted(self.vat_rates.items(), key=lambda kv: str(kv[0])):
            if isinstance(rate, bool) or not isinstance(rate, int) or not 0 <= rate <= 10_000:
                found.append(PlanProblem(f"vat_rates.{rate}", "rate must be whole basis points 0..10000"))
            found.extend(_account_problem(f"vat_rates.{rate}", account))
        for store, centre in sorted(self.store_cost_centres.items(), key=lambda kv: str(kv[0])):
            if not isinstance(centre, str) or not centre.strip() or centre != centre.strip():
                found.append(PlanProblem(f"store_cost_centres.{store}", "cost centre must be a non-empty code"))
        return tuple(found)

    def ensure_valid(self) -> None:
        """Raise :class:`InvalidPlanError` listing every problem, if there are any."""
        problems = self.problems()
        if problems:
            raise InvalidPlanError(problems)

    def missing_for(self, batch: SalesBatch) -> tuple[MissingItem, ...]:
        """Everything ``batch`` needs that this plan does not map, sorted by kind then code."""
        missing = {item for item in required_items(batch) if not _has(self, item)}
        order = {"payment_method": 0, "vat_rate": 1, "product_group": 2, "event": 3}
        return tuple(sorted(missing, key=lambda m: (order[m.kind], _code_sort_key(m))))

    def cost_centre_for(self, store_id: str) -> str | None:
        return self.store_cost_centres.get(store_id)


def required_items(batch: SalesBatch) -> set[MissingItem]:
    """What a batch books on, as (kind, code): every method, non-zero VAT rate, group and event."""
    needed: set[MissingItem] = set()
    for receipt in batch.receipts:
        needed.update(MissingItem("payment_method", p.method) for p in receipt.payments)
        for line in receipt.lines:
            needed.add(MissingItem("product_group", line.product_group))
            if line.vat_rate != 0:
                needed.add(MissingItem("vat_rate", str(line.vat_rate)))
        if receipt.tip_ore:
            needed.add(MissingItem("event", Event.TIPS.value))
        if receipt.rounding_ore:
            needed.add(MissingItem("event", Event.ROUNDING.value))
    for movement in batch.cash_movements:
        needed.add(MissingItem("payment_method", CASH_METHOD))
        needed.add(MissingItem("event", MOVEMENT_EVENT[movement.kind].value))
    if batch.gift_card_expiries:
        needed.add(MissingItem("payment_method", GIFT_CARD_METHOD))
        needed.add(MissingItem("event", Event.EXPIRED_GIFT_CARD.value))
    if batch.day_close is not None and batch.day_close.cash_difference_ore:
        needed.add(MissingItem("payment_method", CASH_METHOD))
        needed.add(MissingItem("event", Event.CASH_DIFFERENCE.value))
    return needed


def _has(plan: AccountPlan, item: MissingItem) -> bool:
    if item.kind == "payment_method":
        return item.code in plan.payment_methods
    if item.kind == "vat_rate":
        return int(item.code) in plan.vat_rates
    if item.kind == "product_group":
        return item.code in plan.product_groups
    return item.code in plan.events


def _code_sort_key(item: MissingItem) -> tuple[int, str]:
    # VAT rates sort numerically (600 before 1200), everything else alphabetically.
    return (int(item.code), "") if item.kind == "vat_rate" else (0, item.code)


def _account_problem(field_name: str, account: object) -> list[PlanProblem]:
    if isinstance(account, str) and ACCOUNT_PATTERN.match(account):
        return []
    return [PlanProblem(field_name, f"must be a 4-digit BAS account number, got {account!r}")]

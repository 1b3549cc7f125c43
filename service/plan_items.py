"""What still needs an account before an integration can export, pure: the items stored sales use, the POS
registered, or every plan maps (the standard set), that the account plan does not map yet.

The wizard's step 3 (``GET …/account-plan/missing-items``) shows them and activation is blocked while any is left
(:func:`service.integration_lifecycle.blockers`). The reads are the port :class:`PlanItemReads`
(``storage/history.py`` ``PostgresPlanItems``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Protocol

from mapping.errors import MissingItem as Needed
from mapping.errors import product_group_code, split_product_group_code
from mapping.plan import CURRENT_EVENTS, AccountPlan
from service.model import Integration

#: (kind, code) → the last business date a sale used it.
SeenItems = dict[tuple[str, str], date]
#: (kind, code, VAT rates or None) of an item the POS registered.
Registered = tuple[str, str, list[int] | None]

#: Every plan maps these, whether or not a sale has used them yet: the standard Swedish VAT rates
#: (0 % books no VAT) and every other event. The POS's payment methods and product groups (per VAT rate)
#: come from its sales and registrations.
STANDARD_ITEMS: tuple[tuple[str, str], ...] = (
    *(("vat_rate", str(rate)) for rate in (2500, 1200, 600)),
    *(("event", e.value) for e in CURRENT_EVENTS),
)
#: The order the wizard lists the kinds in.
KIND_ORDER = {"payment_method": 0, "vat_rate": 1, "product_group": 2, "event": 3}
#: How far back "what still needs an account" looks at booked sales, when the start date is not older.
RECENT_DAYS = 90


@dataclass(frozen=True)
class Missing:
    kind: str
    #: The payment method, VAT rate (basis points), product group or event.
    code: str
    #: For a product group: the VAT rate it needs an account at (None: registered without rates).
    vat_rate: int | None
    #: sales, registered or standard.
    source: str
    last_seen: date | None


class PlanItemReads(Protocol):
    def registered(self, org: str) -> list[Registered]:
        """The items the POS registered, sorted."""
        ...

    def seen(self, org: str, since: date) -> SeenItems:
        """What stored sales book on: sales since ``since`` and older sales not booked yet."""
        ...


def lookback(state: Integration | None, today: date) -> date:
    """From when booked sales count: the start date, or the last :data:`RECENT_DAYS` when that is older."""
    recent = today - timedelta(days=RECENT_DAYS)
    return min(state.start_date, recent) if state and state.start_date else recent


def maps(plan: AccountPlan, kind: str, code: str) -> bool:
    return kind in KIND_ORDER and plan.maps(Needed(kind, code))  # type: ignore[arg-type]


def missing_items(plan: AccountPlan | None, seen: SeenItems, registered: Iterable[Registered]) -> list[Missing]:
    """What still needs an account: used by sales, registered by the POS, or standard, and not mapped. A
    product group is needed per VAT rate; one the POS registered without rates needs an account of its own
    unless the plan has default sales accounts."""
    found: dict[tuple[str, str], Missing] = {}
    for (kind, code), day in seen.items():
        found[(kind, code)] = _item(kind, code, "sales", day)
    for kind, code, rates in registered:
        codes = [product_group_code(code, r) for r in rates] if kind == "product_group" and rates else [code]
        for each in codes:
            found.setdefault((kind, each), _item(kind, each, "registered", None))
    for kind, code in STANDARD_ITEMS:
        found.setdefault((kind, code), _item(kind, code, "standard", None))
    missing = [item for key, item in found.items() if plan is None or not maps(plan, *key)]
    return sorted(
        missing,
        key=lambda m: (
            KIND_ORDER[m.kind],
            int(m.code) if m.kind == "vat_rate" else 0,
            m.code,
            m.vat_rate if m.vat_rate is not None else -1,
        ),
    )


def current_missing(
    reads: PlanItemReads, org: str, plan: AccountPlan | None, state: Integration | None, today: date
) -> list[Missing]:
    """What still needs an account now, from the organization's sales and registrations."""
    return missing_items(plan, reads.seen(org, lookback(state, today)), reads.registered(org))


def _item(kind: str, code: str, source: str, day: date | None) -> Missing:
    group, rate = split_product_group_code(code) if kind == "product_group" else (code, None)
    return Missing(kind=kind, code=group, vat_rate=rate, source=source, last_seen=day)

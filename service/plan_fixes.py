"""Which failed exports a new account plan cures, pure: a plan-related failure whose listed unmapped items (if any)
are all mapped now. Saving a plan retries those stores at once (:func:`service.commands.retry_plan_fixes`)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, get_args

from mapping.errors import MissingItem, MissingKind
from mapping.plan import AccountPlan

#: Reasons a plan change can cure; other failures (a closed year in BL…) wait for their own fix.
PLAN_REASONS = frozenset(
    {
        "UNMAPPED_ITEMS",
        "INVALID_PLAN",
        "ACCOUNT_MISSING_IN_BL",
        "ACCOUNT_CLOSED",
        "COST_CENTRE_MISSING",
        "SERIES_MISSING",
        "ACCOUNT_VAT_CODE_MISMATCH",
        "SINGLE_PURPOSE_REDEMPTION_INVALID",
    }
)
_KINDS: frozenset[str] = frozenset(get_args(MissingKind))


def fixed_stores(plan: AccountPlan, failed: Iterable[tuple[str, str | None, Any]]) -> set[str]:
    """Stores with a failed export this plan may now book. The chart was checked before saving, so account failures
    are fixed."""
    stores = set()
    for store, reason, details in failed:
        if reason not in PLAN_REASONS:
            continue
        if reason == "UNMAPPED_ITEMS" and isinstance(details, list):
            listed = [(str(d.get("kind")), str(d.get("code"))) for d in details if isinstance(d, dict)]
            if not all(_maps(plan, kind, code) for kind, code in listed):
                continue
        stores.add(store)
    return stores


def _maps(plan: AccountPlan, kind: str, code: str) -> bool:
    return kind in _KINDS and plan.maps(MissingItem(kind, code))  # type: ignore[arg-type]  # checked: a MissingKind

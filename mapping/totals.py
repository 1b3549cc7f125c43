"""A store-day's running totals: everything a voucher and the Z-report's reconciliation need, summed into the
buckets of :mod:`mapping.buckets` (what each kind of bucket holds, and how an item is added to them).

Totals add (+, merging two parts of a day) and subtract (−, what is new since an earlier snapshot of
the same store-day); buckets that reach all zeros disappear, so equal days have equal totals.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from mapping.buckets import (
    KINDS,
    MOVEMENT,
    Amounts,
    BucketKey,
    BucketRow,
    Buckets,
    SalesItem,
    add_item,
    add_to,
    empty_bucket,
)
from mapping.money import ore
from mapping.register_day import CashMovement, GiftCardExpiry, check_register_day
from mapping.sales import CASH_MOVEMENT_KINDS, Receipt

#: The stored JSON form's version.
FORMAT = 1


@dataclass(frozen=True)
class DayTotals:
    """One register-day's totals (or the part of it one export books): a store's register on a business date
    (``register_id`` "" is the store's one register). Immutable; equal days are equal.

    ``buckets`` is sorted by key with no all-zero bucket; build it with :meth:`of`, :meth:`from_rows`,
    :meth:`from_json` or the operators, not by hand.
    """

    store_id: str
    business_date: date
    buckets: tuple[tuple[BucketKey, Amounts], ...] = ()
    register_id: str = ""
    _index: Mapping[BucketKey, Amounts] = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        problems = [_bucket_problem(key, values) for key, values in self.buckets]
        if any(problems):
            raise ValueError("; ".join(p for p in problems if p))
        keys = [key for key, _ in self.buckets]
        if keys != sorted(set(keys)):
            raise ValueError("buckets must be sorted by key, each key once")
        object.__setattr__(self, "_index", dict(self.buckets))

    # --- construction ------------------------------------------------------------------------------

    @classmethod
    def empty(cls, store_id: str, business_date: date, register_id: str = "") -> DayTotals:
        return cls(store_id, business_date, (), register_id)

    @classmethod
    def of(
        cls,
        store_id: str,
        business_date: date,
        items: Iterable[SalesItem],
        single_purpose: Mapping[str, int] = {},  # noqa: B006 - read only
        *,
        register_id: str = "",
    ) -> DayTotals:
        """The totals of ``items``, all of this register-day, each once
        (:func:`mapping.register_day.check_register_day`).

        ``single_purpose`` maps each single-purpose gift card method to its VAT rate, as the plan does.
        """
        listed = list(items)
        check_register_day(
            store_id,
            business_date,
            register_id,
            [
                *(i for i in listed if isinstance(i, Receipt)),
                *(i for i in listed if isinstance(i, CashMovement)),
                *(i for i in listed if isinstance(i, GiftCardExpiry)),
            ],
        )
        buckets: Buckets = defaultdict(empty_bucket)
        for item in listed:
            add_item(buckets, item, single_purpose)
        return cls._of_buckets(store_id, business_date, buckets, register_id)

    @classmethod
    def from_rows(
        cls, store_id: str, business_date: date, rows: Iterable[BucketRow], register_id: str = ""
    ) -> DayTotals:
        """From bucket rows (as stored, or read back); rows with the same key are summed."""
        buckets: Buckets = defaultdict(empty_bucket)
        for kind, key, rate, a, b, n, m in rows:
            add_to(buckets, (kind, key, rate), a, b, n, m)
        return cls._of_buckets(store_id, business_date, buckets, register_id)

    @classmethod
    def _of_buckets(cls, store_id: str, business_date: date, buckets: Buckets, register_id: str) -> DayTotals:
        kept = sorted((key, (v[0], v[1], v[2], v[3])) for key, v in buckets.items() if any(v))
        return cls(store_id, business_date, tuple(kept), register_id)

    # --- arithmetic --------------------------------------------------------------------------------

    def __add__(self, other: DayTotals) -> DayTotals:
        return self._combine(other, 1)

    def __sub__(self, other: DayTotals) -> DayTotals:
        """What is new in ``self`` since ``other``, an earlier snapshot of the same store-day. Raises
        ValueError when ``other`` holds something ``self`` does not (it is no earlier snapshot)."""
        return self._combine(other, -1)

    def _combine(self, other: DayTotals, sign: int) -> DayTotals:
        if other.day != self.day:
            raise ValueError(f"totals of {other.day} do not combine with {self.day}")
        buckets: Buckets = defaultdict(empty_bucket)
        for key, values in self.buckets:
            add_to(buckets, key, *values)
        for key, (a, b, n, m) in other.buckets:
            add_to(buckets, key, sign * a, sign * b, sign * n, sign * m)
        return self._of_buckets(self.store_id, self.business_date, buckets, self.register_id)

    @property
    def day(self) -> tuple[str, date, str]:
        """(store, business date, register): the register-day these totals are of."""
        return (self.store_id, self.business_date, self.register_id)

    @property
    def is_empty(self) -> bool:
        return not self.buckets

    def get(self, kind: str, key: str = "", rate: int = 0) -> Amounts:
        """One bucket's (a, b, n, m); zeros when the day has none."""
        return self._index.get((kind, key, rate), (0, 0, 0, 0))

    def of_kind(self, kind: str) -> list[tuple[str, int, Amounts]]:
        """Every bucket of ``kind`` as (key, rate, (a, b, n, m)), in key order."""
        return [(key, rate, values) for (k, key, rate), values in self.buckets if k == kind]

    # --- stored forms ------------------------------------------------------------------------------

    def rows(self) -> tuple[BucketRow, ...]:
        """Flat rows (kind, key, rate, a, b, n, m) for a set-based upsert ``… SET a = a + excluded.a``."""
        return tuple((kind, key, rate, a, b, n, m) for (kind, key, rate), (a, b, n, m) in self.buckets)

    def to_json(self) -> dict[str, Any]:
        """A stable JSON form (sorted, integers only) for a jsonb column; :meth:`from_json` reads it back exactly."""
        stored = {
            "format": FORMAT,
            "store_id": self.store_id,
            "business_date": self.business_date.isoformat(),
            "buckets": [list(row) for row in self.rows()],
        }
        if self.register_id:  # totals stored before registers (issue #21) are of the store's one register
            stored["register_id"] = self.register_id
        return stored

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> DayTotals:
        if data.get("format") != FORMAT:
            raise ValueError(f"unknown totals format {data.get('format')!r}")
        rows = [_row(raw) for raw in data["buckets"]]
        totals = cls.from_rows(
            str(data["store_id"]), date.fromisoformat(data["business_date"]), rows, str(data.get("register_id", ""))
        )
        if totals.rows() != tuple(rows):
            raise ValueError("stored totals are not in their canonical form (sorted, no repeats, no zeros)")
        return totals


def _row(raw: object) -> BucketRow:
    if not isinstance(raw, list | tuple) or len(raw) != 7 or not all(isinstance(x, str) for x in raw[:2]):
        raise ValueError(f"a bucket row is [kind, key, rate, a, b, n, m], got {raw!r}")
    kind, key, rate, a, b, n, m = raw
    return (kind, key, ore(rate), ore(a), ore(b), ore(n), ore(m))


def _bucket_problem(key: BucketKey, values: Amounts) -> str:
    kind, code, rate = key
    a, b, n, m = (ore(v) for v in values)
    if kind not in KINDS or not isinstance(code, str) or isinstance(rate, bool) or not isinstance(rate, int):
        return f"unknown bucket {key!r}"
    if not any(values):
        return f"bucket {key!r} is all zeros"
    if kind == MOVEMENT and code not in CASH_MOVEMENT_KINDS:
        return f"bucket {key!r}: unknown cash movement kind"
    if not 0 <= m <= n or (n == 0 and (a or b)):
        # Only a subtraction of something that is not an earlier snapshot gets here.
        return f"bucket {key!r} holds {values!r}: counts below zero or amounts without items"
    return ""

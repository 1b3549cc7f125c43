"""A store-day's running totals: everything a voucher and the Z-report's reconciliation need, summed.

The account plan is applied *after* aggregation (:mod:`mapping.totals_booking`), so the totals are kept
in buckets the plan maps, not on accounts: a plan changed after ingest still books exactly. Each
bucket is ``(kind, key, rate) → (a, b, n, m)``, integer öre and counts, signed like the booking
(``s`` = +1 for a sale, −1 for a return):

==============  ================  ============  ============  ==================  ===========================
kind            key, rate         a             b             n                   m
==============  ================  ============  ============  ==================  ===========================
``line``        group, VAT rate   Σ s·gross     Σ s·VAT       lines               receipts with a line at the
                                                                                  rate, counted on the
                                                                                  receipt's first group there
``payment``     method, 0         Σ s·amount    0             payments            receipts, counted on the
                                                                                  receipt's first payment
``receipt``     "", 0             0             0             receipts without
                                                                a payment
``tip``         "", 0             Σ s·tip       0             receipts with a tip
``rounding``    "", 0             Σ s·rounding  0             receipts rounded
``movement``    kind, 0           Σ amount      0             movements
``expiry``      method, rate      Σ amount      Σ VAT held    expiries            (method "" = gift_card; rate
                                                                                  0 = multi-purpose)
``redemption``  method, its rate  Σ s·P         Σ s·v         payments            (single-purpose methods only)
``sp_excess``   receipt id, 0     excess        0             1                   (only receipts that fail)
``imbalance``   receipt id, 0     residual      0             1                   (only receipts that fail)
``invoice``     receipt id, 0     s·paid        0             1                   (only receipts paid by
                                                                                  invoice: their own voucher)
``refund``      method, 0         Σ amount      0             payments            (only returns: what went back
                                                                                  per method, for the day report)
==============  ================  ============  ============  ==================  ===========================

Counts are kept besides sums because the rules ask *whether* something occurred, not only how much:
a product group sold and returned the same day nets to zero yet still needs an account, and the
VAT policy's rounding tolerance counts the lines at each rate. Receipt counts ride on the
line and payment buckets (``m``) instead of buckets of their own, so a receipt touches about three
buckets, not five: the ingest updates these rows for every event.

Single-purpose gift cards (enfunktionsvoucher) depend on the plan: a redemption takes the VAT it
holds, ``v`` = :func:`mapping.money.vat_included` of each payment at the card's rate, off the day's
VAT, and a receipt whose cards of a rate pay for more than its goods of that rate is an error naming
the receipt. So the totals are built for a mapping of methods to rates (the plan's
``single_purpose_methods`` when the items were summed): ``redemption`` buckets carry P and Σv per
payment, ``sp_excess`` the receipts that would fail. :func:`mapping.totals_booking.stale_redemptions`
says when the plan no longer matches; the caller then sums the day again from its stored items.

Totals add (+, merging two parts of a day) and subtract (−, what is new since an earlier snapshot of
the same store-day); buckets that reach all zeros disappear, so equal days have equal totals.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from mapping.money import ore, vat_included
from mapping.register_day import CashMovement, GiftCardExpiry, check_register_day
from mapping.sales import CASH_MOVEMENT_KINDS, GIFT_CARD_METHOD, Receipt

LINE = "line"
PAYMENT = "payment"
RECEIPT = "receipt"
TIP = "tip"
ROUNDING = "rounding"
MOVEMENT = "movement"
EXPIRY = "expiry"
REDEMPTION = "redemption"
SP_EXCESS = "sp_excess"
IMBALANCE = "imbalance"
INVOICE = "invoice"
REFUND = "refund"
KINDS = (LINE, PAYMENT, RECEIPT, TIP, ROUNDING, MOVEMENT, EXPIRY, REDEMPTION, SP_EXCESS, IMBALANCE, INVOICE, REFUND)
#: The stored JSON form's version.
FORMAT = 1

BucketKey = tuple[str, str, int]
Amounts = tuple[int, int, int, int]
#: One bucket as a flat row (kind, key, rate, a, b, n, m): the shape of the totals table's rows.
BucketRow = tuple[str, str, int, int, int, int, int]
SalesItem = Receipt | CashMovement | GiftCardExpiry
Buckets = defaultdict[BucketKey, list[int]]


def _zeros() -> list[int]:
    return [0, 0, 0, 0]


def _add(buckets: Buckets, key: BucketKey, a: int = 0, b: int = 0, n: int = 0, m: int = 0) -> None:
    bucket = buckets[key]
    bucket[0] += a
    bucket[1] += b
    bucket[2] += n
    bucket[3] += m


def _receipt_buckets(buckets: Buckets, receipt: Receipt, single_purpose: Mapping[str, int]) -> None:
    # Runs for every event at ingest: one pass over lines and payments, no helper calls per line.
    s = receipt.sign
    gross = paid = 0
    first_at: dict[int, str] = {}
    for line in receipt.lines:
        rate, group = line.vat_rate, line.product_group
        bucket = buckets[(LINE, group, rate)]
        bucket[0] += s * line.gross_ore
        bucket[1] += s * line.vat_ore
        bucket[2] += 1
        gross += line.gross_ore
        if rate not in first_at or group < first_at[rate]:
            first_at[rate] = group
    for rate, group in first_at.items():
        buckets[(LINE, group, rate)][3] += 1
    for payment in receipt.payments:
        bucket = buckets[(PAYMENT, payment.method, 0)]
        bucket[0] += s * payment.amount_ore
        bucket[2] += 1
        paid += payment.amount_ore
        if s < 0:  # what a return paid back, per method: the day report's cash takings and returns apart
            _add(buckets, (REFUND, payment.method, 0), payment.amount_ore, 0, 1)
    if receipt.payments:
        buckets[(PAYMENT, receipt.payments[0].method, 0)][3] += 1
    else:
        _add(buckets, (RECEIPT, "", 0), n=1)
    if receipt.tip_ore:
        _add(buckets, (TIP, "", 0), s * receipt.tip_ore, 0, 1)
    if receipt.rounding_ore:
        _add(buckets, (ROUNDING, "", 0), s * receipt.rounding_ore, 0, 1)
    if single_purpose:
        _redemptions(buckets, receipt, single_purpose)
    residual = paid - (gross + receipt.tip_ore + receipt.rounding_ore)
    if residual:
        _add(buckets, (IMBALANCE, receipt.receipt_id, 0), residual, 0, 1)
    if receipt.invoice is not None:  # an export that books it leaves it to a voucher of its own
        _add(buckets, (INVOICE, receipt.receipt_id, 0), s * paid, 0, 1)


def _redemptions(buckets: Buckets, receipt: Receipt, single_purpose: Mapping[str, int]) -> None:
    """Single-purpose cards: P and v per payment, and the receipt's excess as
    :func:`mapping.totals_booking.check_single_purpose` checks it (printed amounts, per rate, against the goods
    at that rate)."""
    s = receipt.sign
    paid_by_card_rate: defaultdict[int, int] = defaultdict(int)
    for payment in receipt.payments:
        card_rate = single_purpose.get(payment.method)
        if card_rate is not None:
            paid_by_card_rate[card_rate] += payment.amount_ore
            v = vat_included(payment.amount_ore, card_rate) if card_rate else 0
            _add(buckets, (REDEMPTION, payment.method, card_rate), s * payment.amount_ore, s * v, 1)
    excess = sum(
        max(0, paid - sum(x.gross_ore for x in receipt.lines if x.vat_rate == rate))
        for rate, paid in paid_by_card_rate.items()
    )
    if excess:
        _add(buckets, (SP_EXCESS, receipt.receipt_id, 0), excess, 0, 1)


def add_item(buckets: Buckets, item: SalesItem, single_purpose: Mapping[str, int] = {}) -> None:  # noqa: B006
    """Add one receipt, cash movement or gift card expiry to ``buckets`` (the ingest's per-event step)."""
    if isinstance(item, Receipt):
        _receipt_buckets(buckets, item, single_purpose)
    elif isinstance(item, CashMovement):
        _add(buckets, (MOVEMENT, item.kind, 0), item.amount_ore, 0, 1)
    else:
        method = "" if item.method == GIFT_CARD_METHOD else item.method
        _add(buckets, (EXPIRY, method, item.vat_rate or 0), item.amount_ore, item.vat_ore, 1)


def item_rows(item: SalesItem, single_purpose: Mapping[str, int] = {}) -> list[BucketRow]:  # noqa: B006
    """One item's buckets as rows, for staging next to the item's stored row at ingest."""
    buckets: Buckets = defaultdict(_zeros)
    add_item(buckets, item, single_purpose)
    return [(kind, key, rate, a, b, n, m) for (kind, key, rate), (a, b, n, m) in buckets.items()]


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
        buckets: Buckets = defaultdict(_zeros)
        for item in listed:
            add_item(buckets, item, single_purpose)
        return cls._of_buckets(store_id, business_date, buckets, register_id)

    @classmethod
    def from_rows(
        cls, store_id: str, business_date: date, rows: Iterable[BucketRow], register_id: str = ""
    ) -> DayTotals:
        """From bucket rows (as stored, or read back); rows with the same key are summed."""
        buckets: Buckets = defaultdict(_zeros)
        for kind, key, rate, a, b, n, m in rows:
            _add(buckets, (kind, key, rate), a, b, n, m)
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
        buckets: Buckets = defaultdict(_zeros)
        for key, values in self.buckets:
            _add(buckets, key, *values)
        for key, (a, b, n, m) in other.buckets:
            _add(buckets, key, sign * a, sign * b, sign * n, sign * m)
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

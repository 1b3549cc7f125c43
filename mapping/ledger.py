"""BL's own account balances for a period against what dayclose's vouchers put on the same accounts. Pure.

BL's API has no balance endpoint; its journal (``GET /journal/entry/batch`` between two dates) lists every
voucher of the period with its rows, so the movement of an account in the period is the sum of its rows there.
Only the accounts the VAT report is about are compared: output VAT (26xx) and sales (30xx).

A BL voucher is dayclose's when its text carries one of dayclose's references (``DC-…``, ``RV-…``: every voucher
text does, as a whole token). Per account, BL − dayclose splits exactly into:

* ``other_vouchers``: BL vouchers that are not dayclose's (the merchant's own, another integration's), and a
  second voucher carrying a reference BL already holds (a voucher booked twice);
* ``missing_in_bl``: dayclose vouchers of the period BL does not hold (− their amounts);
* ``changed_in_bl``: dayclose vouchers BL holds with other amounts on the account (BL − dayclose; booked
  vouchers from an integration are locked in BL, so this should never happen).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

#: The account groups compared: output VAT and sales.
COMPARED_PREFIXES = ("26", "30")
_REFERENCE = re.compile(r"(?<![\w-])((?:DC|RV)-[0-9a-f]{16})(?![\w-])")


@dataclass(frozen=True)
class LedgerVoucher:
    """A voucher with signed öre per account (debit +, credit −, BL's sign)."""

    series: str
    number: int
    entry_date: date
    text: str
    rows: tuple[tuple[str, int], ...]

    def on(self, account: str) -> int:
        return sum(amount for acc, amount in self.rows if acc == account)

    @property
    def label(self) -> str:
        return f"{self.series} {self.number}"


@dataclass(frozen=True)
class VoucherAmount:
    voucher: str  # "D 12"
    entry_date: date
    text: str
    amount: int


@dataclass(frozen=True)
class AccountComparison:
    account: str
    bl: int
    dayclose: int
    other_vouchers: tuple[VoucherAmount, ...]
    missing_in_bl: tuple[VoucherAmount, ...]
    changed_in_bl: tuple[VoucherAmount, ...]

    @property
    def difference(self) -> int:
        return self.bl - self.dayclose


def references_in(text: str) -> set[str]:
    return set(_REFERENCE.findall(text))


def compared(account: str) -> bool:
    return account.startswith(COMPARED_PREFIXES)


def compare(
    bl_vouchers: Sequence[LedgerVoucher], ours: Iterable[tuple[str, LedgerVoucher]]
) -> tuple[AccountComparison, ...]:
    """Per compared account, BL's movement against dayclose's (``ours``: (reference, voucher) dated in the
    period), the difference explained voucher by voucher."""
    mine = dict(ours)
    in_bl: dict[str, LedgerVoucher] = {}
    others: list[LedgerVoucher] = []
    for v in bl_vouchers:
        refs = references_in(v.text) & set(mine)
        if refs and min(refs) not in in_bl:
            in_bl[min(refs)] = v
        else:
            others.append(v)  # not dayclose's, or a second voucher with one of its references (a duplicate)
    accounts = sorted(
        {a for v in (*bl_vouchers, *mine.values()) for a, _ in v.rows if compared(a)},
    )
    return tuple(_account(a, bl_vouchers, mine, in_bl, others) for a in accounts)


def _account(
    account: str,
    bl_vouchers: Sequence[LedgerVoucher],
    mine: dict[str, LedgerVoucher],
    in_bl: dict[str, LedgerVoucher],
    others: list[LedgerVoucher],
) -> AccountComparison:
    def amount(v: LedgerVoucher, value: int) -> VoucherAmount:
        return VoucherAmount(v.label, v.entry_date, v.text, value)

    changed = []
    missing = []
    for ref, ours in sorted(mine.items()):
        theirs = in_bl.get(ref)
        if theirs is None:
            if ours.on(account):
                missing.append(amount(ours, -ours.on(account)))
        elif theirs.on(account) != ours.on(account):
            changed.append(amount(theirs, theirs.on(account) - ours.on(account)))
    return AccountComparison(
        account,
        sum(v.on(account) for v in bl_vouchers),
        sum(v.on(account) for v in mine.values()),
        tuple(amount(v, v.on(account)) for v in others if v.on(account)),
        tuple(missing),
        tuple(changed),
    )


def explained(comparison: AccountComparison) -> int:
    """Other vouchers + missing + changed: equal to BL − dayclose."""
    parts = (*comparison.other_vouchers, *comparison.missing_in_bl, *comparison.changed_in_bl)
    return sum(p.amount for p in parts)


def movement(vouchers: Iterable[LedgerVoucher]) -> dict[str, int]:
    """Σ öre per compared account."""
    out: defaultdict[str, int] = defaultdict(int)
    for v in vouchers:
        for account, value in v.rows:
            if compared(account):
                out[account] += value
    return dict(out)

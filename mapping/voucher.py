"""A voucher (verifikation): rows of signed öre that sum to zero, or it cannot exist.

Sign convention is BL's: debit positive, credit negative.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from mapping.money import format_sek, ore

SERIES_PATTERN = re.compile(r"^[A-Z0-9]$")
ACCOUNT_PATTERN = re.compile(r"^[1-8][0-9]{3}$")
#: BL's journalEntryText and SIE's vertext are kept within this many characters.
MAX_TEXT_LENGTH = 100


class UnbalancedVoucherError(ValueError):
    """Raised when rows do not sum to zero; carries the residual in öre."""

    def __init__(self, residual_ore: int) -> None:
        super().__init__(f"voucher does not balance: residual {format_sek(residual_ore)} SEK")
        self.residual_ore = residual_ore


class InvalidVoucherError(ValueError):
    """A voucher that is malformed in a way other than balance (empty, bad account, bad series...)."""


@dataclass(frozen=True, slots=True)
class VoucherRow:
    """One ledger row. ``amount_ore`` > 0 is a debit, < 0 a credit; never zero."""

    account: str
    amount_ore: int
    cost_centre: str | None = None
    text: str | None = None

    def __post_init__(self) -> None:
        ore(self.amount_ore)
        if not ACCOUNT_PATTERN.match(self.account):
            raise InvalidVoucherError(f"account must be a 4-digit BAS account number, got {self.account!r}")
        if self.amount_ore == 0:
            raise InvalidVoucherError(f"row on account {self.account} has a zero amount")

    @property
    def is_debit(self) -> bool:
        return self.amount_ore > 0


@dataclass(frozen=True, slots=True)
class Voucher:
    """A balanced voucher ready to book. Construction fails unless debits equal credits exactly.

    ``reference`` is the export's durable unique identity. BL has no idempotency key, so the
    reference is also embedded in ``text``; after an ambiguous failure the exporter searches
    for it before posting again.

    ``sales_rates`` is not posted: it names, for each income account (class 3) that sales were
    credited to, the VAT rate (basis points) the plan maps it at, so pre-flight can check the
    account's VAT code in BL against it.
    """

    series: str
    entry_date: date
    text: str
    reference: str
    rows: tuple[VoucherRow, ...]
    sales_rates: tuple[tuple[str, int], ...] = ()

    def __post_init__(self) -> None:
        if not SERIES_PATTERN.match(self.series):
            raise InvalidVoucherError(f"series must be one letter or digit, got {self.series!r}")
        if not self.rows:
            raise InvalidVoucherError("a voucher needs at least one row")
        if not self.reference or self.reference not in self.text:
            raise InvalidVoucherError("voucher text must carry the export's unique reference")
        if len(self.text) > MAX_TEXT_LENGTH:
            raise InvalidVoucherError(f"voucher text longer than {MAX_TEXT_LENGTH} characters")
        residual = sum(row.amount_ore for row in self.rows)
        if residual != 0:
            raise UnbalancedVoucherError(residual)

    @property
    def total_debit_ore(self) -> int:
        return sum(row.amount_ore for row in self.rows if row.amount_ore > 0)

    def balance_by_account(self) -> dict[tuple[str, str | None], int]:
        """Net öre per (account, cost centre)."""
        totals: dict[tuple[str, str | None], int] = {}
        for row in self.rows:
            key = (row.account, row.cost_centre)
            totals[key] = totals.get(key, 0) + row.amount_ore
        return totals

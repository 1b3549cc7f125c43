"""The checks every sales item's fields pass (:mod:`mapping.sales`, :mod:`mapping.register_day`): an amount in
integer öre within what a POS can ring up, a non-empty code, a register id, a business date.

Each raises :class:`~mapping.errors.InvalidSalesDataError` naming the field, so a refused event says what was wrong.
"""

from __future__ import annotations

from datetime import date
from typing import TypeGuard

from mapping.errors import InvalidSalesDataError
from mapping.money import MoneyError, ore

#: No single line, payment, tip or cash movement on a POS is anywhere near 100 million kronor: a larger
#: amount is a data error (a unit mix-up, a corrupted event), refused before it can reach the books.
MAX_AMOUNT_ORE = 100_000_000_00
MAX_VAT_RATE_BP = 10_000


def amount(value: object, what: str) -> int:
    """``value`` as integer öre within ±:data:`MAX_AMOUNT_ORE`."""
    # Runs a dozen times per receipt on the ingest path: the common case is one type check and one
    # range check; anything else goes through ore() for its error.
    if type(value) is int and -MAX_AMOUNT_ORE <= value <= MAX_AMOUNT_ORE:
        return value
    try:
        checked = ore(value)
    except MoneyError as exc:
        raise InvalidSalesDataError(f"{what}: {exc}") from exc
    if abs(checked) > MAX_AMOUNT_ORE:
        raise InvalidSalesDataError(f"{what}: {checked} öre is beyond any plausible POS amount")
    return checked


def is_code(value: object) -> TypeGuard[str]:
    return type(value) is str and bool(value) and not value.isspace()


def code(value: object, what: str) -> str:
    if not is_code(value):
        raise InvalidSalesDataError(f"{what} must be a non-empty string, got {value!r}")
    return value


def register(value: object, what: str) -> str:
    """A register id: "" (the store's one register) or a code."""
    if type(value) is not str or (value and value.isspace()):
        raise InvalidSalesDataError(f"{what} register_id must be a string, got {value!r}")
    return value


def place(store: str, register: str) -> str:
    """A register-day's place as an error names it."""
    return f"store {store} register {register}" if register else f"store {store}"


def business_date(value: object, what: str) -> date:
    if not isinstance(value, date):
        raise InvalidSalesDataError(f"{what} business_date must be a date, got {value!r}")
    return value

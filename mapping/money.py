"""Money is integer öre. One constructor, no floats, rounding only in named functions.

Every amount in `mapping/` is a plain ``int`` counting öre (1 SEK = 100 öre). Values
enter through :func:`ore` (already öre) or :func:`parse_sek` (a SEK amount as text or
``Decimal``); both reject ``float`` and ``bool`` so a binary fraction can never sneak in.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal, InvalidOperation

ORE_PER_KRONA = 100
_TWO_PLACES = Decimal("0.01")


class MoneyError(ValueError):
    """An amount that is not an exact number of öre."""


def ore(value: object) -> int:
    """The one constructor for an amount already in öre. Rejects floats, bools and non-integers."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise MoneyError(f"amount in öre must be an int, got {type(value).__name__}: {value!r}")
    return value


def parse_sek(value: str | Decimal | int) -> int:
    """A SEK amount ("123.45", Decimal("123.45"), 123) → öre. Refuses anything finer than 1 öre."""
    if isinstance(value, bool) or isinstance(value, float):
        raise MoneyError(f"SEK amount must be str, Decimal or int, got {type(value).__name__}")
    try:
        dec = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except InvalidOperation as exc:
        raise MoneyError(f"not a number: {value!r}") from exc
    if not dec.is_finite():
        raise MoneyError(f"not a finite amount: {value!r}")
    scaled = dec * ORE_PER_KRONA
    if scaled != scaled.to_integral_value():
        raise MoneyError(f"amount has fractions of an öre: {value!r}")
    return int(scaled)


def to_sek(amount_ore: int) -> Decimal:
    """öre → SEK as a two-place Decimal (exact; what BL's JSON and SIE files carry)."""
    return (Decimal(ore(amount_ore)) / ORE_PER_KRONA).quantize(_TWO_PLACES)


def format_sek(amount_ore: int) -> str:
    """öre → "1234.50" (dot decimal separator, as BL and SIE expect)."""
    return f"{to_sek(amount_ore):.2f}"


def percent(rate_bp: int) -> str:
    """Basis points as a percentage for texts: 2500 → "25", 1250 → "12.50" (integer arithmetic only)."""
    whole, frac = divmod(rate_bp, 100)
    return str(whole) if frac == 0 else f"{whole}.{frac:02d}"


def round_half_up_ore(value: Decimal) -> int:
    """A Decimal number of öre rounded to whole öre, halves away from zero (commercial rounding)."""
    return int(value.to_integral_value(rounding=ROUND_HALF_UP))


def round_half_even_ore(value: Decimal) -> int:
    """A Decimal number of öre rounded to whole öre, halves to even (banker's rounding)."""
    return int(value.to_integral_value(rounding=ROUND_HALF_EVEN))


def vat_included(gross_ore: int, rate_bp: int) -> int:
    """The VAT inside a VAT-inclusive amount at ``rate_bp`` basis points, rounded half up to whole öre.

    ``gross × rate / (1 + rate)``: e.g. 125.00 at 25 % holds 25.00, 1.03 holds 0.206 → 0.21. Halves
    round away from zero, so a negative amount mirrors a positive one.
    """
    ore(gross_ore)
    ore(rate_bp)
    return round_half_up_ore(Decimal(gross_ore) * rate_bp / (10_000 + rate_bp))


def allocate(total: int, weights: Sequence[int]) -> list[int]:
    """Split ``total`` öre over ``weights`` by largest remainder; the parts always sum to ``total``.

    Ties in the remainder go to the earliest weight, so the result is deterministic.
    Negative totals are split by mirroring the positive case.
    """
    ore(total)
    if not weights:
        raise MoneyError("cannot allocate over no weights")
    if any(ore(w) < 0 for w in weights):
        raise MoneyError("allocation weights must not be negative")
    weight_sum = sum(weights)
    if weight_sum == 0:
        raise MoneyError("allocation weights sum to zero")
    if total < 0:
        return [-part for part in allocate(-total, weights)]
    floors = [total * w // weight_sum for w in weights]
    remainders = [total * w % weight_sum for w in weights]
    short = total - sum(floors)
    order = sorted(range(len(weights)), key=lambda i: (-remainders[i], i))
    for i in order[:short]:
        floors[i] += 1
    if sum(floors) != total:  # pragma: no cover - guarded by arithmetic, kept as the promised check
        raise MoneyError(f"allocation lost {total - sum(floors)} öre")
    return floors

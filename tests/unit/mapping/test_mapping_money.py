"""Money: integer öre, one constructor, floats refused, largest-remainder allocation."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mapping.money import (
    MoneyError,
    allocate,
    format_sek,
    ore,
    parse_sek,
    round_half_even_ore,
    round_half_up_ore,
    to_sek,
)


@pytest.mark.parametrize("bad", [1.0, 0.1, True, "100", Decimal("1"), None])
def test_ore_accepts_only_plain_ints(bad: object) -> None:
    with pytest.raises(MoneyError):
        ore(bad)


def test_ore_returns_the_int() -> None:
    assert ore(12345) == 12345
    assert ore(-1) == -1


@pytest.mark.parametrize(
    ("text", "expected"),
    [("123.45", 12345), ("0.01", 1), ("-7.5", -750), (" 10 ", 1000), (Decimal("2.30"), 230), (3, 300)],
)
def test_parse_sek(text: str | Decimal | int, expected: int) -> None:
    assert parse_sek(text) == expected


@pytest.mark.parametrize("bad", ["0.001", "abc", "NaN", "Infinity", 1.5, False])
def test_parse_sek_refuses_fractions_of_an_ore_floats_and_non_numbers(bad: object) -> None:
    with pytest.raises(MoneyError):
        parse_sek(bad)  # type: ignore[arg-type]


def test_sek_formatting_is_two_places_with_a_dot() -> None:
    assert format_sek(12345) == "123.45"
    assert format_sek(-5) == "-0.05"
    assert format_sek(0) == "0.00"
    assert to_sek(100) == Decimal("1.00")


def test_named_rounding_functions() -> None:
    assert round_half_up_ore(Decimal("2.5")) == 3
    assert round_half_up_ore(Decimal("-2.5")) == -3
    assert round_half_even_ore(Decimal("2.5")) == 2
    assert round_half_even_ore(Decimal("3.5")) == 4


def test_allocate_by_largest_remainder() -> None:
    assert allocate(100, [1, 1, 1]) == [34, 33, 33]
    assert allocate(-100, [1, 1, 1]) == [-34, -33, -33]
    assert allocate(10, [0, 3, 1]) == [0, 8, 2]


@pytest.mark.parametrize("weights", [[], [0, 0], [1, -1]])
def test_allocate_refuses_meaningless_weights(weights: list[int]) -> None:
    with pytest.raises(MoneyError):
        allocate(100, weights)


@given(st.integers(-(10**12), 10**12), st.lists(st.integers(0, 10**9), min_size=1, max_size=8))
def test_allocation_always_sums_to_the_total(total: int, weights: list[int]) -> None:
    if sum(weights) == 0:
        weights = [*weights, 1]
    parts = allocate(total, weights)
    assert sum(parts) == total
    weight_sum = sum(weights)
    for part, weight in zip(parts, weights, strict=True):
        # Each part is within one öre of its exact share.
        assert abs(part * weight_sum - total * weight) < weight_sum


@given(st.integers(-(10**15), 10**15))
def test_format_and_parse_round_trip(amount: int) -> None:
    assert parse_sek(format_sek(amount)) == amount

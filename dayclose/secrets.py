"""A wrapper that keeps secrets out of reprs, logs, tracebacks and events."""

from __future__ import annotations


class Secret:
    """Holds a secret string; only :meth:`reveal` gives it back.

    ``repr``/``str`` show a mask, so an accidental f-string or log call leaks nothing.
    """

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('********')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __bool__(self) -> bool:
        return bool(self._value)


def mask(value: str, keep: int = 4) -> str:
    """``"1234abcd-...-9f0e"`` → ``"1234…9f0e"``; short values are fully masked."""
    if len(value) <= keep * 2 + 2:
        return "*" * len(value)
    return f"{value[:keep]}…{value[-keep:]}"

"""Secrets as values: a wrapper that keeps them out of reprs, logs, tracebacks and events, and the one
form a merchant's BL key is stored, looked up and compared in."""

from __future__ import annotations

import re

_GUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


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


def canonical_key(text: str) -> str:
    """A merchant's BL public key in the one form we store, look up and compare: a GUID in lower case,
    hyphenated (RFC 9562 §4: hex digits are case-insensitive on input, lower case on output).

    Everything that names a key (the wizard's input, the stored key, its look-up digest, BL's callbacks)
    goes through here, so ``ABC…`` and ``abc…`` can never be two keys. Raises ValueError (naming no part
    of the key) when ``text`` is not a GUID."""
    candidate = text.strip()
    if not _GUID.fullmatch(candidate):
        raise ValueError("not a GUID (8-4-4-4-12 hexadecimal characters)")
    return candidate.lower()

"""Swedish organization numbers (organisationsnummer), as BL's activation callbacks and BL's company
details carry them (checked when a key is verified and before activation, matched on BL's callbacks, written to
SIE's ``#ORGNR``).

An organization number is ten digits, the last a Luhn (mod 10) check digit over the first nine. It is
written ``NNNNNN-NNNN`` or without the hyphen. A sole trader's (enskild firma) number is the owner's
personal identity number, written with ``+`` instead of ``-`` once the owner is 100. Twelve-digit forms
put a prefix in front: ``16`` for a legal person, the century (``18``, ``19``, ``20``) for a natural
person. BL serves sole traders too, so those forms are accepted and reduced to the ten digits that carry
the check digit; anything else (``-``, an empty string, a wrong check digit) is not an organization
number and never matches one.
"""

from __future__ import annotations

import re

_FORM = re.compile(r"(16|18|19|20)?([0-9]{6})[-+]?([0-9]{4})")  # ASCII: \d would match any Unicode digit


def canonical_org_number(text: str | None) -> str | None:
    """The ten digits of a valid Swedish organization number, or None when ``text`` is not one."""
    match = _FORM.fullmatch((text or "").strip())
    if match is None:
        return None
    digits = match.group(2) + match.group(3)
    return digits if _luhn_ok(digits) else None


def formatted_org_number(text: str | None) -> str | None:
    """A valid organization number as ``NNNNNN-NNNN`` (the form SIE's ``#ORGNR`` and BL show), or None."""
    digits = canonical_org_number(text)
    return f"{digits[:6]}-{digits[6:]}" if digits else None


def same_organization(a: str | None, b: str | None) -> bool:
    """True only when both are valid organization numbers and name the same organization."""
    left, right = canonical_org_number(a), canonical_org_number(b)
    return left is not None and left == right


def _luhn_ok(digits: str) -> bool:
    total = 0
    for position, char in enumerate(digits):
        value = int(char) * (2 if position % 2 == 0 else 1)
        total += value // 10 + value % 10
    return total % 10 == 0

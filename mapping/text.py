"""Voucher texts: name the store, business date and Z-report, and always carry the reference.

BL's ``journalEntryText`` and SIE's ``vertext`` are kept within
:data:`mapping.voucher.MAX_TEXT_LENGTH` characters. When the text is too long the store name
is shortened; the reference is never cut, because the exporter finds a voucher after an
ambiguous failure by searching for it.
"""

from __future__ import annotations

import re
from datetime import date

from mapping.errors import VoucherTextError
from mapping.voucher import MAX_TEXT_LENGTH

_WHITESPACE = re.compile(r"\s+")


def _clean(text: str) -> str:
    """One line, single spaces: SIE and BL texts must not carry line breaks or tabs."""
    return _WHITESPACE.sub(" ", text).strip()


def _fit(prefix: str, name: str, suffix: str) -> str:
    """``prefix + name + suffix`` with ``name`` shortened (or dropped) to fit the limit."""
    room = MAX_TEXT_LENGTH - len(prefix) - len(suffix)
    if room < 0:
        raise VoucherTextError(f"reference too long for a {MAX_TEXT_LENGTH}-character voucher text")
    return (prefix + name[:room].rstrip() + suffix).strip()


def day_voucher_text(store_name: str, business_date: date, z_report_number: int | None, reference: str) -> str:
    """E.g. "Dagsavslut Butik Centrum 2026-04-01 Z 1234 ref DC-7f3a...".

    A batch without a Z-report (a manual export before the day close) says "Delexport".
    """
    _check_reference(reference)
    what = "Dagsavslut" if z_report_number is not None else "Delexport"
    z_part = f" Z {z_report_number}" if z_report_number is not None else ""
    return _fit(f"{what} ", _clean(store_name), f" {business_date.isoformat()}{z_part} ref {reference}")


def reversal_text(original_text: str, original_reference: str, reference: str) -> str:
    """E.g. "Återföring av DC-old ref DC-new: Dagsavslut ...": both references kept whole."""
    _check_reference(reference)
    prefix = f"Återföring av {original_reference} ref {reference}"
    text = _fit(prefix + ": ", _clean(original_text), "")
    return text if len(text) > len(prefix) + 1 else prefix


def _check_reference(reference: str) -> None:
    # The exporter searches BL's texts for the reference verbatim, so it must survive as one word.
    if not reference or _WHITESPACE.search(reference):
        raise VoucherTextError(f"reference must be one non-empty word, got {reference!r}")

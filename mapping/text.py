"""The one text policy for everything we write elsewhere, and the voucher texts.

:func:`clean_text` is what every text we did not write ourselves passes before it reaches BL (voucher texts), an
SIE file or a day report PDF: it removes what a reader cannot see or that changes how the rest is shown, makes one
line of it, normalises it and bounds its length. Each destination then applies its own rule on top
(docs/architecture.md, "Texts we write elsewhere"): BL's texts here (:data:`mapping.voucher.MAX_TEXT_LENGTH`
characters, the reference never cut), SIE's in :mod:`exporters.sie` (CP437, quoted), the PDF's in
:mod:`exporters.dayreport` (WinAnsi, wrapped to the page). :func:`is_identifier` is the rule for ids at the edge.

Voucher texts name the store, business date and Z-report, and always carry the reference. When the text is too
long the store name is shortened; the reference is never cut, because the exporter finds a voucher after an
ambiguous failure by searching for it.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from datetime import date

from mapping.errors import VoucherTextError
from mapping.voucher import MAX_TEXT_LENGTH

_WHITESPACE = re.compile(r"\s+")
#: Text :func:`clean_text` has nothing to remove or normalise in, but runs of spaces: printable Latin-1 (Swedish
#: letters and punctuation; € and WinAnsi's other signs go the long way) without the no-break space (a space) and the
#: soft hyphen (removed). It is NFC already (no combining marks), so the one rule left is the spaces' (issue #27: the
#: day report cleans every cell it draws).
_PLAIN = re.compile(r"[\x20-\x7e\xa1-\xac\xae-\xff]*")
#: Unicode general categories removed: control (Cc: C0, DEL, C1 — NUL, BEL, ESC …), format (Cf: bidi embeddings,
#: overrides and isolates U+202A–U+202E and U+2066–U+2069, LRM, RLM, ALM, zero-width space, non-joiner and joiner,
#: word joiner, BOM, soft hyphen …), surrogates (Cs), private use (Co) and unassigned (Cn) code points.
REMOVED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn"})
_NOT_IN_IDS = REMOVED_CATEGORIES | {"Zl", "Zp"}
#: Longest id (organization, store, receipt, event, command, payment method, product group …) accepted at the edge.
MAX_IDENTIFIER_LENGTH = 128
#: A printable-ASCII id without leading or trailing space, 1 to MAX_IDENTIFIER_LENGTH characters (see is_identifier).
_ASCII_ID = re.compile(rf"[!-~](?:[ -~]{{0,{MAX_IDENTIFIER_LENGTH - 2}}}[!-~])?")


def clean_text(value: str, limit: int | None = None) -> str:
    """``value`` as one line of visible text: line and paragraph breaks, tabs and every other Unicode space become
    one space, the characters of :data:`REMOVED_CATEGORIES` are removed, the rest is NFC-normalised (a letter and
    its combining accent become one character, as BL, CP437 and WinAnsi need) and stripped, then cut to ``limit``
    characters when given."""
    text = _WHITESPACE.sub(" ", value).strip() if _PLAIN.fullmatch(value) else _cleaned(value)
    return text if limit is None else text[:limit].rstrip()


def _cleaned(value: str) -> str:
    """:func:`clean_text` of any text, before the cut: character by character."""
    kept = []
    for ch in unicodedata.normalize("NFC", value):
        if ch.isspace() or unicodedata.category(ch) in ("Zl", "Zp"):
            kept.append(" ")
        elif unicodedata.category(ch) not in REMOVED_CATEGORIES:
            kept.append(ch)
    # Again after the removal: a zero-width character between a letter and its accent kept them apart.
    return _WHITESPACE.sub(" ", unicodedata.normalize("NFC", "".join(kept))).strip()


def is_identifier(value: object) -> bool:
    """An id as the edge accepts it: a string of 1 to :data:`MAX_IDENTIFIER_LENGTH` characters, not blank, without
    leading or trailing space, without line breaks, tabs or other spaces than U+0020, and without the characters
    :func:`clean_text` removes (control, format: bidi and zero-width, …). Ids are kept exactly as sent (not
    normalised): an id must mean the same to every reader, so one that does not is refused, never altered."""
    # Nearly every id is printable ASCII: one match in C decides those (ASCII's only space is U+0020 and no printable
    # ASCII character is in _NOT_IN_IDS); any other string takes the character-by-character rule below.
    if isinstance(value, str) and _ASCII_ID.fullmatch(value):
        return True
    return (
        isinstance(value, str)
        and 0 < len(value) <= MAX_IDENTIFIER_LENGTH
        and value.strip() == value
        and all(ch == " " or (not ch.isspace() and unicodedata.category(ch) not in _NOT_IN_IDS) for ch in value)
    )


def _clean(text: str) -> str:
    """One line, single spaces, nothing invisible (:func:`clean_text`): SIE and BL texts must not carry line
    breaks, tabs, control or bidi characters."""
    return clean_text(text)


def _fit(prefix: str, name: str, suffix: str) -> str:
    """``prefix + name + suffix`` with ``name`` shortened (or dropped) to fit the limit."""
    room = MAX_TEXT_LENGTH - len(prefix) - len(suffix)
    if room < 0:
        raise VoucherTextError(f"reference too long for a {MAX_TEXT_LENGTH}-character voucher text")
    return (prefix + name[:room].rstrip() + suffix).strip()


def day_voucher_text(
    store_name: str,
    business_date: date,
    z_report_number: int | None,
    reference: str,
    register_id: str = "",
    complements_z: int | None = None,
) -> str:
    """E.g. "Dagsavslut Butik Centrum kassa 2 2026-04-01 Z 1234 ref DC-7f3a..." ("kassa …" for a store with
    several registers).

    A batch without a Z-report says "Delexport" (a manual export before the day close) or, when it books sales
    that came after the day's Z-report ``complements_z`` was booked (no new Z-report came), "Komplettering …
    efter Z n".
    """
    _check_reference(reference)
    what = "Dagsavslut" if z_report_number is not None else "Komplettering" if complements_z else "Delexport"
    z_part = (
        f" Z {z_report_number}"
        if z_report_number is not None
        else f" efter Z {complements_z}"
        if complements_z is not None
        else ""
    )
    till = f" kassa {_clean(register_id)}" if register_id else ""
    return _fit(f"{what} ", _clean(store_name), f"{till} {business_date.isoformat()}{z_part} ref {reference}")


def invoice_voucher_text(number: str, customer: str, business_date: date, reference: str) -> str:
    """E.g. "Faktura 10234 Kund AB 2026-04-01 ref DC-7f3a...": the invoice is the verifikation of the sale."""
    _check_reference(reference)
    return _fit(f"Faktura {_clean(number)} ", _clean(customer), f" {business_date.isoformat()} ref {reference}")


def reversal_text(
    original_text: str,
    original_reference: str,
    reference: str,
    *,
    original_voucher: str | None = None,
    business_date: date | None = None,
) -> str:
    """E.g. "Återföring av DC-old (D 12, 2026-04-01) ref RV-new: Dagsavslut ...".

    Names the original by our reference, its BL series + number and its business date when known,
    so the reversal leads to what it reverses even when it is dated in another period. Both
    references are kept whole; the original's text is cut first.
    """
    _check_reference(reference)
    known = [part for part in (original_voucher, business_date.isoformat() if business_date else None) if part]
    named = f"{original_reference} ({', '.join(known)})" if known else original_reference
    prefix = f"Återföring av {named} ref {reference}"
    if len(prefix) > MAX_TEXT_LENGTH:
        prefix = f"Återföring av {original_reference} ref {reference}"
    text = _fit(prefix + ": ", _clean(original_text), "")
    return text if len(text) > len(prefix) + 1 else prefix


def correction_text(
    originals: Sequence[tuple[str, str]], business_date: date, reference: str, store_name: str = ""
) -> str:
    """The new voucher of a correction: e.g. "Rättelse av D 12 DC-old 2026-04-01 ref DC-new: Butik".

    ``originals`` are (BL series + number, our reference) of the vouchers it replaces. When all of
    them do not fit, the BL numbers are kept and the references dropped, then only the first number
    with "m.fl."; the full list is in the audit record and the attached day report.
    """
    _check_reference(reference)
    suffix = f" {business_date.isoformat()} ref {reference}"
    candidates = [
        ", ".join(f"{number} {ref}" for number, ref in originals),
        ", ".join(number for number, _ in originals),
        f"{originals[0][0]} m.fl." if originals else "",
    ]
    for named in candidates:
        head = f"Rättelse av {named}".rstrip()
        if len(head) + len(suffix) <= MAX_TEXT_LENGTH:
            break
    text = head + suffix
    return _fit(text + ": ", _clean(store_name), "") if store_name and len(text) + 3 <= MAX_TEXT_LENGTH else text


def _check_reference(reference: str) -> None:
    # The exporter searches BL's texts for the reference verbatim, so it must survive as one word.
    if not reference or _WHITESPACE.search(reference):
        raise VoucherTextError(f"reference must be one non-empty word, got {reference!r}")

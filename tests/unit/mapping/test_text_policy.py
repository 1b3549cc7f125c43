"""Issue #20 findings 4 and 5: one text policy for everything we write elsewhere (BL, SIE, PDF), and ids checked at
the edge. Store names reached BL's journalEntryText with an RTL override, zero-width characters, a BOM, ESC, BEL and
C1 controls unchanged (the SIE side, and #ORGNR written unquoted from BL's company details: test_sie.py)."""

from __future__ import annotations

import unicodedata
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from consumer import records
from devstack import sampledata
from mapping.text import _PLAIN, MAX_IDENTIFIER_LENGTH, _cleaned, clean_text, day_voucher_text, is_identifier
from service.messages import DayClosed

HOSTILE = "\u202e\u202a\u2066\u2069\u200e\u200f\u061c\u200b\u200c\u200d\u2060\ufeff\u00ad\x1b\x07\x00\x7f\x85\x9b\ue000"
DAY = date(2026, 11, 29)


def test_a_hostile_store_name_reaches_the_voucher_text_clean() -> None:
    text = day_voucher_text(f"Butik{HOSTILE} Väst\r\n\t#VER", DAY, 1, "DC-1")
    assert text == "Dagsavslut Butik Väst #VER 2026-11-29 Z 1 ref DC-1"
    assert not [ch for ch in text if unicodedata.category(ch).startswith("C")]


@given(st.text())
def test_the_policy_leaves_one_line_of_visible_nfc_text(value: str) -> None:
    cleaned = clean_text(value, 100)
    assert len(cleaned) <= 100 and cleaned == cleaned.strip() and "  " not in cleaned
    assert not [ch for ch in cleaned if unicodedata.category(ch)[0] in "CZ" and ch != " "]
    assert unicodedata.is_normalized("NFC", cleaned) or len(cleaned) == 100  # a cut may split a sequence
    assert clean_text(cleaned) == cleaned


LATIN_1 = "".join(chr(c) for c in range(0x100))


@given(st.text(alphabet=st.sampled_from(LATIN_1 + "\u0301\u200b\u2028€")))
def test_plain_latin_1_text_takes_the_short_way_to_the_same_result(value: str) -> None:
    """Issue #27: the day report cleans every cell it draws, and the character-by-character rule was a twentieth of an
    export's CPU; text with nothing to remove or compose (printable Latin-1 but the no-break space and the soft
    hyphen) skips it. Whatever the text, the result is the rule's."""
    assert clean_text(value) == _cleaned(value)
    assert clean_text(value, 7) == _cleaned(value)[:7].rstrip()


def test_the_short_way_is_taken_only_by_characters_the_rule_leaves_alone() -> None:
    for ch in LATIN_1:
        if _PLAIN.fullmatch(ch):
            assert unicodedata.category(ch)[0] not in "CZ" or ch == " ", repr(ch)
            assert clean_text(f"a{ch}b") == _cleaned(f"a{ch}b") == f"a{ch}b".replace("  ", " ")
    assert not _PLAIN.fullmatch("\xa0") and not _PLAIN.fullmatch("\xad") and not _PLAIN.fullmatch("\t")
    assert clean_text("Kafé  Ängen ") == "Kafé Ängen" and clean_text("a\xa0b\xadc") == "a bc"


def test_letters_and_accents_are_kept_and_composed() -> None:
    assert clean_text("Kafe\u0301 Ängen  \u00a0 & Co\u2028") == "Kafé Ängen & Co"


@pytest.mark.parametrize(
    "value",
    ["", " s1", "s1 ", "s\u200b1", "s\u202e1", "s\x001", "s\n1", "s\t1", "x" * (MAX_IDENTIFIER_LENGTH + 1), 7, None],
)
def test_what_is_not_an_id(value: object) -> None:
    assert not is_identifier(value)


@pytest.mark.parametrize("value", ["s1", "org-ä/1", "Kafé 2", "x" * MAX_IDENTIFIER_LENGTH, "Kafe\u0301"])
def test_what_is_an_id(value: str) -> None:
    assert is_identifier(value)


def _character_rule(value: str) -> bool:
    """The rule is_identifier states, character by character (the ASCII shortcut must agree with it)."""
    return (
        0 < len(value) <= MAX_IDENTIFIER_LENGTH
        and value.strip() == value
        and all(ch == " " or (not ch.isspace() and unicodedata.category(ch)[0] != "C") for ch in value)
        and not any(unicodedata.category(ch) in ("Zl", "Zp") for ch in value)
    )


@given(st.text(alphabet=st.characters(max_codepoint=0x7F), max_size=MAX_IDENTIFIER_LENGTH + 2) | st.text())
def test_the_ascii_shortcut_accepts_exactly_what_the_character_rule_does(value: str) -> None:
    assert is_identifier(value) == _character_rule(value)


@pytest.mark.parametrize("value", ["x" * MAX_IDENTIFIER_LENGTH, "a b", "a" + " " * 126 + "b", "~!"])
def test_ascii_ids_at_the_edges_of_the_shortcut(value: str) -> None:
    assert is_identifier(value) and _character_rule(value)


def _day() -> sampledata.StoreDay:
    return sampledata.store_day("org-a", "s1", DAY, 0, with_extras=False)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("organization_id", "org\u202ea"),
        ("store_id", "s1\u200b"),
        ("event_id", "e\x1b"),
        ("store_id", "s" * 129),
    ],
)
def test_an_envelope_id_with_invisible_characters_is_an_invalid_event(field: str, value: str) -> None:
    record = {**_day().day_closed(), field: value}
    with pytest.raises(records.InvalidEventError, match=field):
        records.sales_envelope(record)


@pytest.mark.parametrize(
    ("field", "value"),
    [("receipt_id", "r\u200d1"), ("receipt_number", "1\x07"), ("method", "card\u202e"), ("product_group", "x\ufeff")],
)
def test_a_receipt_id_with_invisible_characters_is_an_invalid_event(field: str, value: str) -> None:
    payload = sampledata.receipt_payload("r1", [("x", 2500, 10000)], "card")
    payload["receipt_number"] = "1"
    if field == "method":
        payload["payments"][0]["method"] = value
    elif field == "product_group":
        payload["lines"][0]["product_group"] = value
    else:
        payload[field] = value
    with pytest.raises(records.InvalidEventError):
        records.sales_envelope(_day().envelope(sampledata.RECEIPT, payload))


def test_a_hostile_store_name_is_cleaned_at_the_edge_not_refused() -> None:
    record = _day().day_closed()
    record["payload"][1]["store_name"] = f"  Butik{HOSTILE}\nVäst  " + "x" * 300
    item = records.sales_envelope(record).item
    assert isinstance(item, DayClosed)
    assert item.store_name == ("Butik Väst " + "x" * 300)[:200]
    record["payload"][1]["store_name"] = HOSTILE
    with pytest.raises(records.InvalidEventError, match="store_name"):
        records.sales_envelope(record)

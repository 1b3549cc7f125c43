"""The canonical forms of what names a merchant from outside: BL's public key and the organization number."""

from __future__ import annotations

import uuid

import pytest

from mapping.orgnr import canonical_org_number, same_organization
from service.secrets import canonical_key

KEY = str(uuid.UUID(int=0x0123456789ABCDEF0123456789ABCDEF))


@pytest.mark.parametrize("written", [KEY, KEY.upper(), f"  {KEY.upper()}\n", KEY[:9] + KEY[9:].upper()])
def test_a_key_in_any_letter_case_is_one_key(written: str) -> None:
    assert canonical_key(written) == KEY == KEY.lower()


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "-",
        KEY.replace("-", ""),
        "{" + KEY + "}",
        KEY + "0",
        KEY[:-1] + "g",
        "urn:uuid:" + KEY,
        KEY[:-1] + "\u0661",
        KEY + "\n" + KEY,
    ],
)
def test_anything_but_a_hyphenated_guid_is_no_key(bad: str) -> None:
    with pytest.raises(ValueError) as raised:
        canonical_key(bad)
    assert str(raised.value) == "not a GUID (8-4-4-4-12 hexadecimal characters)"  # never echoes the input


# Saab AB and Stockholms stad (their published numbers), a check digit computed by hand for 556677-889?:
# 5·2=10→1, 5, 6·2=12→3, 6, 7·2=14→5, 7, 8·2=16→7, 8, 9·2=18→9: 1+5+3+6+5+7+7+8+9 = 51 → check digit 9.
@pytest.mark.parametrize(
    ("written", "digits"),
    [
        ("556036-0793", "5560360793"),
        ("5560360793", "5560360793"),
        ("212000-0142", "2120000142"),
        ("556677-8899", "5566778899"),
        ("165566778899", "5566778899"),
        ("16556677-8899", "5566778899"),
        ("19121212-1212", "1212121212"),
        ("121212+1212", "1212121212"),  # a sole trader's personal number
    ],
)
def test_valid_swedish_org_numbers_in_their_common_forms(written: str, digits: str) -> None:
    assert canonical_org_number(written) == digits


@pytest.mark.parametrize(
    "bad",
    [
        None,
        "",
        "-",
        "0",
        "556677-8898",
        "5566778890",
        "556677889",
        "55667788990",
        "175566778899",
        "556677--8899",
        "556677 8899",
        "5566778899-",
        "\u0665\u0665\u0666\u0666\u0667\u0667\u0668\u0668\u0669\u0669",
    ],
)
def test_anything_else_is_not_an_org_number(bad: str | None) -> None:
    assert canonical_org_number(bad) is None


def test_only_two_valid_numbers_of_one_organization_are_the_same() -> None:
    assert same_organization("556677-8899", "165566778899")
    assert not same_organization("556677-8899", "556036-0793")
    assert not same_organization("", "-") and not same_organization("-", "-") and not same_organization(None, None)
    assert not same_organization("5569990000", "556999-0000")  # equal digits, but no valid check digit

"""SIE 4I output round-trips through a strict, independent reader; every voucher balances."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sie4_strict_checker import SieError, parse

from exporters.sie import BOOKED_PROSA, UNBOOKED_PROSA, SieNames, sie_text, write_sie4i
from mapping.text import clean_text
from mapping.voucher import Voucher, VoucherRow

GEN = date(2026, 3, 16)


def v(day: date, text: str, *rows: tuple, series: str = "K") -> Voucher:
    ref = text.rsplit(" ", 1)[-1]
    return Voucher(series, day, text, ref, tuple(VoucherRow(*r) for r in rows))


#: Hand-written vouchers for the worked examples of issue #3.
WORKED_EXAMPLES = [
    v(
        date(2026, 3, 2),
        "Dagsavslut Butik 1 2026-03-02 Z-1 DC-0001",
        ("1910", 25_000),
        ("1580", 100_000),
        ("3001", -100_000),
        ("2611", -25_000),
    ),
    v(
        date(2026, 4, 2),
        "Café: 6 % avhämtning, 12 % på plats DC-0002",
        ("1580", 21_800),
        ("3003", -10_000),
        ("2631", -600),
        ("3002", -10_000),
        ("2621", -1_200),
    ),
    v(
        date(2026, 3, 3),
        "Dricks på kort DC-0003",
        ("1580", 13_000),
        ("3001", -8_000),
        ("2611", -2_000),
        ("2890", -3_000, None, "Dricks till personal"),
    ),
    v(date(2026, 3, 4), 'Retur "Kaffe" DC-0004', ("3001", 4_000), ("2611", 1_000), ("1910", -5_000)),
    v(date(2026, 3, 5), "Öresavrundning DC-0005", ("1910", 10_000), ("3740", -1), ("3001", -7_999), ("2611", -2_000)),
    v(
        date(2026, 3, 6),
        "Presentkort sålt, inlöst, förfallet DC-0006",
        ("1930", 50_000),
        ("2421", -50_000),
        ("2421", 20_000),
        ("3001", -16_000),
        ("2611", -4_000),
    ),
    v(
        date(2026, 3, 7),
        "Två butiker DC-0007",
        ("1580", 12_500, "S1"),
        ("3001", -10_000, "S1"),
        ("2611", -2_500, "S1"),
        ("1580", 6_250, "S2"),
        ("3001", -5_000, "S2"),
        ("2611", -1_250, "S2"),
    ),
]


def write(vouchers, **kw):
    return write_sie4i(vouchers, company_name="Testkaféet AB", generated_on=GEN, org_number="556000-0050", **kw)


def rows_of(parsed):
    return [(t.account, int(t.amount * 100), dict(t.objects).get("1"), t.text) for t in parsed.trans]


def test_worked_examples_round_trip():
    parsed = parse(write(WORKED_EXAMPLES))

    assert len(parsed.vouchers) == len(WORKED_EXAMPLES)
    for original, back in zip(WORKED_EXAMPLES, parsed.vouchers, strict=True):
        assert (back.series, back.number, back.day, back.text) == (
            original.series,
            "",
            original.entry_date,
            original.text,
        )
        assert rows_of(back) == [(r.account, r.amount_ore, r.cost_centre, r.text) for r in original.rows]
        assert sum(t.amount for t in back.trans) == 0


def test_header_is_a_4i_import_file():
    data = write(WORKED_EXAMPLES[:1])
    parsed = parse(data)

    assert data.startswith(b"#FLAGGA 0\r\n")
    assert parsed.header["#FORMAT"] == ["PC8"] and parsed.header["#SIETYP"] == ["4"]
    assert parsed.header["#GEN"] == ["20260316"]
    assert parsed.header["#FNAMN"] == ["Testkaféet AB"]
    assert parsed.header["#ORGNR"] == ["556000-0050"]
    assert parsed.header["#PROGRAM"] == ["dayclose", "0.1"]
    assert "#PROSA" not in parsed.header


def test_the_header_comment_says_whether_the_vouchers_are_in_bl_already():
    for prosa in (BOOKED_PROSA, UNBOOKED_PROSA):
        data = write(WORKED_EXAMPLES[:1], prosa=prosa)
        assert parse(data).header["#PROSA"] == [prosa]  # å, ä, ö and é are in CP437: nothing replaced
        assert data.split(b"\r\n")[5].startswith(b"#PROSA ")  # in the identification, after #SIETYP


def test_file_is_cp437_with_exact_amounts():
    data = write(WORKED_EXAMPLES[4:5])

    assert "Öresavrundning".encode("cp437") in data
    assert "Ö".encode() not in data  # not UTF-8
    assert b"#TRANS 3740 {} -0.01" in data
    assert b"#TRANS 1910 {} 100.00" in data
    assert b'#VER K "" 20260305 "' in data


def test_cost_centres_are_dimension_1_objects():
    assert b'#TRANS 1580 {"1" "S1"} 125.00' in write(WORKED_EXAMPLES[6:])


def test_texts_are_escaped_cleaned_and_cut():
    assert sie_text('a"b') == 'a"b'
    assert sie_text("rad1\nrad2\ttab") == "rad1 rad2 tab"
    assert sie_text("5 €") == "5 EUR"
    assert sie_text("日本") == "??"
    assert len(sie_text("x" * 300)) == 100
    assert b'"Retur \\"Kaffe\\" DC-0004"' in write(WORKED_EXAMPLES[3:4])


def test_an_empty_export_is_still_a_valid_file():
    assert parse(write([])).vouchers == []


#: Texts as the text policy leaves them (mapping.text.clean_text: one line, single spaces, nothing invisible).
_text = st.text(st.characters(codec="cp437", exclude_categories=("Cc",), exclude_characters="\\\xa0"), max_size=60).map(
    clean_text
)


@st.composite
def vouchers(draw):
    amounts = draw(st.lists(st.integers(-10_000_000, 10_000_000).filter(bool), min_size=1, max_size=8))
    balance = -sum(amounts)
    if balance == 0:
        amounts, balance = amounts + [1], -1
    accounts = st.sampled_from(["1910", "1580", "1930", "3001", "2611", "3740", "2890"])
    rows = [
        VoucherRow(draw(accounts), a, draw(st.none() | st.sampled_from(["S1", "S2"])), draw(st.none() | _text))
        for a in [*amounts, balance]
    ]
    ref = f"R{draw(st.integers(0, 10**6))}"
    text = (draw(_text)[:80] + " " + ref).strip()
    day = draw(st.dates(date(2020, 1, 1), date(2030, 12, 31)))
    return Voucher(draw(st.sampled_from("ABK1")), day, text, ref, tuple(rows))


@given(st.lists(vouchers(), max_size=4))
def test_any_voucher_round_trips(batch):
    parsed = parse(write(batch))

    for original, back in zip(batch, parsed.vouchers, strict=True):
        assert back.text == original.text
        assert back.day == original.entry_date
        assert rows_of(back) == [(r.account, r.amount_ore, r.cost_centre, r.text or None) for r in original.rows]


# -- the checker itself can fail ------------------------------------------------------------

GOOD = write(WORKED_EXAMPLES[:1])


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d.replace(b"-250.00", b"-249.99"), "does not balance"),
        (lambda d: d.replace(b'#VER K ""', b'#VER K "7"'), "voucher number empty"),
        (lambda d: d.replace(b"20260302", b"2026-03-02"), "YYYYMMDD"),
        (lambda d: d.replace(b" 1000.00", b" 1000,00"), "amount"),
        (lambda d: d.replace(b"#FLAGGA 0\r\n", b""), "#FLAGGA 0 must come first"),
        (lambda d: d.replace(b"#FORMAT PC8", b"#FORMAT UTF8"), "PC8"),
        (lambda d: d.replace(b"\r\n", b"\n"), "CR LF"),
        (lambda d: d.replace(b"}\r\n", b""), "not closed"),
        (lambda d: d.replace(b'#FNAMN "Testkaf', b'#FNAMN "Test\x07kaf'), "control"),
        (lambda d: d + b'#FNAMN "again"\r\n', "after the first #VER"),
    ],
)
def test_checker_rejects_broken_files(mutate, message):
    with pytest.raises(SieError, match=message):
        parse(mutate(GOOD))


def test_amount_text_is_exact():
    (ver,) = parse(GOOD).vouchers
    assert [t.amount for t in ver.trans] == [
        Decimal("250.00"),
        Decimal("1000.00"),
        Decimal("-1000.00"),
        Decimal("-250.00"),
    ]


# -- declarations (#KONTO, #DIM, #OBJEKT) -------------------------------------------------------


def test_every_account_and_cost_centre_used_is_declared_with_its_name():
    names = SieNames({"1580": "Fordringar för kontokort", "3001": "Försäljning 25 %"}, {"S1": "Butik Ängen"})
    data = write_sie4i(WORKED_EXAMPLES, company_name="Testkaféet AB", generated_on=date(2026, 3, 16), names=names)
    parsed = parse(data)  # the checker refuses any account or object used but not declared

    used = {t.account for v in parsed.vouchers for t in v.trans}
    assert set(parsed.accounts) == used
    assert parsed.accounts["1580"] == "Fordringar för kontokort"
    assert parsed.accounts["1910"] == "Konto 1910"  # no name known: a neutral one
    assert parsed.dimensions == {"1": "Kostnadsställe"}
    assert parsed.objects == {("1", "S1"): "Butik Ängen", ("1", "S2"): "Kostnadsställe S2"}
    assert '#KONTO 3001 "Försäljning 25 %"'.encode("cp437") in data
    assert data.index(b"#KONTO") < data.index(b"#DIM") < data.index(b"#OBJEKT") < data.index(b"#VER")


def test_a_file_without_cost_centres_declares_no_dimension():
    parsed = parse(write(WORKED_EXAMPLES[:1]))
    assert parsed.dimensions == {} and parsed.objects == {}
    assert parsed.accounts


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d.replace(b"#KONTO 1580", b"#KONTO 1581"), "1580 used but not declared"),
        (lambda d: d.replace(b'#OBJEKT 1 "S1"', b'#OBJEKT 1 "S2"'), "1/S1 used but not declared"),
        (lambda d: d.replace(b'#DIM 1 "Kostnadsst\x84lle"\r\n', b""), "before its #DIM"),
        (lambda d: d.replace(b"#DIM 1", b'#PROSA "late"\r\n#DIM 1'), "after the chart"),
    ],
)
def test_checker_rejects_missing_or_misplaced_declarations(mutate, message):
    good = write_sie4i(WORKED_EXAMPLES[6:], company_name="K AB", generated_on=date(2026, 3, 16))
    assert b"#OBJEKT" in good
    with pytest.raises(SieError, match=message):
        parse(mutate(good))


# -- issue #20 finding 5: the text policy, #ORGNR quoted and validated ---------------------------------------------

HOSTILE = "\u202e\u202a\u2066\u2069\u200e\u200f\u200b\u200d\ufeff\u00ad\x1b\x07\x00\x7f\x85\x9b"
DAY = date(2026, 11, 29)


def test_sie_orgnr_is_quoted_and_only_written_when_valid() -> None:
    injected = '556000-0050 "\r\n#KONTO 1910 "Hacked"'
    assert b"#ORGNR" not in write_sie4i(WORKED_EXAMPLES, company_name="X", generated_on=DAY, org_number=injected)
    data = write_sie4i(WORKED_EXAMPLES, company_name="X", generated_on=DAY, org_number="5560000050")
    assert b'#ORGNR "556000-0050"\r\n' in data
    assert parse(data).header["#ORGNR"] == ["556000-0050"]
    assert b"#ORGNR" not in write_sie4i(WORKED_EXAMPLES, company_name="X", generated_on=DAY, org_number="556000-0051")


def test_sie_texts_pass_the_policy() -> None:
    data = write_sie4i(WORKED_EXAMPLES, company_name=f"Kafé{HOSTILE} AB\r\n#VER", generated_on=DAY)
    assert b'#FNAMN "Kaf\x82 AB #VER"\r\n' in data  # é in CP437, nothing else of the hostile characters
    assert all(line.startswith(b"#") or line in (b"{", b"}", b"") for line in data.split(b"\r\n"))

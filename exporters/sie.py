"""SIE 4I: the same vouchers as an import file, for accountants who want a file instead of the API.

The file follows SIE 4B (SIE-gruppen, 2008) for type 4I ("import of vouchers"):

- encoded in code page 437 (``#FORMAT PC8``), lines ending CR LF, ``#FLAGGA 0`` first;
- identification (``#PROGRAM``, ``#FORMAT``, ``#GEN``, ``#SIETYP 4``, ``#PROSA``, ``#ORGNR``, ``#FNAMN``)
  before any voucher; ``#PROSA`` (SIE's free comment on the file's content) says whether the vouchers are
  already in Björn Lundén (:data:`BOOKED_PROSA`: importing them into the same company books them twice) or
  were not booked through the integration (:data:`UNBOOKED_PROSA`);
- one ``#VER serie "" verdatum "vertext"`` per voucher: the voucher number is left empty so the
  importing system numbers it; then ``{``, one ``#TRANS konto {objekt} belopp "" "text"`` per
  row and ``}``. Rows of a voucher sum to zero;
- dates ``YYYYMMDD``; amounts with a ``.`` and two decimals; cost centres as dimension 1
  (``{"1" "S1"}``); texts through the one text policy (:func:`mapping.text.clean_text`: control, bidi and
  zero-width characters removed, one line, NFC), then quoted, ``"`` escaped as ``\\"``, characters outside CP437
  transliterated or replaced by ``?``, and cut to :data:`MAX_TEXT_LENGTH`;
- ``#ORGNR`` quoted, ``"NNNNNN-NNNN"``, and only for a valid Swedish organization number (Luhn): BL's company
  details are not trusted to be one;
- what the vouchers use is declared before them (the chart section): ``#KONTO`` for every account
  (its name from BL's chart as recorded at booking, else a neutral "Konto 3001"), and for cost
  centres ``#DIM 1 "Kostnadsställe"`` (SIE's reserved dimension 1) with one ``#OBJEKT 1 "S1" "name"``
  per cost centre used. The conventional file name extension of a 4I file is ``.si``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from mapping.money import format_sek
from mapping.orgnr import formatted_org_number
from mapping.text import clean_text
from mapping.voucher import Voucher, VoucherRow

ENCODING = "cp437"
LINE_END = "\r\n"
MAX_TEXT_LENGTH = 100
MAX_NAME_LENGTH = 100
#: SIE's reserved dimension number for cost centres (kostnadsställe).
COST_CENTRE_DIMENSION = "1"
COST_CENTRE_DIMENSION_NAME = "Kostnadsställe"
EXTENSION = ".si"
#: The header comment of a file of vouchers already booked in BL through the integration.
BOOKED_PROSA = "Redan bokförda i Björn Lundén via integrationen: importera inte filen i samma företag"
#: The header comment of a file of vouchers the integration did not book (BL refused them).
UNBOOKED_PROSA = "Ej bokförda via integrationen; importerade hittar integrationen dem på referensen"


@dataclass(frozen=True)
class SieNames:
    """Names to declare accounts and cost centres with (from BL's chart, as recorded at booking)."""

    accounts: Mapping[str, str] = field(default_factory=dict)
    cost_centres: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_stored(cls, stored: Iterable[Mapping[str, Any]]) -> SieNames:
        accounts: dict[str, str] = {}
        centres: dict[str, str] = {}
        for voucher in stored:
            accounts.update(voucher.get("account_names") or {})
            centres.update(voucher.get("cost_centre_names") or {})
        return cls(accounts, centres)


_TRANSLITERATE = str.maketrans(
    {"€": "EUR", "–": "-", "—": "-", "‘": "'", "’": "'", "“": '"', "”": '"', "\\": "/", "\u00a0": " "}
)


def sie_text(value: str, limit: int = MAX_TEXT_LENGTH) -> str:
    """A text field as SIE allows it: the text policy (:func:`mapping.text.clean_text`), then printable CP437
    (transliterated where a close character exists, else ``?``), within ``limit``."""
    cleaned = clean_text(clean_text(value).translate(_TRANSLITERATE))
    representable = cleaned.encode(ENCODING, errors="replace").decode(ENCODING)
    return representable[:limit]


def quote(value: str, limit: int = MAX_TEXT_LENGTH) -> str:
    return '"' + sie_text(value, limit).replace('"', '\\"') + '"'


def sie_date(day: date) -> str:
    return day.strftime("%Y%m%d")


def write_sie4i(
    vouchers: Iterable[Voucher],
    *,
    company_name: str,
    generated_on: date,
    org_number: str | None = None,
    program: str = "dayclose",
    program_version: str = "0.1",
    names: SieNames | None = None,
    prosa: str | None = None,
) -> bytes:
    """The SIE 4I file for ``vouchers``, as bytes in CP437; ``prosa`` is the file's comment (``#PROSA``)."""
    vouchers = list(vouchers)
    lines = [
        "#FLAGGA 0",
        f"#PROGRAM {quote(program, 40)} {quote(program_version, 20)}",
        "#FORMAT PC8",
        f"#GEN {sie_date(generated_on)}",
        "#SIETYP 4",
    ]
    if prosa:
        lines.append(f"#PROSA {quote(prosa)}")
    valid = formatted_org_number(org_number)
    if valid:  # optional in a 4I file; an invalid number is left out rather than written as given
        lines.append(f'#ORGNR "{valid}"')
    lines.append(f"#FNAMN {quote(company_name, MAX_NAME_LENGTH)}")
    lines.extend(_declarations(vouchers, names or SieNames()))
    for voucher in vouchers:
        lines.extend(_voucher_lines(voucher))
    return (LINE_END.join(lines) + LINE_END).encode(ENCODING)


def _declarations(vouchers: list[Voucher], names: SieNames) -> list[str]:
    """#KONTO for every account used; #DIM and #OBJEKT for every cost centre used."""
    accounts = sorted({row.account for v in vouchers for row in v.rows})
    centres = sorted({row.cost_centre for v in vouchers for row in v.rows if row.cost_centre})
    lines = [f"#KONTO {a} {quote(names.accounts.get(a) or f'Konto {a}', MAX_NAME_LENGTH)}" for a in accounts]
    if centres:
        lines.append(f"#DIM {COST_CENTRE_DIMENSION} {quote(COST_CENTRE_DIMENSION_NAME)}")
        lines.extend(
            f"#OBJEKT {COST_CENTRE_DIMENSION} {quote(c, 20)} "
            f"{quote(names.cost_centres.get(c) or f'{COST_CENTRE_DIMENSION_NAME} {c}', MAX_NAME_LENGTH)}"
            for c in centres
        )
    return lines


def _voucher_lines(voucher: Voucher) -> list[str]:
    # Voucher guarantees balance; re-check here because a file that does not balance is useless.
    if sum(row.amount_ore for row in voucher.rows) != 0:
        raise ValueError(f"voucher {voucher.reference} does not balance")
    lines = [f'#VER {voucher.series} "" {sie_date(voucher.entry_date)} {quote(voucher.text)}', "{"]
    lines.extend(_trans_line(row) for row in voucher.rows)
    lines.append("}")
    return lines


def _trans_line(row: VoucherRow) -> str:
    objects = f'{{"{COST_CENTRE_DIMENSION}" {quote(row.cost_centre, 20)}}}' if row.cost_centre else "{}"
    line = f"#TRANS {row.account} {objects} {format_sek(row.amount_ore)}"
    if row.text:
        line += f' "" {quote(row.text)}'
    return line

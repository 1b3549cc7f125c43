"""SIE 4I: the same vouchers as an import file, for accountants who want a file instead of the API.

The file follows SIE 4B (SIE-gruppen, 2008) for type 4I ("import of vouchers"):

- encoded in code page 437 (``#FORMAT PC8``), lines ending CR LF, ``#FLAGGA 0`` first;
- identification (``#PROGRAM``, ``#FORMAT``, ``#GEN``, ``#SIETYP 4``, ``#ORGNR``, ``#FNAMN``)
  before any voucher;
- one ``#VER serie "" verdatum "vertext"`` per voucher: the voucher number is left empty so the
  importing system numbers it; then ``{``, one ``#TRANS konto {objekt} belopp "" "text"`` per
  row and ``}``. Rows of a voucher sum to zero;
- dates ``YYYYMMDD``; amounts with a ``.`` and two decimals; cost centres as dimension 1
  (``{"1" "S1"}``); texts quoted, ``"`` escaped as ``\\"``, control characters removed,
  characters outside CP437 replaced, and cut to :data:`MAX_TEXT_LENGTH`.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from mapping.money import format_sek
from mapping.voucher import Voucher, VoucherRow

ENCODING = "cp437"
LINE_END = "\r\n"
MAX_TEXT_LENGTH = 100
MAX_NAME_LENGTH = 100
#: SIE's reserved dimension number for cost centres (kostnadsställe).
COST_CENTRE_DIMENSION = "1"
_TRANSLITERATE = str.maketrans(
    {"€": "EUR", "–": "-", "—": "-", "‘": "'", "’": "'", "“": '"', "”": '"', "\\": "/", "\u00a0": " "}
)


def sie_text(value: str, limit: int = MAX_TEXT_LENGTH) -> str:
    """A text field as SIE allows it: printable CP437, no control characters, within ``limit``."""
    cleaned = "".join(" " if ord(ch) < 32 or ord(ch) == 127 else ch for ch in value.translate(_TRANSLITERATE))
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
) -> bytes:
    """The SIE 4I file for ``vouchers``, as bytes in CP437."""
    lines = [
        "#FLAGGA 0",
        f"#PROGRAM {quote(program, 40)} {quote(program_version, 20)}",
        "#FORMAT PC8",
        f"#GEN {sie_date(generated_on)}",
        "#SIETYP 4",
    ]
    if org_number:
        lines.append(f"#ORGNR {sie_text(org_number, 20).replace(' ', '')}")
    lines.append(f"#FNAMN {quote(company_name, MAX_NAME_LENGTH)}")
    for voucher in vouchers:
        lines.extend(_voucher_lines(voucher))
    return (LINE_END.join(lines) + LINE_END).encode(ENCODING)


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

"""A strict, independent reader of SIE 4I import files, written from the SIE 4B rules.

No SIE parser on PyPI reads import files with empty voucher numbers (the one candidate,
pysie-accounting, needs pandas and only matches numbered ``#VER`` lines), so the round-trip
tests use this checker. It shares no code with the writer and refuses anything doubtful.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

IDENTIFICATION = (
    "#FLAGGA",
    "#PROGRAM",
    "#FORMAT",
    "#GEN",
    "#SIETYP",
    "#PROSA",
    "#FTYP",
    "#FNR",
    "#ORGNR",
    "#BKOD",
    "#ADRESS",
    "#FNAMN",
    "#RAR",
    "#TAXAR",
    "#OMFATTN",
    "#KPTYP",
    "#VALUTA",
)
REQUIRED = ("#FLAGGA", "#PROGRAM", "#FORMAT", "#GEN", "#SIETYP", "#FNAMN")
#: The chart section (kontoplansuppgifter): after identification, before the vouchers.
CHART = ("#KONTO", "#DIM", "#OBJEKT")
_TOKEN = re.compile(r'"((?:[^"\\]|\\.)*)"|(\{[^{}]*\})|(\S+)')
_AMOUNT = re.compile(r"^-?[0-9]+(\.[0-9]{1,2})?$")
_ACCOUNT = re.compile(r"^[0-9]{4}$")


class SieError(ValueError):
    def __init__(self, line_no: int, message: str) -> None:
        super().__init__(f"line {line_no}: {message}")


@dataclass
class Trans:
    account: str
    objects: list[tuple[str, str]]
    amount: Decimal
    text: str | None


@dataclass
class Ver:
    series: str
    number: str
    day: date
    text: str
    trans: list[Trans] = field(default_factory=list)


@dataclass
class SieFile:
    header: dict[str, list[str]]
    vouchers: list[Ver]
    accounts: dict[str, str] = field(default_factory=dict)
    dimensions: dict[str, str] = field(default_factory=dict)
    objects: dict[tuple[str, str], str] = field(default_factory=dict)


def tokens(line: str, line_no: int) -> list[str]:
    out, pos = [], 0
    for match in _TOKEN.finditer(line):
        if line[pos : match.start()].strip():
            raise SieError(line_no, f"stray characters {line[pos : match.start()]!r}")
        quoted, objects, bare = match.groups()
        if bare is not None and '"' in bare:
            raise SieError(line_no, f"unbalanced quote in {bare!r}")
        out.append(quoted.replace('\\"', '"') if quoted is not None else objects or bare)
        pos = match.end()
    if line[pos:].strip():
        raise SieError(line_no, "unterminated field")
    return out


def _date(value: str, line_no: int) -> date:
    if not re.fullmatch(r"[0-9]{8}", value):
        raise SieError(line_no, f"date must be YYYYMMDD, got {value!r}")
    try:
        return date(int(value[:4]), int(value[4:6]), int(value[6:]))
    except ValueError:
        raise SieError(line_no, f"no such date {value}") from None


def _objects(value: str, line_no: int) -> list[tuple[str, str]]:
    if not (value.startswith("{") and value.endswith("}")):
        raise SieError(line_no, f"object list must be in braces, got {value!r}")
    inner = tokens(value[1:-1], line_no)
    if len(inner) % 2:
        raise SieError(line_no, "object list must hold dimension/object pairs")
    return list(zip(inner[::2], inner[1::2], strict=True))


def parse(data: bytes) -> SieFile:  # noqa: PLR0912, PLR0915 - one branch per rule
    if b"\r\n" not in data or data.replace(b"\r\n", b"").find(b"\n") >= 0 or b"\r" in data.replace(b"\r\n", b""):
        raise SieError(0, "lines must end with CR LF")
    text = data.decode("cp437")
    lines = text.split("\r\n")
    if lines[-1] != "":
        raise SieError(len(lines), "file must end with a line end")
    header: dict[str, list[str]] = {}
    chart = SieFile({}, [])
    vouchers: list[Ver] = []
    current: Ver | None = None
    in_block = False
    for no, line in enumerate(lines[:-1], start=1):
        if any(ord(ch) < 32 or ord(ch) == 127 for ch in line):
            raise SieError(no, "control character")
        if no == 1 and line != "#FLAGGA 0":
            raise SieError(no, "#FLAGGA 0 must come first")
        if line == "{":
            if current is None or in_block:
                raise SieError(no, "'{' without a #VER")
            in_block = True
            continue
        if line == "}":
            if not in_block or current is None:
                raise SieError(no, "'}' without '{'")
            _check_voucher(current, no)
            in_block, current = False, None
            continue
        fields = tokens(line, no)
        label, args = fields[0], fields[1:]
        if in_block:
            if label != "#TRANS":
                raise SieError(no, f"only #TRANS inside a voucher, got {label}")
            current.trans.append(_trans(args, no))  # type: ignore[union-attr]
        elif label == "#VER":
            if current is not None:
                raise SieError(no, "#VER without its '{' block")
            if len(args) < 4:
                raise SieError(no, "#VER needs serie, vernr, verdatum, vertext")
            if args[1] != "":
                raise SieError(no, "an import file leaves the voucher number empty")
            current = Ver(args[0], args[1], _date(args[2], no), args[3])
            vouchers.append(current)
        elif label in CHART:
            if vouchers:
                raise SieError(no, f"{label} after the first #VER")
            _declare(chart, label, args, no)
        elif label in IDENTIFICATION:
            if vouchers or chart.accounts or chart.dimensions:
                raise SieError(no, f"{label} after the first #VER" if vouchers else f"{label} after the chart")
            if label in header:
                raise SieError(no, f"{label} twice")
            header[label] = args
        else:
            raise SieError(no, f"unknown or misplaced label {label}")
    if in_block or current is not None:
        raise SieError(len(lines), "last voucher not closed")
    _check_header(header)
    _check_declared(chart, vouchers)
    return SieFile(header, vouchers, chart.accounts, chart.dimensions, chart.objects)


def _declare(chart: SieFile, label: str, args: list[str], no: int) -> None:
    """#KONTO konto "namn", #DIM dimensionsnr "namn", #OBJEKT dimensionsnr "objektkod" "namn": once each."""
    if label == "#KONTO":
        if len(args) != 2 or not _ACCOUNT.match(args[0]) or not args[1]:
            raise SieError(no, "#KONTO needs a 4-digit account and a name")
        if args[0] in chart.accounts:
            raise SieError(no, f"#KONTO {args[0]} twice")
        chart.accounts[args[0]] = args[1]
    elif label == "#DIM":
        if len(args) != 2 or not args[0].isdigit() or not args[1]:
            raise SieError(no, "#DIM needs a dimension number and a name")
        chart.dimensions[args[0]] = args[1]
    else:
        if len(args) != 3 or not args[1] or not args[2]:
            raise SieError(no, "#OBJEKT needs dimension, object code and name")
        if args[0] not in chart.dimensions:
            raise SieError(no, f"#OBJEKT in dimension {args[0]} before its #DIM")
        chart.objects[(args[0], args[1])] = args[2]


def _check_declared(chart: SieFile, vouchers: list[Ver]) -> None:
    """Every account and object a #TRANS uses is declared in the chart section."""
    for ver in vouchers:
        for trans in ver.trans:
            if trans.account not in chart.accounts:
                raise SieError(0, f"account {trans.account} used but not declared with #KONTO")
            for dim, obj in trans.objects:
                if (dim, obj) not in chart.objects:
                    raise SieError(0, f"object {dim}/{obj} used but not declared with #OBJEKT")


def _trans(args: list[str], no: int) -> Trans:
    if len(args) < 3:
        raise SieError(no, "#TRANS needs konto, objektlista, belopp")
    account, objects, amount = args[:3]
    if not _ACCOUNT.match(account):
        raise SieError(no, f"account must be 4 digits, got {account!r}")
    if not _AMOUNT.match(amount):
        raise SieError(no, f"amount must be like -123.45, got {amount!r}")
    if len(args) >= 4 and args[3] != "":
        _date(args[3], no)
    return Trans(account, _objects(objects, no), Decimal(amount), args[4] if len(args) >= 5 else None)


def _check_voucher(ver: Ver, no: int) -> None:
    if len(ver.trans) < 2:
        raise SieError(no, "a voucher needs at least two #TRANS rows")
    total = sum((t.amount for t in ver.trans), Decimal(0))
    if total != 0:
        raise SieError(no, f"voucher does not balance: {total}")


def _check_header(header: dict[str, list[str]]) -> None:
    missing = [label for label in REQUIRED if label not in header]
    if missing:
        raise SieError(0, f"missing {missing}")
    if header["#FORMAT"] != ["PC8"]:
        raise SieError(0, "#FORMAT must be PC8")
    if header["#SIETYP"] != ["4"]:
        raise SieError(0, "#SIETYP must be 4")
    if len(header["#PROGRAM"]) != 2:
        raise SieError(0, "#PROGRAM needs name and version")
    _date(header["#GEN"][0], 0)

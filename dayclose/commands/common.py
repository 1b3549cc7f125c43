"""What the operators' commands share: argument types, settings, a database connection that names
``DATABASE_URL`` when it fails, tables for people and JSON for scripts."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from decimal import Decimal
from typing import Any, TextIO

import psycopg

from dayclose.config import load_settings
from dayclose.preflight import DependencyUnavailable, database_target
from dayclose.settings import Settings

#: How long an operator's command waits for PostgreSQL before it gives up naming DATABASE_URL.
CONNECT_TIMEOUT_S = 10

Subparsers = Any  # argparse's _SubParsersAction is private


def iso_date(text: str) -> date:
    """An argparse type: a business date, ``YYYY-MM-DD``."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date YYYY-MM-DD, got {text!r}") from None


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a whole number above 0, got {text!r}")
    return value


def settings(needs: Iterable[str] = ()) -> Settings:
    return load_settings(needs=needs)


@contextmanager
def connect(settings: Settings, *, autocommit: bool = False) -> Iterator[psycopg.Connection[Any]]:
    """A connection to the service's database; one that cannot be made ends the command with exit 69."""
    try:
        conn = psycopg.connect(settings.database_url, autocommit=autocommit, connect_timeout=CONNECT_TIMEOUT_S)
    except psycopg.OperationalError as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DependencyUnavailable(
            f"cannot reach PostgreSQL at {database_target(settings.database_url)} ({reason}): check DATABASE_URL"
        ) from None
    with conn:
        yield conn


def kronor(ore: int | None) -> str:
    """Öre as kronor with two decimals (no float on the way)."""
    return "" if ore is None else f"{Decimal(ore) / 100:.2f}"


def text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    return str(value)


def print_table(headers: Sequence[str], rows: Iterable[Sequence[object]], out: TextIO | None = None) -> None:
    """Columns as wide as their widest cell; numbers (right-aligned) where the header ends with ``>``."""
    out = out or sys.stdout
    cells = [[text(c) for c in row] for row in rows]
    names = [h.rstrip(">") for h in headers]
    widths = [max([len(n)] + [len(r[i]) for r in cells]) for i, n in enumerate(names)]
    right = [h.endswith(">") for h in headers]

    def line(values: Sequence[str]) -> str:
        return "  ".join(v.rjust(w) if r else v.ljust(w) for v, w, r in zip(values, widths, right, strict=True))

    print(line(names).rstrip(), file=out)
    for row in cells:
        print(line(row).rstrip(), file=out)


def json_default(value: object) -> object:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"not JSON: {type(value).__name__}")


def print_json(value: object, out: TextIO | None = None) -> None:
    print(json.dumps(value, indent=2, ensure_ascii=False, default=json_default), file=out or sys.stdout)


def confirm(question: str, *, assume_yes: bool) -> bool:
    """True with ``--yes``; otherwise asks on a terminal, and refuses (False) without one."""
    if assume_yes:
        return True
    if not sys.stdin.isatty():
        print(f"{question} Not confirmed: no terminal to ask on; pass --yes to proceed.", file=sys.stderr)
        return False
    answer = input(f"{question} [y/N] ").strip().lower()
    return answer in ("y", "yes")

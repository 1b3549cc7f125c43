"""The event contracts, as Avro schema files next to this module (the files are the source of truth).

``load(name)`` returns the parsed schema for ``<name>.avsc``; ``raw(name)`` the JSON text.
See docs/events.md for the contracts and the compatibility rule.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

from fastavro import parse_schema
from fastavro.schema import fingerprint as _fingerprint
from fastavro.schema import to_parsing_canonical_form

SALES_EVENT = "sales_event"
COMMAND = "command"
EXPORT_OUTCOME = "export_outcome"
DEAD_LETTER = "dead_letter"
ALL = (SALES_EVENT, COMMAND, EXPORT_OUTCOME, DEAD_LETTER)


def raw(name: str) -> str:
    return resources.files(__name__).joinpath(f"{name}.avsc").read_text(encoding="utf-8")


@cache
def load(name: str) -> Any:
    """Parsed schema (fastavro), cached; parsing happens on first use, never at import."""
    return parse_schema(json.loads(raw(name)))


def fingerprint(schema_json: str) -> bytes:
    """CRC-64-AVRO fingerprint of the schema's Parsing Canonical Form, as the 8 bytes the Avro
    single-object encoding carries: little endian (for the schema ``"int"`` the 64-bit value is
    0x7275d51a3f395c8f, the bytes ``8f 5c 39 3f 1a d5 75 72``). fastavro's hex string is already in
    that byte order."""
    canonical = to_parsing_canonical_form(json.loads(schema_json))
    return bytes.fromhex(_fingerprint(canonical, "CRC-64-AVRO"))


def legacy_fingerprint(schema_json: str) -> bytes:
    """The byte-reversed fingerprint dayclose wrote before it followed the specification. Messages
    carrying it are still read (see :func:`legacy_writers`); nothing writes it any more."""
    return fingerprint(schema_json)[::-1]


def _writer_texts(name: str) -> list[str]:
    texts = [raw(name)]
    history = resources.files(__name__).joinpath("history")
    texts += [f.read_text(encoding="utf-8") for f in history.iterdir() if f.name.startswith(f"{name}.v")]
    return texts


@cache
def known_writers(name: str) -> dict[bytes, Any]:
    """Every schema a producer may have written ``name`` with: the current one and ``history/``."""
    return {fingerprint(text): parse_schema(json.loads(text)) for text in _writer_texts(name)}


@cache
def legacy_writers(name: str) -> dict[bytes, Any]:
    """The same schemas under the byte-reversed fingerprints of older dayclose versions, so that no
    message already stored in a topic is stranded by the fix."""
    return {legacy_fingerprint(text): parse_schema(json.loads(text)) for text in _writer_texts(name)}

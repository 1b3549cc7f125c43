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

"""The API's routes translate, the service decides: no route that writes asks BL itself (the BL-asking handlers of
service/bl_checks.py, plan_saves.py and correction_checks.py do, through the bus). Only the chart look-up, which shows
the names of BL's accounts and writes nothing, reads BL from its route. Read with :mod:`ast`."""

from __future__ import annotations

import ast
from pathlib import Path

import backoffice

ROUTES = Path(backoffice.__file__).parent
#: Read-only look-ups that may ask BL from their route (they decide nothing and write nothing).
LOOKUPS = {"routes_lookup.py"}


def _bl_calls(path: Path) -> list[str]:
    """``ctx.bl.<method>`` calls in the file, as ``file:line method``."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Attribute)
            and node.value.attr == "bl"
            and isinstance(node.value.value, ast.Name)
            and node.value.value.id == "ctx"
        ):
            found.append(f"{path.name}:{node.lineno} {node.attr}")
    return found


def test_no_route_that_writes_asks_bl_itself() -> None:
    routes = sorted(p for p in ROUTES.glob("routes_*.py") if p.name not in LOOKUPS)
    assert {p.name for p in routes} >= {"routes_integration.py", "routes_plan.py", "routes_bl.py", "routes_audit.py"}
    assert [call for path in routes for call in _bl_calls(path)] == []

"""Files under 300 lines and functions under 60, as ``mapping/`` keeps them (the house style: a module that grows
past that is asking to be split along a real seam), in every package the project installs (pyproject.toml's
``[tool.setuptools] packages``; ``bench/`` and ``tests/`` are not shipped).

The exceptions are listed below, each with its reason. An entry that no longer needs to be there fails too, so the
list stays short and true: when a listed file or function is split, delete its entry. Read with :mod:`ast`."""

from __future__ import annotations

import ast
import tomllib
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MAX_FILE_LINES = 300
MAX_FUNCTION_LINES = 60

#: Files allowed past MAX_FILE_LINES, and why.
LONG_FILES: dict[str, str] = {
    "service/reasons.py": "the one reason-code registry: a table of codes, each with its Swedish and English texts "
    "and what happens next; two files would be two registries",
    "backoffice/card/texts.py": "the reference card's Swedish and English texts, one table",
    "storage/exports.py": "the export repository (one aggregate: its lease, claim, booking and attach marks, each a "
    "statement with its locking comment); the next split is its read queries into a module of their own",
}
#: Functions (``path:Class.function``) allowed past MAX_FUNCTION_LINES, and why.
LONG_FUNCTIONS: dict[str, str] = {
    "exporters/bl/exporter.py:BLExporter.export": "one booking against BL with its retry policy in closures over "
    "its state (look up before a retry, upload the report once, post, the quiet wait after an ambiguous failure); "
    "split, that state would travel in arguments between the steps of one booking",
}


def product_files() -> list[Path]:
    setuptools = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    tops = sorted({package.split(".")[0] for package in setuptools["packages"]})
    assert {"mapping", "service", "storage", "consumer", "dayclose", "devstack"} <= set(tops)
    return [path for top in tops for path in sorted((ROOT / top).rglob("*.py"))]


def file_lengths() -> dict[str, int]:
    return {str(path.relative_to(ROOT)): len(path.read_text(encoding="utf-8").splitlines()) for path in product_files()}


def function_lengths() -> dict[str, int]:
    """Every function and method, ``path:Qualified.name`` → lines from its ``def`` to its last line."""
    found: dict[str, int] = {}
    for path in product_files():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for name, node in _functions(tree, ""):
            found[f"{path.relative_to(ROOT)}:{name}"] = (node.end_lineno or node.lineno) - node.lineno + 1
    return found


def _functions(node: ast.AST, prefix: str) -> Iterator[tuple[str, ast.FunctionDef | ast.AsyncFunctionDef]]:
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
            yield prefix + child.name, child
            yield from _functions(child, f"{prefix}{child.name}.")
        elif isinstance(child, ast.ClassDef):
            yield from _functions(child, f"{prefix}{child.name}.")
        else:
            yield from _functions(child, prefix)


def test_every_file_is_under_300_lines_or_listed_with_its_reason() -> None:
    lengths = file_lengths()
    too_long = {path: n for path, n in lengths.items() if n > MAX_FILE_LINES and path not in LONG_FILES}
    assert too_long == {}, "split these along a real seam (or list one in LONG_FILES with its reason)"
    no_longer = [path for path in LONG_FILES if lengths.get(path, 0) <= MAX_FILE_LINES]
    assert no_longer == [], "these are short now (or gone): delete their LONG_FILES entries"


def test_every_function_is_under_60_lines_or_listed_with_its_reason() -> None:
    lengths = function_lengths()
    too_long = {name: n for name, n in lengths.items() if n > MAX_FUNCTION_LINES and name not in LONG_FUNCTIONS}
    assert too_long == {}, "extract along a real seam (or list one in LONG_FUNCTIONS with its reason)"
    no_longer = [name for name in LONG_FUNCTIONS if lengths.get(name, 0) <= MAX_FUNCTION_LINES]
    assert no_longer == [], "these are short now (or gone): delete their LONG_FUNCTIONS entries"


def test_the_measure_counts_what_it_says() -> None:
    tree = ast.parse("class A:\n    def f(self):\n        def g():\n            pass\n\n        return g\n")
    assert [(name, (n.end_lineno or 0) - n.lineno + 1) for name, n in _functions(tree, "")] == [
        ("A.f", 5),
        ("A.f.g", 2),
    ]

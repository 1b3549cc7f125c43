"""The layers import downwards only, and no module imports itself round a cycle:

    mapping, schemas  ←  service  ←  storage, consumer, exporters, backoffice  ←  dayclose  ←  devstack, bench

The adapters do not import each other, except the API, which reads and writes through storage's unit of work.
Every import counts, including those inside functions: a lazy upward import is still an upward import, and a lazy
import that closes a circle is still a circle, only one hidden from the reader. For cycles the imports under
``TYPE_CHECKING`` do not count (they never run; an annotation may name a type of a module that imports this one).
Read with :mod:`ast`, so nothing is imported to check it."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
#: What each top-level package may import of ours, besides itself.
MAY_IMPORT: dict[str, set[str]] = {
    "mapping": set(),
    "schemas": set(),
    "service": {"mapping"},
    "storage": {"service", "mapping"},
    "consumer": {"service", "mapping", "schemas"},
    "exporters": {"service", "mapping"},
    "backoffice": {"service", "mapping", "storage"},
    "dayclose": {"service", "mapping", "schemas", "storage", "consumer", "exporters", "backoffice"},
    "devstack": {"service", "mapping", "schemas", "storage", "consumer", "exporters", "backoffice", "dayclose"},
    "bench": {
        "service",
        "mapping",
        "schemas",
        "storage",
        "consumer",
        "exporters",
        "backoffice",
        "dayclose",
        "devstack",
    },
}


def modules() -> dict[str, Path]:
    found = {}
    for package in MAY_IMPORT:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


def imports(path: Path, known: set[str], *, run: bool = False) -> Iterator[tuple[str, int]]:
    """(module of ours imported, line) for every import in the file, or only those that can run (not under
    ``TYPE_CHECKING``), at import time or inside a function."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in _run(tree) if run else ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield from _ours(alias.name, known, node.lineno)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                submodule = f"{node.module}.{alias.name}"
                yield from _ours(submodule if submodule in known else node.module, known, node.lineno)


def _run(node: ast.AST) -> Iterator[ast.AST]:
    """Every node but those under ``if TYPE_CHECKING:`` (its ``else`` runs)."""
    if isinstance(node, ast.If) and _is_type_checking(node.test):
        children: list[ast.AST] = list(node.orelse)
    else:
        yield node
        children = list(ast.iter_child_nodes(node))
    for child in children:
        yield from _run(child)


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _ours(name: str, known: set[str], line: int) -> Iterator[tuple[str, int]]:
    while name and name not in known:
        name = name.rpartition(".")[0]
    if name:
        yield name, line


def graph() -> dict[str, set[str]]:
    """Who imports whom, every import that can run counted (inside functions too)."""
    found = modules()
    known = set(found)
    return {
        name: {target for target, _ in imports(path, known, run=True) if target != name} for name, path in found.items()
    }


def allowed(importer: str, imported: str) -> bool:
    top, other = importer.split(".", maxsplit=1)[0], imported.split(".", maxsplit=1)[0]
    if top == other:
        return True
    return other in MAY_IMPORT[top]


def test_every_import_goes_down_the_layers() -> None:
    found = modules()
    known = set(found)
    upward = [
        f"{path.relative_to(ROOT)}:{line}: {name} imports {target}"
        for name, path in found.items()
        for target, line in imports(path, known)
        if not allowed(name, target)
    ]
    assert upward == []


def test_no_module_imports_itself_round_a_cycle() -> None:
    found = cycles(graph())
    assert found == [], "\n".join(" → ".join(cycle) for cycle in found)


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """One cycle (a, b, …, a) for every edge back to a module on the current path of a depth-first walk."""
    found: list[list[str]] = []
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                found.append([*path[path.index(nxt) :], nxt])
            elif nxt not in state:
                visit(nxt)
        path.pop()
        state[node] = 2

    for node in sorted(edges):
        if node not in state:
            visit(node)
    return found


@pytest.mark.parametrize(("importer", "imported"), [("consumer.loop", "storage.uow"), ("service.jobs", "storage")])
def test_the_check_catches_an_upward_or_sideways_import(importer: str, imported: str, tmp_path: Path) -> None:
    """The rules above are not vacuous: an import the layers forbid is found."""
    bad = tmp_path / "bad.py"
    bad.write_text(f"def f():\n    import {imported}\n", encoding="utf-8")
    ((target, _),) = imports(bad, set(modules()))
    assert not allowed(importer, target)


def test_an_import_inside_a_function_that_closes_a_circle_is_a_cycle(tmp_path: Path) -> None:
    """The cycle check is not vacuous: a lazy import back counts; one under ``TYPE_CHECKING`` does not."""
    (tmp_path / "a.py").write_text("import b\n", encoding="utf-8")
    (tmp_path / "b.py").write_text("def f():\n    import a\n", encoding="utf-8")
    (tmp_path / "c.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import a\n", encoding="utf-8"
    )
    known = {"a", "b", "c"}
    edges = {n: {t for t, _ in imports(tmp_path / f"{n}.py", known, run=True)} for n in sorted(known)}
    assert edges == {"a": {"b"}, "b": {"a"}, "c": set()}
    assert cycles(edges) == [["a", "b", "a"]]

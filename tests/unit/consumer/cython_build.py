"""Builds the Cython reader (:func:`consumer.compiled.cython_source`) of any schema, as setup.py builds the sales
events' (Cython, then the machine's C compiler), into a folder of the test session's: all modules in one run of
Cython's own build command, so the C varint functions are tested on every schema the reader compiled into Python is."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from consumer.avro_reader import Reader
from consumer.compiled import cython_source


def _key(schema: Any) -> str:
    return hashlib.sha256(json.dumps(schema, sort_keys=True, default=str).encode()).hexdigest()[:16]


def build(parsed: Iterable[Any], folder: Path) -> dict[str, Reader]:
    """Each schema's reader (a schema as :func:`fastavro.parse_schema` returns it), by :func:`key`."""
    names = {}
    for schema in parsed:
        key = _key(schema)
        (folder / f"r_{key}.pyx").write_text(cython_source(schema, "test"), encoding="utf-8")
        names[key] = f"r_{key}"
    pyx = sorted(str(folder / f"{name}.pyx") for name in names.values())
    subprocess.run(  # noqa: S603 - Cython's own command, on files this module wrote
        [sys.executable, "-m", "Cython.Build.Cythonize", "-i", "-q", "-j", "2", *pyx],
        cwd=folder,
        check=True,
        capture_output=True,
    )
    readers = {}
    for key, name in names.items():
        built = next(folder.glob(f"{name}.*.so"))
        spec = importlib.util.spec_from_file_location(name, built)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        readers[key] = module.read
    return readers


def key(schema: Any) -> str:
    return _key(schema)

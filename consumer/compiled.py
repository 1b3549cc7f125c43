"""The sales events' Avro reader built as a C extension: the same generated reader as :mod:`consumer.avro_reader`'s,
written as a Cython module (``consumer/_sales_event_reader.pyx``, committed) and compiled when the package is installed
(``setup.py``). It reads the benchmark's receipts in 2.3 µs against 8.6 for the reader compiled into Python (``python
-m bench.decode``): on the Kafka loop's thread, which bounds ingest, that was the largest single cost.

The codec uses the extension only when it is exactly what the generator makes of the schema the codec reads (its
``FINGERPRINT`` and ``BODY_SHA256``); otherwise (not built, built from an older file) it says why in one log line and
reads with the reader compiled into Python, which gives the same results, slower.

    python -m consumer.compiled --check   # exit 1 when the committed .pyx is not the generator's
    python -m consumer.compiled --write   # rewrite it (then reinstall: make rebuilds it, as the Makefile depends on it)
"""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path

import schemas
from consumer.avro_reader import Reader, cython_body_digest, cython_source

_import = importlib.import_module

#: Each contract read by a C extension, and its module. Only the sales events: nearly every message ingested.
MODULES = {schemas.SALES_EVENT: "consumer._sales_event_reader"}


def source_path(schema_name: str) -> Path:
    return Path(__file__).parent / f"{MODULES[schema_name].rsplit('.', 1)[1]}.pyx"


def source(schema_name: str) -> str:
    """The module's text, as the generator makes it from the schema today."""
    return cython_source(schemas.load(schema_name), schemas.fingerprint(schemas.raw(schema_name)).hex())


def built(schema_name: str) -> tuple[Reader | None, str]:
    """The extension's reader for the contract, or None and why not."""
    if schema_name not in MODULES:
        return None, "no extension for this contract"
    try:
        module = _import(MODULES[schema_name])
    except ImportError as exc:
        return None, f"not built ({exc})"
    expected = source(schema_name)
    if module.FINGERPRINT != schemas.fingerprint(schemas.raw(schema_name)).hex():
        return None, "built for another version of the schema"
    if module.BODY_SHA256 != cython_body_digest(expected):
        return None, "built from other generated code than this version's"
    reader: Reader = module.read
    return reader, "extension"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    action = parser.add_mutually_exclusive_group(required=True)
    action.add_argument("--check", action="store_true", help="exit 1 when a committed module is not the generator's")
    action.add_argument("--write", action="store_true", help="write each module as the generator makes it")
    args = parser.parse_args(argv)
    stale = []
    for name in MODULES:
        path, text = source_path(name), source(name)
        if args.write:
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path}")
        elif not path.exists() or path.read_text(encoding="utf-8") != text:
            stale.append(str(path))
    if stale:
        print(
            f"not what the generator makes (python -m consumer.compiled --write): {', '.join(stale)}", file=sys.stderr
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

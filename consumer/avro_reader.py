"""A reader for one Avro schema, compiled once into Python source, for messages written with exactly the schema we read
with (nearly every message: the POS writes the current contract). Everything else (an older writer's schema resolved
against ours, a Schema Registry's) is read by fastavro, as before.

Why: fastavro's ``schemaless_reader`` reads each value through a call on a file object; over the bench's receipts
(145 bytes, 25 values) that was over half of the ingest loop's thread. The same schema compiled into straight-line
code over the bytes reads the same dicts in 8.2 µs against fastavro's 11.7 in the same run (``python -m
bench.decode``). The result is exactly fastavro's (``return_record_name=True, return_record_name_override=True``: a
union of several records gives ``(full name, record)``, any other union its value; ``date`` and ``timestamp-millis``
as fastavro converts them):
tests/unit/consumer/test_avro_reader.py checks it against fastavro over every sample event and thousands of mutated
messages, and against bytes built from the specification and written by the Apache ``avro`` package.

A schema with a type this compiler does not know (a logical type other than those two, a recursive type) raises
:class:`Unsupported`, and its messages stay with fastavro. The reader is stricter than fastavro where the
specification is, and refuses what fastavro reads as something else: a negative union or enum index (fastavro reads
Python's negative index: the last branch), a long outside 64 bits or an int outside 32 (fastavro wraps or widens it), a
varint longer than 10 bytes, a boolean byte other than 0 and 1 (fastavro reads True, the Apache package False).
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

#: A compiled reader: ``(message, start) -> (value, end)``; raises ``ValueError``/``IndexError``/``OverflowError``
#: (or ``UnicodeDecodeError``) on bytes that are not a value of the schema.
Reader = Callable[[bytes, int], tuple[Any, int]]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
_MAX_DEPTH = 32


class Unsupported(ValueError):
    """The schema uses something this compiler does not read; fastavro reads its messages."""


def compile_reader(parsed: Any) -> Reader:
    """The reader of ``parsed`` (a schema as :func:`fastavro.parse_schema` returns it)."""
    source = Source(parsed.get("__named_schemas", {}) if isinstance(parsed, dict) else {})
    source.value(parsed, 1, "out", 0)
    text = "def read(data, pos):\n    end = len(data)\n" + "\n".join(source.lines) + "\n    return out, pos\n"
    namespace = dict(source.constants)
    exec(compile(text, "<avro reader>", "exec"), namespace)  # noqa: S102 - our own generated source, from our schema
    reader: Reader = namespace["read"]
    return reader


class Source:
    """The reader's source lines and the constants they name."""

    def __init__(self, named: dict[str, Any], cython: bool = False) -> None:
        self.named = named
        #: Cython's dialect (:func:`consumer.compiled.cython_source`): varints read by C functions into C integers.
        self.cython = cython
        #: The C integers (lengths, counts, union and enum indexes) the Cython reader declares.
        self.c_names: list[str] = []
        self.lines: list[str] = []
        self.constants: dict[str, Any] = {
            "_EPOCH": _EPOCH,
            "_EPOCH_ORDINAL": _EPOCH_ORDINAL,
            "_timedelta": timedelta,
            "_fromordinal": date.fromordinal,
            "_float": struct.Struct("<f").unpack_from,
            "_double": struct.Struct("<d").unpack_from,
        }
        self._count = 0

    def name(self, prefix: str) -> str:
        self._count += 1
        return f"{prefix}{self._count}"

    def c_name(self, prefix: str) -> str:
        """A name for a length, count or index: a C integer in Cython's dialect, a Python int otherwise."""
        name = self.name(prefix)
        self.c_names.append(name)
        return name

    def emit(self, indent: int, line: str) -> None:
        self.lines.append("    " * indent + line)

    def long(self, indent: int, target: str, bits: int = 64) -> None:
        """A varint, inline: one byte (every count, index and small amount) in one line; longer ones (amounts in öre,
        dates, timestamps) in a loop here, as a call for each costs more than reading it; at most 10 bytes, and in the
        range of the schema's int (32 bits) or long (64 bits). In Cython's dialect, a call of the C function that does
        the same (:data:`_CYTHON_PRELUDE`)."""
        if self.cython:
            self.emit(indent, f"{target} = _read_{'int' if bits == 32 else 'long'}(p, &pos, end)")
            return
        self.emit(indent, "b = data[pos]; pos += 1")
        self.emit(indent, f"if b < 128: {target} = (b >> 1) ^ -(b & 1)")
        self.emit(indent, "else:")
        self.emit(indent + 1, "n = b & 127; shift = 7")
        self.emit(indent + 1, "while True:")
        self.emit(indent + 2, "b = data[pos]; pos += 1")
        self.emit(indent + 2, "n |= (b & 127) << shift")
        self.emit(indent + 2, "if b < 128: break")
        self.emit(indent + 2, "shift += 7")
        self.emit(indent + 2, "if shift > 63: raise ValueError('a varint longer than 10 bytes')")
        self.emit(indent + 1, f"{target} = (n >> 1) ^ -(n & 1)")
        if bits == 32:
            self.emit(
                indent + 1, f"if not -2147483648 <= {target} < 2147483648: raise ValueError('an int outside 32 bits')"
            )
        else:
            self.emit(indent + 1, "if n >> 64: raise ValueError('a long outside 64 bits')")

    def value(self, schema: Any, indent: int, target: str, depth: int) -> None:
        if depth > _MAX_DEPTH:
            raise Unsupported("a recursive or deeper schema")
        if isinstance(schema, list):
            self.union(schema, indent, target, depth)
            return
        if isinstance(schema, str):
            schema = self.named[schema] if schema in self.named else {"type": schema}
        kind, logical = schema["type"], schema.get("logicalType")
        if isinstance(kind, (dict, list)):
            self.value(kind, indent, target, depth + 1)
        elif logical is not None and kind in ("int", "long", "bytes", "fixed", "string"):
            self.logical(kind, logical, indent, target)
        elif kind in ("record", "error"):
            self.record(schema, indent, target, depth)
        elif kind in ("array", "map"):
            self.blocks(schema, indent, target, depth)
        else:
            self.primitive(schema, indent, target)

    def logical(self, kind: str, logical: str, indent: int, target: str) -> None:
        if (kind, logical) == ("int", "date"):
            self.long(indent, target, 32)
            self.emit(indent, f"{target} = _fromordinal({target} + _EPOCH_ORDINAL)")
        elif (kind, logical) == ("long", "timestamp-millis"):
            self.long(indent, target)
            self.emit(indent, f"{target} = _EPOCH + _timedelta(microseconds={target} * 1000)")
        else:
            raise Unsupported(f"logical type {logical} on {kind}")

    def primitive(self, schema: dict[str, Any], indent: int, target: str) -> None:
        kind = schema["type"]
        if kind == "null":
            self.emit(indent, f"{target} = None")
        elif kind == "boolean":
            byte = "p[pos]" if self.cython else "data[pos]"
            if self.cython:
                self.emit(indent, "if pos >= end: raise IndexError('index out of range')")
            self.emit(indent, f"if {byte} > 1: raise ValueError('a boolean byte other than 0 and 1')")
            self.emit(indent, f"{target} = {byte} == 1; pos += 1")
        elif kind in ("int", "long"):
            self.long(indent, target, 32 if kind == "int" else 64)
        elif kind in ("string", "bytes"):
            size = self.c_name("n")
            self.long(indent, size)
            # Written so that no sum can overflow a C integer in Cython's dialect.
            self.emit(indent, f"if {size} < 0 or {size} > end - pos: raise ValueError('a length past the end')")
            if self.cython and kind == "string":  # strict UTF-8, as bytes.decode()
                self.emit(indent, f"{target} = PyUnicode_DecodeUTF8(<const char*>p + pos, {size}, NULL)")
            else:
                self.emit(indent, f"{target} = data[pos:pos + {size}]{'.decode()' if kind == 'string' else ''}")
            self.emit(indent, f"pos += {size}")
        elif kind in ("float", "double"):
            self.emit(indent, f"{target}, = _{kind}(data, pos); pos += {4 if kind == 'float' else 8}")
        elif kind == "fixed":
            width = int(schema["size"])
            self.emit(indent, f"if pos + {width} > end: raise ValueError('a fixed past the end')")
            self.emit(indent, f"{target} = data[pos:pos + {width}]; pos += {width}")
        elif kind == "enum":
            symbols, index = self.name("SYMBOLS"), self.c_name("i")
            self.constants[symbols] = tuple(schema["symbols"])
            self.long(indent, index)
            self.emit(indent, f"if {index} < 0: raise ValueError('a negative enum index')")
            self.emit(indent, f"{target} = {symbols}[{index}]")
        else:
            raise Unsupported(f"type {kind}")

    def record(self, schema: dict[str, Any], indent: int, target: str, depth: int) -> None:
        fields = []
        for field in schema["fields"]:
            name = self.name("f")
            self.value(field["type"], indent, name, depth + 1)
            fields.append(f"{field['name']!r}: {name}")
        self.emit(indent, f"{target} = {{{', '.join(fields)}}}")

    def blocks(self, schema: dict[str, Any], indent: int, target: str, depth: int) -> None:
        """An array or a map: blocks of items, each count first; a negative count is followed by the block's size in
        bytes (skipped); a count of 0 ends it."""
        out, count, item = self.name("a"), self.c_name("c"), self.name("v")
        is_map = schema["type"] == "map"
        if not is_map and self.zero_width(schema["items"], 0):
            raise Unsupported("an array whose items may take no bytes")  # its count alone could loop for ever
        self.emit(indent, f"{out} = {{}}" if is_map else f"{out} = []")
        self.emit(indent, "while True:")
        self.long(indent + 1, count)
        self.emit(indent + 1, f"if {count} == 0: break")
        # Every item takes a byte at least: a count beyond the bytes left is refused before the loop, not after it.
        self.emit(
            indent + 1, f"if {count} > end - pos or {count} < pos - end: raise ValueError('a block count past the end')"
        )
        self.emit(indent + 1, f"if {count} < 0:")
        self.emit(indent + 2, f"{count} = -{count}")
        self.long(indent + 2, "_size")
        self.emit(indent + 1, f"for _ in range({count}):")
        if is_map:
            key = self.name("k")
            self.primitive({"type": "string"}, indent + 2, key)
            self.value(schema["values"], indent + 2, item, depth + 1)
            self.emit(indent + 2, f"{out}[{key}] = {item}")
        else:
            self.value(schema["items"], indent + 2, item, depth + 1)
            self.emit(indent + 2, f"{out}.append({item})")
        self.emit(indent, f"{target} = {out}")

    def zero_width(self, schema: Any, depth: int) -> bool:
        """Whether a value of ``schema`` may be written in no bytes at all (null, an empty fixed, a record of such)."""
        if depth > _MAX_DEPTH:
            return True
        if isinstance(schema, str):
            schema = self.named.get(schema, {"type": schema})
        if isinstance(schema, list):
            return False  # the branch's index takes a byte
        kind = schema["type"]
        if isinstance(kind, (dict, list)):
            return self.zero_width(kind, depth + 1)
        if kind in ("record", "error"):
            return all(self.zero_width(f["type"], depth + 1) for f in schema["fields"])
        return kind == "null" or (kind == "fixed" and int(schema["size"]) == 0)

    def union(self, branches: list[Any], indent: int, target: str, depth: int) -> None:
        """As fastavro with ``return_record_name_override``: ``(full name, record)`` when the union has several
        records and a record was written, else the value."""
        resolved = [self.named.get(b, b) if isinstance(b, str) else b for b in branches]
        records = sum(1 for b in resolved if isinstance(b, dict) and b.get("type") in ("record", "error"))
        index = self.c_name("u")
        self.long(indent, index)
        for number, branch in enumerate(resolved):
            self.emit(indent, f"{'if' if number == 0 else 'elif'} {index} == {number}:")
            if records > 1 and isinstance(branch, dict) and branch.get("type") in ("record", "error"):
                value = self.name("r")
                self.value(branch, indent + 1, value, depth + 1)
                self.emit(indent + 1, f"{target} = ({branch['name']!r}, {value})")
            else:
                self.value(branch, indent + 1, target, depth + 1)
        self.emit(indent, "else: raise ValueError('a union index out of range')")

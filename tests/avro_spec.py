"""The Avro specification's wire rules, written out from the spec for tests, independent of our codec.

Nothing here imports fastavro or ``schemas``/``consumer``: the Parsing Canonical Form and the CRC-64-AVRO
fingerprint follow the specification's text (https://avro.apache.org/docs/1.12.0/specification/,
"Parsing Canonical Form for Schemas", "Schema Fingerprints", "Single-object encoding"), and bodies are
written and read by the Apache ``avro`` package. The Apache package's own ``fingerprint()`` is NOT used
for our schemas: avro 1.12 writes the canonical form of a logical type as ``{"type":"int"}`` instead of
``"int"`` (it converts primitives before stripping ``logicalType``), so it disagrees with the spec (and
with Java's ``SchemaNormalization``) for every schema with a date or timestamp.
"""

from __future__ import annotations

import io
import json
from typing import Any

import avro.io
import avro.schema

#: The spec's "empty" value: the CRC-64-AVRO polynomial's seed.
CRC64_EMPTY = 0xC15D213AA4D7A795
SINGLE_OBJECT_MARKER = b"\xc3\x01"
PRIMITIVES = frozenset({"null", "boolean", "int", "long", "float", "double", "bytes", "string"})


def _table() -> list[int]:
    table = []
    for i in range(256):
        fp = i
        for _ in range(8):
            fp = (fp >> 1) ^ (CRC64_EMPTY & -(fp & 1))
        table.append(fp & 0xFFFF_FFFF_FFFF_FFFF)
    return table


_TABLE = _table()


def crc64_avro(data: bytes) -> int:
    """The spec's ``fingerprint64``: a 64-bit Rabin fingerprint, as an unsigned int."""
    fp = CRC64_EMPTY
    for byte in data:
        fp = (fp >> 8) ^ _TABLE[(fp ^ byte) & 0xFF]
    return fp


def parsing_canonical_form(schema_json: str) -> str:
    """[PRIMITIVES] [FULLNAMES] [STRIP] [ORDER] [STRINGS] [INTEGERS] [WHITESPACE], per the spec.

    Stripping comes first in effect: ``{"type": "int", "logicalType": "date"}`` keeps only ``type`` and
    then, being a primitive, is written ``"int"``."""
    return _pcf(json.loads(schema_json), None)


def _fullname(name: str, namespace: str | None) -> str:
    return name if "." in name or not namespace else f"{namespace}.{name}"


def _s(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def _pcf(node: Any, namespace: str | None) -> str:  # noqa: PLR0911 - one branch per schema kind
    if isinstance(node, str):
        return _s(node if node in PRIMITIVES else _fullname(node, namespace))
    if isinstance(node, list):
        return "[" + ",".join(_pcf(branch, namespace) for branch in node) + "]"
    kind = node["type"]
    if not isinstance(kind, str):
        return _pcf(kind, namespace)
    if kind in PRIMITIVES:
        return _s(kind)
    if kind == "array":
        return '{"type":"array","items":' + _pcf(node["items"], namespace) + "}"
    if kind == "map":
        return '{"type":"map","values":' + _pcf(node["values"], namespace) + "}"
    name = _fullname(node["name"], node.get("namespace", namespace))
    inner = name.rsplit(".", 1)[0] if "." in name else None
    head = '{"name":' + _s(name) + ',"type":' + _s(kind)
    if kind in ("record", "error"):
        fields = ",".join(
            '{"name":' + _s(f["name"]) + ',"type":' + _pcf(f["type"], inner) + "}" for f in node["fields"]
        )
        return head + ',"fields":[' + fields + "]}"
    if kind == "enum":
        return head + ',"symbols":[' + ",".join(_s(s) for s in node["symbols"]) + "]}"
    if kind == "fixed":
        return head + ',"size":' + str(int(node["size"])) + "}"
    raise ValueError(f"not an Avro schema node: {node!r}")


def fingerprint(schema_json: str) -> bytes:
    """The 8 fingerprint bytes of the single-object header: CRC-64-AVRO of the canonical form, little endian."""
    return crc64_avro(parsing_canonical_form(schema_json).encode()).to_bytes(8, "little")


def header(schema_json: str) -> bytes:
    return SINGLE_OBJECT_MARKER + fingerprint(schema_json)


def apache_encode(schema_json: str, datum: Any) -> bytes:
    """The Avro binary body of ``datum``, written by the Apache package."""
    buf = io.BytesIO()
    avro.io.DatumWriter(avro.schema.parse(schema_json)).write(datum, avro.io.BinaryEncoder(buf))
    return buf.getvalue()


def apache_single_object(schema_json: str, datum: Any) -> bytes:
    return header(schema_json) + apache_encode(schema_json, datum)


def apache_decode_single_object(schema_json: str, data: bytes) -> Any:
    """Read a single-object encoded message as a spec-following consumer holding ``schema_json`` would:
    check the marker and the fingerprint, then let the Apache package read the body (all of it)."""
    if data[:2] != SINGLE_OBJECT_MARKER:
        raise ValueError(f"no single-object marker: {data[:2].hex()}")
    if data[2:10] != fingerprint(schema_json):
        raise ValueError(f"fingerprint {data[2:10].hex()} is not the schema's {fingerprint(schema_json).hex()}")
    body = io.BytesIO(data[10:])
    schema = avro.schema.parse(schema_json)
    datum = avro.io.DatumReader(schema, schema).read(avro.io.BinaryDecoder(body))
    if body.tell() != len(data) - 10:
        raise ValueError(f"{len(data) - 10 - body.tell()} bytes left after the record")
    return datum


def plain(value: Any) -> Any:
    """A fastavro-style record (unions of records as ``(name, record)`` tuples) as a plain datum the Apache
    package accepts (it picks the union branch by the record's field names)."""
    if isinstance(value, tuple) and len(value) == 2 and isinstance(value[0], str):
        return plain(value[1])
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def zigzag(n: int) -> bytes:
    """An Avro ``int``/``long``: zig-zag, then little-endian base-128 varint (spec, "Primitive Types")."""
    z = (n << 1) ^ (n >> 63)
    out = bytearray()
    while z & ~0x7F:
        out.append((z & 0x7F) | 0x80)
        z >>= 7
    out.append(z)
    return bytes(out)


def string(text: str) -> bytes:
    data = text.encode()
    return zigzag(len(data)) + data

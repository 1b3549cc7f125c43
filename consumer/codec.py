"""Avro on the wire, in one of two framings, so the writer's schema is always known to the reader:

* with a Schema Registry (``SCHEMA_REGISTRY_URL``): Confluent framing, ``0x00`` + 4-byte big-endian
  schema id + Avro body; the writer schema is fetched by id (cached);
* without one: Avro *single-object encoding*, ``0xC3 0x01`` + the writer schema's CRC-64-AVRO
  fingerprint (8 bytes, little endian) + Avro body; writer schemas are looked up among the current
  schema and every version kept in ``schemas/history/``. Messages written by dayclose versions that
  put the fingerprint's bytes in reverse order are still read, with a warning and
  ``dayclose_legacy_fingerprint_messages_total``; nothing is written that way any more.

Either way the writer schema is resolved against our reader schema, so producers may run any
compatible version (the rule is in docs/events.md). Nothing outside this module and
:mod:`consumer.records` touches wire dicts.
"""

from __future__ import annotations

import io
import json
import struct
import threading
from typing import Any, Protocol

import structlog
from fastavro import parse_schema, schemaless_reader, schemaless_writer

import schemas
from consumer import compiled, metrics
from consumer.avro_reader import Reader, Unsupported, compile_reader
from service.reasons import ReasonCode

log = structlog.get_logger("dayclose.codec")

MAGIC = 0
_HEADER = struct.Struct(">bI")
SINGLE_OBJECT_MARKER = b"\xc3\x01"
_SINGLE_OBJECT_HEADER = len(SINGLE_OBJECT_MARKER) + 8
#: Messages larger than this are refused as OVERSIZED before decoding.
MAX_MESSAGE_BYTES = 1_000_000


class DecodeError(ValueError):
    """A message that cannot be turned into a typed event. ``code`` goes into the dead-letter record."""

    def __init__(self, code: ReasonCode, message: str) -> None:
        super().__init__(message)
        self.code = code


class SchemaRegistry(Protocol):
    def schema_for_id(self, schema_id: int) -> Any: ...
    def id_for(self, subject: str, schema_json: str) -> int: ...


class ConfluentRegistry:
    """Adapter over confluent-kafka's registry client (works with real registries and ``mock://``)."""

    def __init__(self, url: str, client: Any = None) -> None:
        from confluent_kafka.schema_registry import Schema, SchemaRegistryClient

        # new_client() also understands mock:// URLs (an in-process registry, for tests). Each mock
        # client has its own store: pass ``client`` to share one with Confluent's own serializers.
        self._client = client or SchemaRegistryClient.new_client({"url": url})
        self._schema_cls = Schema
        self._by_id: dict[int, Any] = {}
        self._ids: dict[tuple[str, str], int] = {}
        self._lock = threading.Lock()

    def schema_for_id(self, schema_id: int) -> Any:
        with self._lock:
            if schema_id not in self._by_id:
                schema = self._client.get_schema(schema_id)
                self._by_id[schema_id] = parse_schema(json.loads(str(schema.schema_str)))
            return self._by_id[schema_id]

    def id_for(self, subject: str, schema_json: str) -> int:
        with self._lock:
            key = (subject, schema_json)
            if key not in self._ids:
                self._ids[key] = self._client.register_schema(subject, self._schema_cls(schema_json, "AVRO"))
            return self._ids[key]


class AvroCodec:
    """Encode/decode one contract (``schemas/<name>.avsc``) for one topic."""

    def __init__(self, schema_name: str, topic: str, registry: SchemaRegistry | None = None) -> None:
        self.schema_name = schema_name
        self.topic = topic
        self.schema = schemas.load(schema_name)
        self._registry = registry
        self._fingerprint = schemas.fingerprint(schemas.raw(schema_name))
        self._known_writers = schemas.known_writers(schema_name)
        self._legacy_writers = schemas.legacy_writers(schema_name)
        self._legacy_seen = 0
        self._compiled, self.reader = _compiled(schema_name, self.schema)
        #: The single-object header of our own schema, when its messages are read by the compiled reader (no registry).
        self._own_header = (
            SINGLE_OBJECT_MARKER + self._fingerprint if registry is None and self._compiled is not None else None
        )

    def encode(self, record: dict[str, Any]) -> bytes:
        buf = io.BytesIO()
        if self._registry is not None:
            schema_id = self._registry.id_for(f"{self.topic}-value", schemas.raw(self.schema_name))
            buf.write(_HEADER.pack(MAGIC, schema_id))
        else:
            buf.write(SINGLE_OBJECT_MARKER + self._fingerprint)
        schemaless_writer(buf, self.schema, record)
        return buf.getvalue()

    def decode(self, data: bytes | None) -> dict[str, Any]:
        if data is None:
            raise DecodeError(ReasonCode.UNDECODABLE, "message has no value (tombstone)")
        if len(data) > MAX_MESSAGE_BYTES:
            raise DecodeError(ReasonCode.OVERSIZED, f"message is {len(data)} bytes, limit {MAX_MESSAGE_BYTES}")
        if self._own_header is not None and data[:_SINGLE_OBJECT_HEADER] == self._own_header:
            return self._read_compiled(data, _SINGLE_OBJECT_HEADER)  # nearly every message: our schema, read in place
        writer, body = self._single_object(data) if self._registry is None else self._confluent(data, self._registry)
        buf = io.BytesIO(body)
        try:
            record = schemaless_reader(
                buf,
                writer,
                None if writer is self.schema else self.schema,
                return_record_name=True,
                return_record_name_override=True,
            )
        except Exception as exc:  # noqa: BLE001 - fastavro raises many types on garbage input
            problem = f"not a valid {self.schema_name} record: {type(exc).__name__}"
            raise DecodeError(ReasonCode.UNDECODABLE, problem) from exc
        if buf.tell() != len(body):
            raise DecodeError(ReasonCode.UNDECODABLE, f"{len(body) - buf.tell()} trailing bytes after the record")
        if not isinstance(record, dict):  # every contract of ours is a record
            raise DecodeError(ReasonCode.UNDECODABLE, f"not a {self.schema_name} record")
        return record

    def _read_compiled(self, data: bytes, start: int) -> dict[str, Any]:
        """Written with our own schema (single-object encoded): the body from ``start`` read by the compiled reader
        (:mod:`consumer.avro_reader`), refused as fastavro's reading is."""
        try:
            record, end = self._compiled(data, start)  # type: ignore[misc]  # set whenever _own_header is
        except Exception as exc:  # noqa: BLE001 - as fastavro's: any failure to read the bytes is the same refusal
            raise DecodeError(
                ReasonCode.UNDECODABLE, f"not a valid {self.schema_name} record: {type(exc).__name__}"
            ) from exc
        if end != len(data):
            raise DecodeError(ReasonCode.UNDECODABLE, f"{len(data) - end} trailing bytes after the record")
        if not isinstance(record, dict):
            raise DecodeError(ReasonCode.UNDECODABLE, f"not a {self.schema_name} record")
        return record

    def _single_object(self, data: bytes) -> tuple[Any, bytes]:
        """The writer schema named by the fingerprint, and the body after the 10-byte header."""
        if data[: len(SINGLE_OBJECT_MARKER)] != SINGLE_OBJECT_MARKER or len(data) < _SINGLE_OBJECT_HEADER:
            raise DecodeError(ReasonCode.UNDECODABLE, "not an Avro single-object encoded message")
        fingerprint = data[len(SINGLE_OBJECT_MARKER) : _SINGLE_OBJECT_HEADER]
        # Written with our own schema: read it directly. Schema resolution costs over half the decode.
        if fingerprint == self._fingerprint:
            writer = self.schema
        elif fingerprint in self._known_writers:
            writer = self._known_writers[fingerprint]
        elif fingerprint in self._legacy_writers:
            writer = self._legacy_writers[fingerprint]
            self._legacy_read(fingerprint)
        else:
            raise DecodeError(ReasonCode.SCHEMA_MISMATCH, f"unknown writer schema (fingerprint {fingerprint.hex()})")
        return writer, data[_SINGLE_OBJECT_HEADER:]

    @staticmethod
    def _confluent(data: bytes, registry: SchemaRegistry) -> tuple[Any, bytes]:
        if len(data) < _HEADER.size or data[0] != MAGIC:
            raise DecodeError(ReasonCode.UNDECODABLE, "missing Schema Registry framing")
        _, schema_id = _HEADER.unpack_from(data)
        try:
            writer = registry.schema_for_id(schema_id)
        except Exception as exc:  # noqa: BLE001 - any registry failure for this id means we cannot read it
            problem = f"unknown schema id {schema_id}: {type(exc).__name__}"
            raise DecodeError(ReasonCode.SCHEMA_MISMATCH, problem) from exc
        return writer, data[_HEADER.size :]

    def _legacy_read(self, fingerprint: bytes) -> None:
        """Counted every time; logged the 1st, 10th, 100th … time per codec, so replaying an old topic
        says so without a line per message."""
        self._legacy_seen += 1
        metrics.legacy_fingerprint_read(self.schema_name)
        if str(self._legacy_seen).rstrip("0") == "1":
            log.warning(
                "codec.legacy_fingerprint",
                schema=self.schema_name,
                topic=self.topic,
                fingerprint=fingerprint.hex(),
                messages=self._legacy_seen,
                hint="written by a dayclose version with the byte-reversed fingerprint; read anyway",
            )


#: A contract read without its C extension (consumer/compiled.py), told once per process: slower, and an operator should
#: know. Nothing is logged otherwise (a CLI's JSON on stdout stays JSON); ``dayclose run``'s decoder says which reader.
_told: set[str] = set()


def _compiled(schema_name: str, schema: Any) -> tuple[Reader | None, str]:
    """The contract's reader and what it is: the C extension built from the generated module, when it is exactly this
    schema's; else the reader compiled into Python; None (fastavro reads it) when the schema uses what the compiler does
    not know."""
    reader, why = compiled.built(schema_name)
    kind = "extension"
    if reader is None:
        kind = "python"
        try:
            reader = compile_reader(schema)
        except Unsupported as exc:
            reader, kind, why = None, "fastavro", str(exc)
    if kind != "extension" and schema_name in compiled.MODULES and schema_name not in _told:
        _told.add(schema_name)  # slower, not wrong: a warning, with why (the consumer's decoder logs which reader)
        log.warning("codec.reader", schema=schema_name, reader=kind, why=why)
    return reader, kind

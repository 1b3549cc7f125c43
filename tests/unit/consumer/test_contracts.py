"""The Avro contracts: round trips, the compatibility rule, Schema Registry framing."""

import copy
import io
import json
import struct
from pathlib import Path

import pytest
from fastavro import parse_schema, schemaless_writer
from fastavro.validation import validate

import schemas
from consumer.codec import SINGLE_OBJECT_MARKER, AvroCodec, ConfluentRegistry, DecodeError
from tests.unit.consumer.samples import samples

HISTORY = Path(schemas.__file__).parent / "history"


@pytest.mark.parametrize("name", schemas.ALL)
def test_every_contract_round_trips_its_samples(name: str) -> None:
    codec = AvroCodec(name, "topic")
    for record in samples()[name]:
        decoded = codec.decode(codec.encode(record))
        assert codec.decode(codec.encode(decoded)) == decoded
        assert decoded.keys() == record.keys()


@pytest.mark.parametrize("history_file", sorted(HISTORY.glob("*.avsc")), ids=lambda p: p.name)
def test_current_schemas_read_data_written_with_every_previous_version(history_file: Path) -> None:
    """Without a registry the writer is named by its fingerprint; every kept version must resolve."""
    name = history_file.name.split(".")[0]
    text = history_file.read_text()
    writer = parse_schema(json.loads(text))
    codec = AvroCodec(name, "topic")
    # Only what that version can express (an enum symbol added later, e.g. TIP_PAYOUT, it cannot).
    written = [r for r in samples()[name] if validate(r, writer, raise_errors=False)]
    assert written, f"no sample can be written with {history_file.name}"
    for record in written:
        buf = io.BytesIO()
        buf.write(SINGLE_OBJECT_MARKER + schemas.fingerprint(text))
        schemaless_writer(buf, writer, record)
        assert codec.decode(buf.getvalue()).keys() == record.keys()


def test_an_unknown_writer_schema_is_a_schema_mismatch() -> None:
    codec = AvroCodec(schemas.SALES_EVENT, "t")
    good = codec.encode(samples()["sales_event"][0])
    with pytest.raises(DecodeError) as info:
        codec.decode(SINGLE_OBJECT_MARKER + b"\x01" * 8 + good[10:])
    assert info.value.code == "SCHEMA_MISMATCH"


def _without_defaulted_fields(node: object) -> object:
    """The oldest schema the compatibility rule allows: every field that has a default removed."""
    if isinstance(node, dict):
        out = {k: _without_defaulted_fields(v) for k, v in node.items()}
        if node.get("type") == "record":
            out["fields"] = [_without_defaulted_fields(f) for f in node["fields"] if "default" not in f]
        return out
    if isinstance(node, list):
        return [_without_defaulted_fields(n) for n in node]
    return node


@pytest.mark.parametrize("name", schemas.ALL)
def test_fields_with_defaults_may_be_missing_from_older_writers(name: str) -> None:
    """The rule (BACKWARD_TRANSITIVE): new fields need defaults. A producer on a schema without them,
    registered in the Schema Registry, is still readable: its id leads to its schema, then resolution."""
    older_json = json.dumps(_without_defaulted_fields(copy.deepcopy(json.loads(schemas.raw(name)))))
    registry = ConfluentRegistry(f"mock://evolution-{name}")
    older_id = registry.id_for(f"topic-{name}-value", older_json)
    older = parse_schema(json.loads(older_json))
    codec = AvroCodec(name, f"topic-{name}", registry)
    for record in samples()[name]:
        buf = io.BytesIO()
        buf.write(struct.pack(">bI", 0, older_id))
        schemaless_writer(buf, older, record)
        assert codec.decode(buf.getvalue()).keys() == record.keys()


def test_garbage_and_trailing_bytes_are_refused_with_a_code() -> None:
    codec = AvroCodec(schemas.SALES_EVENT, "t")
    with pytest.raises(DecodeError) as garbage:
        codec.decode(b"\x00\xff\xfe garbage")
    assert garbage.value.code == "UNDECODABLE"
    good = codec.encode(samples()["sales_event"][0])
    with pytest.raises(DecodeError, match="trailing"):
        codec.decode(good + b"\x00")
    with pytest.raises(DecodeError) as big:
        codec.decode(b"x" * 1_000_001)
    assert big.value.code == "OVERSIZED"


def test_schema_registry_framing_round_trips_and_resolves_by_id() -> None:
    registry = ConfluentRegistry("mock://dayclose-test")
    codec = AvroCodec(schemas.SALES_EVENT, "pos.sales.v1", registry)
    record = samples()["sales_event"][0]
    data = codec.encode(record)
    assert data[0] == 0 and len(data) > 5
    assert codec.decode(data)["event_id"] == record["event_id"]
    with pytest.raises(DecodeError, match="framing"):
        codec.decode(AvroCodec(schemas.SALES_EVENT, "x").encode(record))
    with pytest.raises(DecodeError) as unknown:
        codec.decode(b"\x00\x00\x00\x99\x99" + data[5:])
    assert unknown.value.code == "SCHEMA_MISMATCH"

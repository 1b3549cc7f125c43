"""The compiled Avro reader (consumer/avro_reader.py) against three parties that are not it: bytes built by hand from
the Avro specification, the Apache ``avro`` package's writer, and fastavro's reader (what read every message before).

Over random values of every contract and thousands of mutated messages, the compiled reader reads what fastavro reads
and refuses what it refuses; where they differ, the compiled reader refuses bytes the specification calls invalid
(each such case is named, and built by hand below).

Every test runs on both of its forms: compiled into Python (``python``), and the same generated reader as a Cython
module built with the machine's C compiler (``extension``; what ``setup.py`` builds for the sales events, whose own
built module is tested at the end)."""

from __future__ import annotations

import io
import random
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import avro.io
import avro.schema
import pytest
import structlog.testing
from fastavro import parse_schema, schemaless_reader, schemaless_writer

import schemas
from consumer import avro_reader, compiled
from consumer.avro_reader import Unsupported, compile_reader
from consumer.codec import AvroCodec, DecodeError
from tests.unit.consumer import cython_build
from tests.unit.consumer.samples import samples

CONTRACTS = (schemas.SALES_EVENT, schemas.COMMAND, schemas.EXPORT_OUTCOME, schemas.DEAD_LETTER)
#: What the compiled reader refuses and fastavro reads, each against the specification's text.
SPEC_REFUSALS = (
    "a union index out of range",  # "the index of the union's branch": a position in the union, from zero
    "a negative enum index",  # "an enum is encoded by an int, representing the zero-based position of the symbol"
    "a varint longer than 10 bytes",  # a long is 64 bits: at most 10 bytes of varint
    "a long outside 64 bits",
    "an int outside 32 bits",  # "int: 32-bit signed integer"
    "a boolean byte other than 0 and 1",  # "a single byte whose value is either 0 (false) or 1 (true)"
)


def _zigzag(n: int) -> bytes:
    """The specification's varint of a zig-zag encoded long, written out here rather than taken from either reader."""
    z = (n << 1) ^ (n >> 63)
    out = bytearray()
    while True:
        byte, z = z & 0x7F, z >> 7
        out.append(byte | (0x80 if z else 0))
        if not z:
            return bytes(out)


def _text(s: str) -> bytes:
    raw = s.encode()
    return _zigzag(len(raw)) + raw


#: Bytes the specification calls invalid, each with its schema and the compiled reader's refusal.
SPEC_CASES = [
    (["null", "string"], _zigzag(2), "a union index out of range"),
    (["null", "string"], _zigzag(-1) + _text("x"), "a union index out of range"),
    ({"type": "enum", "name": "E", "symbols": ["A", "B"]}, _zigzag(-1), "a negative enum index"),
    ("long", b"\xff" * 10 + b"\x01", "a varint longer than 10 bytes"),
    ("long", b"\xff" * 9 + b"\x7f", "a long outside 64 bits"),
    ("int", _zigzag(2**31), "an int outside 32 bits"),
    ("boolean", b"\x02", "a boolean byte other than 0 and 1"),
    ("string", _zigzag(5) + b"abc", "a length past the end"),
    ("string", _zigzag(-1), "a length past the end"),
    ({"type": "array", "items": "long"}, _zigzag(2**62) + _zigzag(1), "a block count past the end"),
    ({"type": "map", "values": "long"}, _zigzag(-(2**40)) + _zigzag(3), "a block count past the end"),
]
#: Every schema a test reads: the extension's tests build each once (tests/unit/consumer/cython_build.py).
_SCHEMAS = [
    *(schemas.load(name) for name in CONTRACTS),
    *(parse_schema(case[0]) for case in SPEC_CASES),
    parse_schema("long"),
    parse_schema("int"),
]

ReaderOf = Callable[[Any], avro_reader.Reader]


@pytest.fixture(scope="module")
def _extensions(tmp_path_factory: pytest.TempPathFactory) -> dict[str, avro_reader.Reader]:
    return cython_build.build(_SCHEMAS, tmp_path_factory.mktemp("readers"))


@pytest.fixture(params=["python", "extension"])
def reader(request: pytest.FixtureRequest) -> ReaderOf:
    """The reader of a schema, compiled into Python or built as a Cython module."""
    if request.param == "python":
        return compile_reader
    built: dict[str, avro_reader.Reader] = request.getfixturevalue("_extensions")
    return lambda schema: built[cython_build.key(schema)]


def _random_value(schema: Any, named: dict[str, Any], rng: random.Random) -> Any:  # noqa: PLR0911 - one per kind
    if isinstance(schema, list):
        return _random_value(rng.choice(schema), named, rng)
    if isinstance(schema, str):
        schema = named.get(schema, {"type": schema})
    kind, logical = schema["type"], schema.get("logicalType")
    if isinstance(kind, (dict, list)):
        return _random_value(kind, named, rng)
    if logical == "date":
        return date(1970, 1, 1) + timedelta(days=rng.randint(-10_000, 40_000))
    if logical == "timestamp-millis":
        return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=rng.randint(-(10**12), 4 * 10**12))
    scalars = {
        "null": lambda: None,
        "boolean": lambda: rng.random() < 0.5,
        "int": lambda: rng.choice([0, 1, -1, 63, 64, -64, -65, -(2**31), 2**31 - 1, rng.randint(-(2**31), 2**31 - 1)]),
        "long": lambda: rng.choice([0, -65, 2**63 - 1, -(2**63), rng.randint(-(2**63), 2**63 - 1), rng.randint(-9, 9)]),
        "string": lambda: "".join(rng.choice("aZ0 éö€😀\x00") for _ in range(rng.randint(0, 6))),
        "bytes": lambda: rng.randbytes(rng.randint(0, 6)),
        "enum": lambda: rng.choice(schema["symbols"]),
    }
    if kind in scalars:
        return scalars[kind]()
    if kind == "array":
        return [_random_value(schema["items"], named, rng) for _ in range(rng.randint(0, 3))]
    if kind == "map":
        return {f"k{i}": _random_value(schema["values"], named, rng) for i in range(rng.randint(0, 3))}
    assert kind == "record", kind
    return {f["name"]: _random_value(f["type"], named, rng) for f in schema["fields"]}


def _fastavro(schema: Any, data: bytes) -> Any:
    """fastavro's reading of a whole message, as the codec read it before; raises when it is not one."""
    buf = io.BytesIO(data)
    value = schemaless_reader(buf, schema, None, return_record_name=True, return_record_name_override=True)
    if buf.tell() != len(data):
        raise ValueError("trailing bytes")
    return value


def _compiled(read: avro_reader.Reader, data: bytes) -> Any:
    value, end = read(data, 0)
    if end != len(data):
        raise ValueError("trailing bytes")
    return value


def _written(schema: Any, rng: random.Random, n: int) -> list[bytes]:
    named = schema.get("__named_schemas", {})
    out = []
    for _ in range(n):
        buf = io.BytesIO()
        schemaless_writer(buf, schema, _random_value(schema, named, rng))
        out.append(buf.getvalue())
    return out


@pytest.mark.parametrize("name", CONTRACTS)
def test_random_values_of_every_contract_read_as_fastavro_reads_them(name: str, reader: ReaderOf) -> None:
    schema = schemas.load(name)
    read = reader(schema)
    for data in _written(schema, random.Random(name), 400):
        assert _compiled(read, data) == _fastavro(schema, data)


def _mutated(data: bytes, rng: random.Random) -> bytes:
    out = bytearray(data)
    where = rng.randrange(len(out) + 1)
    match rng.randrange(4):
        case 0 if out:
            out[min(where, len(out) - 1)] = rng.randrange(256)
        case 1:
            del out[where:]
        case 2:
            out.insert(where, rng.randrange(256))
        case _ if out:
            del out[min(where, len(out) - 1)]
    return bytes(out)


@pytest.mark.parametrize("name", CONTRACTS)
def test_mutated_messages_are_read_as_fastavro_reads_them_or_refused_as_the_spec_says(
    name: str, reader: ReaderOf
) -> None:
    schema = schemas.load(name)
    read = reader(schema)
    rng = random.Random(f"mutations of {name}")
    messages = _written(schema, rng, 200)
    refused_by_spec: dict[str, int] = {}
    both_read = 0
    for _ in range(5_000):
        data = _mutated(rng.choice(messages), rng)
        try:
            theirs = _fastavro(schema, data)
        except Exception:  # noqa: BLE001 - any refusal by fastavro: ours must refuse too
            with pytest.raises((ValueError, IndexError, OverflowError)):
                _compiled(read, data)
            continue
        try:
            ours = _compiled(read, data)
        except ValueError as exc:
            assert str(exc) in SPEC_REFUSALS, (data.hex(), exc)
            refused_by_spec[str(exc)] = refused_by_spec.get(str(exc), 0) + 1
            continue
        assert ours == theirs, data.hex()
        both_read += 1
    assert both_read > 100  # the mutations also give bytes both read: the comparison of values did run


def test_a_receipt_built_from_the_spec_is_read_with_blocks_long_amounts_and_the_union_s_branch(
    reader: ReaderOf,
) -> None:
    """A sales event by hand: the receipt's lines in two blocks, the second with a negative count followed by its size
    in bytes (the spec allows both), amounts needing several varint bytes, and the payload union's branch 0."""
    line = (
        _text("coffee") + _zigzag(1200) + _zigzag(123_456_789) + _zigzag(13_227) + _zigzag(0) + _zigzag(1000) + b"\x00"
    )
    payment = _text("card") + _zigzag(2 * 123_456_789)
    receipt = (
        _text("r-1") + _text("0042") + _zigzag(0)  # kind SALE
        + _zigzag(1) + line + _zigzag(-1) + _zigzag(len(line)) + line + _zigzag(0)
        + _zigzag(1) + payment + _zigzag(0)
        + _zigzag(0) + _zigzag(-50 + 50) + _zigzag(0)  # tip, rounding, invoice: null
    )  # fmt: skip
    day = (date(2026, 11, 3) - date(1970, 1, 1)).days
    millis = 1_793_000_000_123
    event = (
        _text("e-1") + _text("org") + _text("s1") + _zigzag(day) + _zigzag(millis)
        + _zigzag(0) + receipt + _zigzag(1) + _text("till-2")
    )  # fmt: skip
    schema = schemas.load(schemas.SALES_EVENT)
    record = _compiled(reader(schema), event)
    assert record["business_date"] == date(2026, 11, 3)
    assert record["occurred_at"] == datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=millis)
    assert record["register_id"] == "till-2"
    name, payload = record["payload"]
    assert name == "dayclose.pos.v1.Receipt"
    assert payload["kind"] == "SALE"
    assert [x["gross_ore"] for x in payload["lines"]] == [123_456_789, 123_456_789]
    assert payload["payments"] == [{"method": "card", "amount_ore": 246_913_578}]
    assert payload["invoice"] is None
    assert record == _fastavro(schema, event)


@pytest.mark.parametrize(("schema", "data", "refusal"), SPEC_CASES)
def test_bytes_the_spec_calls_invalid_are_refused(schema: Any, data: bytes, refusal: str, reader: ReaderOf) -> None:
    with pytest.raises(ValueError, match=refusal):
        _compiled(reader(parse_schema(schema)), data)


@pytest.mark.parametrize(("value", "schema"), [(2**63 - 1, "long"), (-(2**63), "long"), (-(2**31), "int")])
def test_the_extremes_of_int_and_long_written_by_the_apache_package_are_read(
    value: int, schema: str, reader: ReaderOf
) -> None:
    buf = io.BytesIO()
    avro.io.DatumWriter(avro.schema.parse(f'"{schema}"')).write(value, avro.io.BinaryEncoder(buf))
    assert _compiled(reader(parse_schema(schema)), buf.getvalue()) == value


def test_a_schema_the_compiler_does_not_know_is_read_by_fastavro() -> None:
    decimal = {"type": "bytes", "logicalType": "decimal", "precision": 9, "scale": 2}
    with pytest.raises(Unsupported):
        compile_reader(parse_schema({"type": "record", "name": "R", "fields": [{"name": "d", "type": decimal}]}))
    empty = {"type": "record", "name": "E", "fields": [{"name": "n", "type": "null"}]}
    with pytest.raises(Unsupported):  # items of no bytes: a hostile count alone would loop for ever
        compile_reader(parse_schema({"type": "array", "items": empty}))


def test_the_codec_reads_our_own_schema_s_messages_with_the_compiled_reader_and_refuses_as_before(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    codec = AvroCodec(schemas.SALES_EVENT, "t")
    events = samples()["sales_event"]
    wire = [codec.encode(e) for e in events]
    read, calls = codec._compiled, []
    assert read is not None
    monkeypatch.setattr(codec, "_compiled", lambda data, start: calls.append(start) or read(data, start))
    decoded = [codec.decode(w) for w in wire]
    assert calls == [10] * len(wire)  # read in place, after the 10-byte header
    monkeypatch.setattr(codec, "_own_header", None)  # fastavro's reading, as before
    assert decoded == [codec.decode(w) for w in wire]
    assert len(calls) == len(wire)
    monkeypatch.undo()
    with pytest.raises(DecodeError, match="trailing") as trailing:
        codec.decode(wire[0] + b"\x00")
    assert trailing.value.code == "UNDECODABLE"
    with pytest.raises(DecodeError) as cut:
        codec.decode(wire[0][:-3])
    assert cut.value.code == "UNDECODABLE"


def test_the_committed_cython_module_is_what_the_generator_makes_of_today_s_schema() -> None:
    """A schema or generator change without ``python -m consumer.compiled --write`` fails here, not in production
    (where the codec would fall back to the slower reader, and say so)."""
    assert compiled.main(["--check"]) == 0


def test_the_installed_extension_reads_the_sales_events_as_the_reader_compiled_into_python() -> None:
    """The module setup.py built at install (what ``dayclose run`` reads with): the codec uses it, and over random
    events and thousands of mutated ones it gives the same value, or refuses with the same type of error."""
    built, why = compiled.built(schemas.SALES_EVENT)
    assert built is not None, why
    assert AvroCodec(schemas.SALES_EVENT, "t").reader == "extension"
    schema = schemas.load(schemas.SALES_EVENT)
    python = compile_reader(schema)
    rng = random.Random("the installed extension")
    messages = _written(schema, rng, 200)
    outcomes = {"read": 0, "refused": 0}
    for data in messages + [_mutated(rng.choice(messages), rng) for _ in range(5_000)]:
        try:
            expected: Any = python(data, 0)
        except Exception as exc:  # noqa: BLE001 - the extension must refuse with the same type
            with pytest.raises(type(exc)):
                built(data, 0)
            outcomes["refused"] += 1
            continue
        assert built(data, 0) == expected, data.hex()
        outcomes["read"] += 1
    assert outcomes["read"] > 500 and outcomes["refused"] > 500


def test_without_the_extension_or_with_a_stale_one_the_codec_reads_with_python_and_says_why(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import types

    from consumer import codec as codec_module

    events = samples()["sales_event"]
    reference = AvroCodec(schemas.SALES_EVENT, "t")
    wire = [reference.encode(e) for e in events]
    module = types.ModuleType("stale")
    module.FINGERPRINT = schemas.fingerprint(schemas.raw(schemas.SALES_EVENT)).hex()  # type: ignore[attr-defined]
    module.BODY_SHA256 = "0" * 64  # type: ignore[attr-defined]  # built from an older generated file
    module.read = lambda data, pos: ({}, len(data))  # type: ignore[attr-defined]

    def missing(name: str) -> Any:
        raise ImportError(name)

    for importer, why in [(missing, "not built"), (lambda name: module, "other generated code")]:
        monkeypatch.setattr(compiled, "_import", importer)
        monkeypatch.setattr(codec_module, "_told", set())
        with structlog.testing.capture_logs() as logs:
            codec = AvroCodec(schemas.SALES_EVENT, "t")
        assert codec.reader == "python"
        assert [(e["log_level"], e["reader"]) for e in logs if e["event"] == "codec.reader"] == [("warning", "python")]
        assert why in logs[0]["why"]
        assert [codec.decode(w) for w in wire] == [reference.decode(w) for w in wire]

"""Our wire format against the Avro specification and an independent implementation (the Apache ``avro``
package), never against our own codec alone: a spec-following producer's bytes are read, and what we write
is read by a spec-following consumer. ``tests/avro_spec.py`` holds the spec's rules, written out."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import avro.schema
import pytest
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer, AvroSerializer
from confluent_kafka.serialization import MessageField, SerializationContext
from structlog.testing import capture_logs

import schemas
from consumer import records
from consumer.codec import AvroCodec, ConfluentRegistry
from consumer.events import dead_letter_record, outcome_record
from dayclose.telemetry import consumer_registry
from service.messages import BookedSummary, Detail, ManualExportRequested, Outcome
from service.reasons import REASONS
from tests import avro_spec
from tests.unit.consumer.samples import sales_records

ROOT = Path(__file__).resolve().parents[3]
SCHEMA_FILES = sorted((ROOT / "schemas").glob("*.avsc")) + sorted((ROOT / "schemas" / "history").glob("*.avsc"))

#: From the Avro project's own test data (share/test/data/schema-tests.txt in apache/avro): input schema,
#: its Parsing Canonical Form and its CRC-64-AVRO as a signed 64-bit integer. They check the helper itself.
SPEC_VECTORS = [
    ('"int"', '"int"', 8247732601305521295),
    ('{"type":"int"}', '"int"', 8247732601305521295),
    ('"null"', '"null"', 7195948357588979594),
    ('"string"', '"string"', -8142146995180207161),
    ('[ "int" , {"type":"boolean"} ]', '["int","boolean"]', 5392556393470105090),
    (
        '{"fields":[], "type":"record", "name":"foo", "namespace":"x.y"}',
        '{"name":"x.y.foo","type":"record","fields":[]}',
        5916914534497305771,
    ),
    (
        '{"fields":[{"type":"boolean", "aliases":[], "name":"f1", "default":"true"},'
        '{"order":"descending","name":"f2","doc":"Hello","type":"int"}], "type":"record", "name":"foo"}',
        '{"name":"foo","type":"record","fields":[{"name":"f1","type":"boolean"},{"name":"f2","type":"int"}]}',
        -4860222112080293046,
    ),
    (
        '{"namespace":"x.y.z", "type":"enum", "name":"foo", "doc":"foo bar", "symbols":["A1", "A2"]}',
        '{"name":"x.y.z.foo","type":"enum","symbols":["A1","A2"]}',
        -4448647247586288245,
    ),
    (
        '{"namespace":"x.y.z", "type":"fixed", "name":"foo", "doc":"foo bar", "size":32}',
        '{"name":"x.y.z.foo","type":"fixed","size":32}',
        -3064184465700546786,
    ),
    ('{ "items":{"type":"null"}, "type":"array"}', '{"type":"array","items":"null"}', -589620603366471059),
    (
        '{"name":"PigValue","type":"record","fields":[{"name":"value", "type":["null", "int", "long", "PigValue"]}]}',
        '{"name":"PigValue","type":"record","fields":[{"name":"value","type":["null","int","long","PigValue"]}]}',
        -1759257747318642341,
    ),
]


@pytest.mark.parametrize(("schema", "canonical", "signed"), SPEC_VECTORS)
def test_the_spec_helper_reproduces_the_avro_projects_test_vectors(schema: str, canonical: str, signed: int) -> None:
    assert avro_spec.parsing_canonical_form(schema) == canonical
    assert avro_spec.crc64_avro(canonical.encode()) == signed & 0xFFFF_FFFF_FFFF_FFFF
    assert schemas.fingerprint(canonical) == (signed & 0xFFFF_FFFF_FFFF_FFFF).to_bytes(8, "little")


def test_the_int_schema_gives_the_issue_s_header_bytes() -> None:
    assert avro_spec.crc64_avro(b'"int"') == 0x7275D51A3F395C8F
    assert schemas.fingerprint('"int"') == bytes.fromhex("8f5c393f1ad57572")
    assert avro_spec.header('"int"') == bytes.fromhex("c301 8f5c393f1ad57572")


def test_a_logical_type_is_canonicalised_as_its_primitive_unlike_apache_avro_1_12() -> None:
    """The trap: Apache avro 1.12's canonical form keeps ``{"type":"int"}`` for a date; the spec says ``"int"``."""
    dated = '{"type":"record","name":"R","fields":[{"name":"d","type":{"type":"int","logicalType":"date"}}]}'
    canonical = '{"name":"R","type":"record","fields":[{"name":"d","type":"int"}]}'
    assert avro_spec.parsing_canonical_form(dated) == canonical
    assert schemas.fingerprint(dated) == avro_spec.fingerprint(dated)
    assert avro.schema.parse(dated).fingerprint() != avro_spec.fingerprint(dated)


@pytest.mark.parametrize("path", SCHEMA_FILES, ids=lambda p: p.name)
def test_every_schema_s_fingerprint_follows_the_spec(path: Path) -> None:
    text = path.read_text()
    assert schemas.fingerprint(text) == avro_spec.fingerprint(text)


@pytest.mark.parametrize("name", schemas.ALL)
def test_what_we_write_starts_with_the_spec_header(name: str) -> None:
    record = {
        "sales_event": sales_records()[0],
        "command": _command(),
        "export_outcome": _outcome(),
        "dead_letter": _dead_letter(),
    }[name]
    assert AvroCodec(name, "t").encode(record)[:10] == avro_spec.header(schemas.raw(name))


# --- a spec-following producer -> us --------------------------------------------------------------


@pytest.mark.parametrize("index", range(len(sales_records())))
def test_sales_events_written_by_the_apache_package_are_read(index: int) -> None:
    record = sales_records()[index]
    data = avro_spec.apache_single_object(schemas.raw(schemas.SALES_EVENT), avro_spec.plain(record))
    codec = AvroCodec(schemas.SALES_EVENT, "t")
    decoded = codec.decode(data)
    assert decoded == codec.decode(codec.encode(record))
    assert records.sales_envelope(decoded).event_key


def test_hand_built_bytes_per_the_spec_are_read_as_a_manual_export_command() -> None:
    """A DaycloseCommand written byte by byte from the spec's encoding rules, under the released v1
    schema's header (frozen in schemas/history, so later additions to command.avsc do not change it)."""
    v1 = (ROOT / "schemas" / "history" / "command.v1.avsc").read_text()
    requested_at = datetime(2026, 11, 25, 21, 0, tzinfo=UTC)
    data = (
        avro_spec.header(v1)
        + avro_spec.string("cmd-0001")  # command_id
        + avro_spec.string("org-spec")  # organization_id
        + avro_spec.zigzag(int(requested_at.timestamp() * 1000))  # requested_at, timestamp-millis
        + avro_spec.zigzag(1)
        + avro_spec.string("user-7")  # requested_by: union branch 1, string
        + avro_spec.zigzag(0)  # payload: branch 0, ManualExportRequested
        + avro_spec.zigzag(1)
        + avro_spec.string("s1")
    )  # store_id: branch 1, string
    command = records.command(AvroCodec(schemas.COMMAND, "t").decode(data))
    assert isinstance(command, ManualExportRequested)
    assert (command.command_id, command.organization_id, command.store_id) == ("cmd-0001", "org-spec", "s1")
    assert command.requested_at == requested_at


# --- us -> a spec-following consumer --------------------------------------------------------------


def _outcome_kinds() -> list[Outcome]:
    """Every trigger the schema knows, SUCCEEDED for those that book, and a failure for every reason code."""
    triggers = _enum_symbols(schemas.EXPORT_OUTCOME, "ExportTrigger")
    voucher = BookedSummary("D", 7, date(2026, 11, 25), 1_234_50, 3, False)
    kinds = [
        Outcome("org", t, "SUCCEEDED", "s1", date(2026, 11, 25), "exp-1", voucher=voucher)
        for t in triggers
        if t not in ("INGEST", "INTEGRATION")
    ]
    kinds += [
        Outcome(
            "org" if t != "INGEST" else None,
            t,
            "FAILED",
            "s1",
            date(2026, 11, 25),
            "exp-2",
            reason_code=code,
            details=[Detail("payment_method", "klarna", "no account för Klarna")],
        )
        for t in triggers
        for code in list(REASONS)[:2]
    ]
    kinds += [Outcome("org", "RETRY", "FAILED", reason_code=code) for code in REASONS]
    return kinds


def _enum_symbols(name: str, enum_name: str) -> list[str]:
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "enum" and node.get("name") == enum_name:
                found.extend(node["symbols"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(json.loads(schemas.raw(name)))
    assert found, f"no enum {enum_name} in {name}.avsc"
    return found


def _millis(value: Any) -> Any:
    """What survives timestamp-millis: the instant to the millisecond."""
    if isinstance(value, datetime):
        return value.replace(microsecond=value.microsecond // 1000 * 1000)
    if isinstance(value, dict):
        return {k: _millis(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_millis(v) for v in value]
    return value


@pytest.mark.parametrize("outcome", _outcome_kinds(), ids=lambda o: f"{o.trigger}-{o.status}-{o.reason_code}")
def test_every_outcome_kind_is_read_by_the_apache_package(outcome: Outcome) -> None:
    record = outcome_record(outcome)
    data = AvroCodec(schemas.EXPORT_OUTCOME, "t").encode(record)
    assert avro_spec.apache_decode_single_object(schemas.raw(schemas.EXPORT_OUTCOME), data) == _millis(record)


@pytest.mark.parametrize(("key", "value"), [(b"org/s1", b"\xc3\x01garbage"), (None, None), (b"k", b"")])
def test_dead_letters_are_read_by_the_apache_package(key: bytes | None, value: bytes | None) -> None:
    record = dead_letter_record(
        topic="pos.sales.v1",
        partition=3,
        offset=1200,
        key=key,
        value=value,
        error_code="UNDECODABLE",
        error_message="not an Avro single-object encoded message",
    )
    data = AvroCodec(schemas.DEAD_LETTER, "t").encode(record)
    assert avro_spec.apache_decode_single_object(schemas.raw(schemas.DEAD_LETTER), data) == _millis(record)


def _outcome() -> dict[str, Any]:
    return outcome_record(Outcome("org", "DAY_CLOSE", "FAILED", reason_code="PERIOD_LOCKED"))


def _dead_letter() -> dict[str, Any]:
    return dead_letter_record(
        topic="t", partition=0, offset=1, key=b"k", value=b"v", error_code="UNDECODABLE", error_message="x"
    )


def _command() -> dict[str, Any]:
    return {
        "command_id": "c",
        "organization_id": "o",
        "requested_at": datetime(2026, 1, 1, tzinfo=UTC),
        "requested_by": None,
        "payload": ("dayclose.backoffice.v1.RetryFailedExports", {"store_id": None}),
    }


# --- messages from before the fix ------------------------------------------------------------------


def test_a_message_with_the_old_byte_reversed_fingerprint_is_still_read_counted_and_logged() -> None:
    record = sales_records()[0]
    codec = AvroCodec(schemas.SALES_EVENT, "pos.sales.v1")
    good = codec.encode(record)
    legacy = good[:2] + good[2:10][::-1] + good[10:]
    REGISTRY = consumer_registry()  # noqa: N806 - the consumer process's registry
    before = REGISTRY.get_sample_value("dayclose_legacy_fingerprint_messages_total", {"schema": "sales_event"}) or 0
    with capture_logs() as logs:
        assert codec.decode(legacy) == codec.decode(good)
        codec.decode(legacy)
    after = REGISTRY.get_sample_value("dayclose_legacy_fingerprint_messages_total", {"schema": "sales_event"})
    assert after == before + 2
    warnings = [e for e in logs if e["event"] == "codec.legacy_fingerprint"]
    assert len(warnings) == 1 and warnings[0]["log_level"] == "warning"  # the 1st, 10th, 100th … are logged
    assert codec.decode(good) and after == REGISTRY.get_sample_value(
        "dayclose_legacy_fingerprint_messages_total", {"schema": "sales_event"}
    )


# --- the Confluent framing, against Confluent's own serializers --------------------------------------


def test_confluent_framing_interoperates_with_confluent_s_own_serializers() -> None:
    client = SchemaRegistryClient.new_client({"url": "mock://wire-spec"})
    topic = "pos.sales.v1"
    ctx = SerializationContext(topic, MessageField.VALUE)
    record = sales_records()[-1]
    theirs = AvroSerializer(client, schemas.raw(schemas.SALES_EVENT))(record, ctx)
    codec = AvroCodec(schemas.SALES_EVENT, topic, ConfluentRegistry("mock://wire-spec", client=client))
    assert codec.decode(theirs) == codec.decode(codec.encode(record))
    ours = codec.encode(record)
    assert ours[0] == theirs[0] == 0  # Confluent's magic byte, then a 4-byte id (the mock gives the raw text its own)
    read_back = AvroDeserializer(client)(ours, ctx)
    assert read_back["event_id"] == record["event_id"]
    assert read_back["payload"]["z_report_number"] == record["payload"][1]["z_report_number"]


# --- the documented test vectors ----------------------------------------------------------------------

_ROW = re.compile(r"^\| `(?P<file>[\w.]+\.avsc)` \| `0x(?P<value>[0-9a-f]{16})` \| `(?P<header>[0-9a-f ]+)` \|")


def _documented_vectors(doc: str = "docs/events.md") -> dict[str, tuple[str, str]]:
    text = (ROOT / doc).read_text()
    return {m["file"]: (m["value"], m["header"]) for m in map(_ROW.match, text.splitlines()) if m}


def _expected_row(file: str, text: str) -> str:
    fp = avro_spec.fingerprint(text)
    return (
        f"| `{file}` | `0x{int.from_bytes(fp, 'little'):016x}` | "
        f"`{' '.join(f'{b:02x}' for b in avro_spec.header(text))}` |"
    )


@pytest.mark.parametrize("doc", ["docs/events.md", "README.md"])
def test_docs_give_every_schema_s_fingerprint_and_header_as_the_spec_computes_them(doc: str) -> None:
    documented = _documented_vectors(doc)
    expected = {f"{name}.avsc": schemas.raw(name) for name in schemas.ALL}
    rows = "\n".join(_expected_row(file, text) for file, text in expected.items())
    for file, text in expected.items():
        fp = avro_spec.fingerprint(text)
        want = (f"{int.from_bytes(fp, 'little'):016x}", " ".join(f"{b:02x}" for b in avro_spec.header(text)))
        assert documented.get(file) == want, f"{doc}: the test vectors are stale; the rows should read:\n{rows}"


def test_hand_made_header_rows_parse() -> None:
    """The documented header is the marker plus the value's bytes, least significant first (sanity of the doc)."""
    for value, head in _documented_vectors().values():
        assert bytes.fromhex(head) == b"\xc3\x01" + int(value, 16).to_bytes(8, "little")

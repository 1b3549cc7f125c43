"""schemas/asyncapi.yaml: valid for the AsyncAPI project's own parser, and in agreement with schemas/ and the code.

The parser runs under Node from ``tools/node`` (installed with ``npm ci`` by ``make test``; ``.ci/run``
installs Node where it is missing). It resolves every ``$ref``'d ``.avsc`` file; the summary it prints is
compared here with the files, the settings' default topics and docs/events.md.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

import schemas
from dayclose.settings import KafkaSettings

ROOT = Path(__file__).resolve().parents[3]
DOCUMENT = ROOT / "schemas" / "asyncapi.yaml"
TOOLS = ROOT / "tools" / "node"
#: Which topic setting carries which contract.
TOPIC_OF = {
    schemas.SALES_EVENT: KafkaSettings.sales_topic,
    schemas.COMMAND: KafkaSettings.commands_topic,
    schemas.EXPORT_OUTCOME: KafkaSettings.outcomes_topic,
    schemas.DEAD_LETTER: KafkaSettings.dead_letter_topic,
}
SINGLE_OBJECT = "application/vnd.apache.avro+binary"


def run_parser(document: Path) -> subprocess.CompletedProcess[str]:
    node = shutil.which("node")
    assert node, "Node.js is needed to validate schemas/asyncapi.yaml (Debian: apt-get install nodejs npm)"
    installed = (TOOLS / "node_modules" / "@asyncapi" / "parser").is_dir()
    assert installed, "run `npm ci --prefix tools/node` (make test does)"
    return subprocess.run(
        [node, str(TOOLS / "validate-asyncapi.mjs"), str(document)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=ROOT,
    )


@pytest.fixture(scope="module")
def parsed() -> dict[str, Any]:
    result = run_parser(DOCUMENT)
    assert result.returncode == 0, f"the AsyncAPI parser refused schemas/asyncapi.yaml:\n{result.stderr}"
    summary: dict[str, Any] = json.loads(result.stdout)
    return summary


def messages(parsed: dict[str, Any]) -> dict[str, tuple[dict[str, Any], dict[str, Any]]]:
    """Record name → (channel, message) as the parser resolved them."""
    return {m["avro"]["name"]: (c, m) for c in parsed["channels"] for m in c["messages"]}


def test_every_contract_is_a_message_whose_payload_is_the_avsc_file(parsed: dict[str, Any]) -> None:
    found = messages(parsed)
    for name in schemas.ALL:
        avsc = json.loads(schemas.raw(name))
        assert avsc["name"] in found, f"{name}.avsc has no message in schemas/asyncapi.yaml"
        _channel, message = found[avsc["name"]]
        assert message["avro"] == avsc  # resolved from the file itself: a $ref, not a stale copy
    assert len(found) == len(schemas.ALL)


def test_every_schema_file_has_a_channel() -> None:
    """A new contract in schemas/ needs its channel; a payload must point at an existing file whose record
    name is the message's name. Plain YAML, so this fails even where Node is missing."""
    document = yaml.safe_load(DOCUMENT.read_text())
    referenced = {}
    for message in document["components"]["messages"].values():
        ref = message["payload"]["schema"]["$ref"]
        path = (DOCUMENT.parent / ref).resolve()
        assert path.is_file(), f"{ref} does not exist"
        assert json.loads(path.read_text())["name"] == message["name"], f"{ref}: record name is not {message['name']}"
        referenced[path.name] = message
    assert set(referenced) == {p.name for p in (ROOT / "schemas").glob("*.avsc")}


def test_channels_are_the_settings_default_topics_and_the_documented_ones(parsed: dict[str, Any]) -> None:
    found = messages(parsed)
    events_md = (ROOT / "docs" / "events.md").read_text()
    for name, topic in TOPIC_OF.items():
        channel, _ = found[json.loads(schemas.raw(name))["name"]]
        assert channel["address"] == channel["topic"] == topic
        assert f"| `{topic}` (" in events_md and f"`{name}.avsc`" in events_md


def test_keys_content_types_and_compression_are_stated(parsed: dict[str, Any]) -> None:
    for channel in parsed["channels"]:
        for message in channel["messages"]:
            assert message["contentType"] == SINGLE_OBJECT
            assert message["schemaFormat"].startswith("application/vnd.apache.avro")
            key = message["key"]
            assert key and "string" in json.dumps(key["type"]) and key.get("description"), f"{channel['id']}: key"
    sends = [op for op in parsed["operations"] if op["action"] == "send"]
    assert {c for op in sends for c in op["channels"]} == {"outcomes", "deadLetters"}
    assert {op["compression"] for op in sends} == {KafkaSettings.compression}
    assert "application/vnd.confluent.avro" in DOCUMENT.read_text()  # the registry framing is described too


def test_the_parser_refuses_a_broken_document(tmp_path: Path) -> None:
    """The validation can fail: a payload pointing at an invalid Avro schema, or at no file at all."""
    broken = json.loads(schemas.raw(schemas.COMMAND))
    broken["fields"][0]["type"] = "strnig"
    (tmp_path / "command.avsc").write_text(json.dumps(broken))
    for name in schemas.ALL:
        if name != schemas.COMMAND:
            shutil.copy(ROOT / "schemas" / f"{name}.avsc", tmp_path)
    shutil.copy(DOCUMENT, tmp_path / "asyncapi.yaml")
    result = run_parser(tmp_path / "asyncapi.yaml")
    assert result.returncode == 1 and "strnig" in result.stderr
    (tmp_path / "command.avsc").unlink()
    result = run_parser(tmp_path / "asyncapi.yaml")
    assert result.returncode == 1 and "command.avsc" in result.stderr

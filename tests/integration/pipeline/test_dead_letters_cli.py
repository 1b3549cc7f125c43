"""`dayclose dead-letters show|replay` against the Kafka mock cluster and the running pipeline."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest

import schemas
from consumer.codec import AvroCodec
from consumer.dead_letters import REPLAYED_FROM_HEADER
from consumer.events import dead_letter_record
from dayclose import cli
from devstack import sampledata
from devstack.harness import Harness, settings_env
from tests.integration.pipeline.conftest import ORG
from tests.integration.pipeline.test_interop import raw_messages

pytestmark = pytest.mark.integration
DAY = date(2026, 11, 25)


def dead_letter(h: Harness, value: bytes | None, code: str, offset: int, topic: str | None = None) -> dict[str, Any]:
    return dead_letter_record(
        topic=topic or h.topics.sales,
        partition=2,
        offset=offset,
        key=f"{ORG}/s1".encode(),
        value=value,
        error_code=code,
        error_message=f"{code} for the test",
    )


def put(h: Harness, *records: dict[str, Any]) -> None:
    codec = AvroCodec(schemas.DEAD_LETTER, h.topics.dead_letters)
    for record in records:
        h.producer.produce(h.topics.dead_letters, key=record["original_key"], value=codec.encode(record))
    assert h.producer.flush(10) == 0


def run_cli(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], h: Harness, *argv: str
) -> tuple[int, str, str]:
    for name, value in settings_env(h.settings).items():
        monkeypatch.setenv(name, value)
    code = cli.main(["dead-letters", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_show_decodes_each_dead_letter_and_its_original_when_it_can(
    make_pipeline: Any,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    h = make_pipeline(start=False)
    event = sampledata.store_day(ORG, "s1", DAY, 1).day_closed()
    good = AvroCodec(schemas.SALES_EVENT, h.topics.sales).encode(event)
    command = AvroCodec(schemas.COMMAND, h.topics.commands).encode(sampledata.manual_export(ORG))
    put(
        h,
        dead_letter(h, good, "SCHEMA_MISMATCH", 10),
        dead_letter(h, b"\x00garbage", "UNDECODABLE", 11),
        dead_letter(h, None, "OVERSIZED", 12),
        dead_letter(h, command, "INVALID_EVENT", 13, h.topics.commands),
    )

    code, out, _ = run_cli(monkeypatch, capsys, h, "show")
    assert code == 0
    assert out.count("dead letter ") == 4
    assert f"source  {h.topics.sales}/2/10  key '{ORG}/s1'" in out
    assert "error   SCHEMA_MISMATCH: SCHEMA_MISMATCH for the test" in out
    assert event["event_id"] in out  # the original, decoded
    assert "not decodable: UNDECODABLE" in out and "value not kept" in out

    code, out, _ = run_cli(monkeypatch, capsys, h, "show", "--json", "--error-code", "INVALID_EVENT")
    (line,) = [json.loads(x) for x in out.splitlines() if x.startswith("{")]
    assert line["source_topic"] == h.topics.commands and line["original"]["organization_id"] == ORG
    assert line["key"] == f"{ORG}/s1" and line["position"].count(":") == 1


def test_replay_sends_the_original_back_unchanged_and_the_pipeline_ingests_it(
    make_pipeline: Any,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    h = make_pipeline()
    day = sampledata.store_day(ORG, "s1", DAY, 3)
    receipt = next(iter(day.events()))
    good = AvroCodec(schemas.SALES_EVENT, h.topics.sales).encode(receipt)
    put(h, dead_letter(h, good, "SCHEMA_MISMATCH", 10), dead_letter(h, b"\x00garbage", "UNDECODABLE", 11))
    _, out, _ = run_cli(monkeypatch, capsys, h, "show", "--json", "--error-code", "SCHEMA_MISMATCH")
    (chosen,) = [json.loads(x) for x in out.splitlines() if x.startswith("{")]

    code, out, err = run_cli(monkeypatch, capsys, h, "replay", chosen["dead_letter_id"])
    assert code == 0, err
    assert "replayed 1 of 1" in out
    (replayed,) = raw_messages(h, h.topics.sales, 1)
    assert (replayed.key(), replayed.value()) == (f"{ORG}/s1".encode(), good)
    assert dict(replayed.headers())[REPLAYED_FROM_HEADER].startswith(f"{h.topics.dead_letters}/".encode())
    h.wait_stored(ORG, 1)  # ingested by the running service, as any sale

    code, _, err = run_cli(monkeypatch, capsys, h, "replay", "no-such-id")
    assert code == 1 and "no-such-id" in err
    code, _, err = run_cli(monkeypatch, capsys, h, "replay")
    assert code == 1 and "nothing to replay" in err


def test_show_narrows_to_a_date_and_the_newest_few(
    make_pipeline: Any,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from datetime import UTC, datetime

    h = make_pipeline(start=False)
    letters = []
    for offset, day in enumerate((20, 26, 22, 24), start=10):  # not in time order in the topic
        letter = dead_letter(h, b"\x00garbage", "UNDECODABLE", offset)
        letter["failed_at"] = datetime(2026, 11, day, 9, 30, tzinfo=UTC)
        letters.append(letter)
    put(h, *letters)

    def shown(*argv: str) -> list[int]:
        code, out, _ = run_cli(monkeypatch, capsys, h, "show", "--json", *argv)
        assert code == 0
        return sorted(json.loads(x)["source_offset"] for x in out.splitlines() if x.startswith("{"))

    assert shown() == [10, 11, 12, 13]
    assert shown("--since", "2026-11-23") == [11, 13]  # failed on the 26th and the 24th
    assert shown("--limit", "1") == [11]  # the newest
    assert shown("--since", "2026-11-21", "--limit", "2") == [11, 13]
    code, _, err = run_cli(monkeypatch, capsys, h, "show", "--since", "2026-11-27")
    assert code == 0 and "0 of 4 dead letters" in err

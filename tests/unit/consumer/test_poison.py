"""Whom an ingest failure names: never the unverified Kafka key; the payload's organization once decoded."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from consumer.poison import MAX_IDENTIFIER, Poison, identifier, key_parts


@dataclass
class Msg:
    _key: bytes | None

    def topic(self) -> str:
        return "pos.sales.v1"

    def partition(self) -> int:
        return 3

    def offset(self) -> int:
        return 41

    def key(self) -> bytes | None:
        return self._key

    def value(self) -> bytes:
        return b"\x00garbage"


@pytest.mark.parametrize(
    "bad", [None, "", "   ", "org\x00", "org\n", "o\x1br", "org\x7f", "x" * (MAX_IDENTIFIER + 1), 7]
)
def test_only_printable_bounded_strings_name_anyone(bad: object) -> None:
    assert identifier(bad) is None


@pytest.mark.parametrize(
    ("key", "parts"),
    [
        (b"org-a/s1", ("org-a", "s1")),
        (b"org-a", ("org-a", None)),
        (b"org-a/", ("org-a", None)),
        (b"org-a/s1/extra", ("org-a", "s1/extra")),
        (b"org\x00a/s1", (None, "s1")),
        (b"\xff/s1", (None, None)),
        (None, (None, None)),
        (b"", (None, None)),
    ],
)
def test_key_parts(key: bytes | None, parts: tuple[str | None, str | None]) -> None:
    assert key_parts(key) == parts


def test_undecodable_poison_is_addressed_to_nobody_and_names_a_known_key_only_as_unverified() -> None:
    p = Poison(Msg(b"org-a/s1"), "UNDECODABLE", "not Avro")
    known = p.outcome({"org-a"})
    assert (known.organization_id, known.store_id, known.reason_code) == (None, None, "POISON_MESSAGE")
    assert [(d.kind, d.code) for d in known.details] == [
        ("message", "pos.sales.v1/3/41"),
        ("unverified_key", "org-a/s1"),
    ]
    assert [d.kind for d in p.outcome({"org-b"}).details] == ["message"]  # a stranger's name is not repeated
    assert [d.kind for d in Poison(Msg(b"org-a\x00/s1"), "UNDECODABLE", "x").outcome({"org-a"}).details] == ["message"]


def test_decoded_poison_is_addressed_to_its_payloads_organization_and_store() -> None:
    p = Poison(Msg(b"org-key/s9"), "INVALID_EVENT", "tip < 0", "org-a", "s1")
    outcome = p.outcome({"org-key"})
    assert (outcome.organization_id, outcome.store_id, outcome.reason_code) == ("org-a", "s1", "INVALID_EVENT")
    assert [d.kind for d in outcome.details] == ["message"]

"""What an operator might log from the settings comes out redacted in the production (JSON) format."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
import structlog

from dayclose.config import load_settings
from dayclose.logs import configure_logging

#: A well-formed Fernet key (load_settings checks the key-encryption key's form): base64 of 32 bytes.
KEK = "a2VrLWFiYy1rZWstYWJjLWtlay1hYmMta2VrLWFiYyE="
ENV = {
    "DATABASE_URL": "postgresql://dayclose:db-pw-123@db:5432/dayclose",
    "KAFKA_BOOTSTRAP_SERVERS": "k:9093",
    "KAFKA_SASL_USERNAME": "dayclose",
    "KAFKA_SASL_PASSWORD": "sasl-pw-456",
    "BL_CLIENT_ID": "open2",
    "BL_CLIENT_SECRET": "bl-secret-789",
    "DAYCLOSE_KEY_ENCRYPTION_KEY": KEK,
    "DAYCLOSE_API_TOKENS": "k1:api-token-1-0123456789abcdef0123456789,k2:api-token-2-0123456789abcdef0123456789",
}


@pytest.fixture
def json_lines() -> Iterator[Any]:
    stream = io.StringIO()
    configure_logging("INFO", "json", stream=stream)
    yield stream.getvalue
    logging.getLogger().handlers.clear()


def test_settings_secrets_logged_by_mistake_are_redacted(json_lines: Any) -> None:
    settings = load_settings(ENV)
    log = structlog.get_logger("ops")
    log.info(
        "startup",
        kafka=settings.kafka.client_config(),
        bl_secret=settings.bl.client_secret,
        kek=settings.key_encryption_key,
        tokens=list(settings.api_tokens),
        settings=repr(settings.bl),
    )
    text = json_lines()
    line = json.loads(text.splitlines()[-1])
    for leaked in ("sasl-pw-456", "bl-secret-789", KEK, "api-token-1", "api-token-2"):
        assert leaked not in text
    assert line["kafka"]["bootstrap.servers"] == "k:9093"  # non-secrets stay readable


def test_a_database_url_logged_by_mistake_is_redacted(json_lines: Any) -> None:
    structlog.get_logger("ops").warning("db.unreachable", database_url=ENV["DATABASE_URL"])
    assert "db-pw-123" not in json_lines()

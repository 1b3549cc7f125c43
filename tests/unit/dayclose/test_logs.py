import io
import json
import logging

import pytest
import structlog

from dayclose.logs import configure_logging
from service.secrets import Secret

KEY = "0f8fad5b-d9cb-469f-a165-70867728950e"


@pytest.fixture
def json_logs():
    stream = io.StringIO()
    configure_logging("INFO", "json", stream=stream)

    def lines() -> list[dict[str, object]]:
        return [json.loads(line) for line in stream.getvalue().splitlines() if line.startswith("{")]

    yield lines
    logging.getLogger().handlers.clear()


def test_secrets_put_in_log_calls_come_out_redacted(json_logs) -> None:
    log = structlog.get_logger("t")
    log.info(
        "export.booked",
        user_key=KEY,
        client_secret="hunter2",
        note=f"called BL with key {KEY}",
        headers={"Authorization": "Bearer abc.def.ghi", "Accept": "json"},
        secret_obj=Secret("xyz"),
        export_id="8c1f6c8e-4f1a-4c39-9a57-1d2a3b4c5d6e",
    )
    (line,) = json_logs()
    text = json.dumps(line)
    for leaked in (KEY, "hunter2", "abc.def.ghi", "xyz"):
        assert leaked not in text
    assert line["headers"]["Accept"] == "json"
    assert line["export_id"] == "8c1f6c8e-4f1a-4c39-9a57-1d2a3b4c5d6e"


def test_stdlib_logs_are_rendered_as_json_and_redacted(json_logs) -> None:
    logging.getLogger("urllib3.x").warning("POST /token client_secret=hunter2&grant_type=x")
    (line,) = json_logs()
    assert "hunter2" not in line["event"]
    assert line["level"] == "warning"

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


# --- librdkafka's own lines ------------------------------------------------------------------------------------

#: What confluent-kafka passes the ``logger`` for one librdkafka line (seen with an unreachable broker).
FAIL = (
    "FAIL",
    "rdkafka#producer-1",
    "[thrd:127.0.0.1:1/bootstrap]: 127.0.0.1:1/bootstrap: Connect to ipv4#127.0.0.1:1 failed: Connection refused "
    "(after 0ms in state CONNECT)",
)


def test_librdkafka_lines_are_structured_json_and_rate_limited(json_logs) -> None:
    from dayclose.logs import RateLimit, librdkafka_logger

    kafka = librdkafka_logger()
    now = [1000.0]
    (limit,) = [f for f in kafka.filters if isinstance(f, RateLimit)]
    limit.clock = lambda: now[0]
    for _ in range(480):  # what 25 s of an unreachable broker used to print
        kafka.log(logging.ERROR, "%s [%s] %s", *FAIL)
    kafka.log(logging.ERROR, "%s [%s] %s", "ERROR", "rdkafka#producer-1", "1/1 brokers are down")
    now[0] += 61
    kafka.log(logging.ERROR, "%s [%s] %s", *FAIL)

    lines = json_logs()
    fails = [line for line in lines if line.get("facility") == "FAIL"]
    assert len(fails) == 6 and len(lines) == 7  # 5 in the first minute, one after it; other facilities apart
    assert all(line["event"] == "kafka.client_log" and line["level"] == "error" for line in lines)
    assert fails[0]["client"] == "rdkafka#producer-1" and fails[0]["message"] == FAIL[2]
    assert fails[-1]["suppressed"] == 475 and "suppressed" not in fails[0]


def test_every_kafka_client_of_the_service_logs_through_structlog() -> None:
    """The relay's producer had no logger: librdkafka wrote raw '%3|…' lines into the JSON log."""
    from dayclose.bootstrap import consumer_config, producer_config
    from dayclose.config import load_settings
    from dayclose.logs import librdkafka_logger

    settings = load_settings(
        {
            "DATABASE_URL": "postgresql://x/y",
            "KAFKA_BOOTSTRAP_SERVERS": "k:9092",
            "BL_CLIENT_ID": "c",
            "BL_CLIENT_SECRET": "s",
        }  # fmt: skip
    )
    assert producer_config(settings)["logger"] is librdkafka_logger()
    assert consumer_config(settings)["logger"] is librdkafka_logger()


def test_a_pod_s_consumer_process_names_itself_on_every_line_whichever_thread_logs() -> None:
    """DAYCLOSE_CONSUMER_PROCESSES: the processes share the pod's log; each line says which one wrote it."""
    import threading

    stream = io.StringIO()
    configure_logging("INFO", "json", stream=stream, fields={"consumer_process": 2})
    try:
        thread = threading.Thread(target=lambda: structlog.get_logger("t").info("from.a.thread"))
        thread.start()
        thread.join()
        logging.getLogger("dayclose.librdkafka").warning("a foreign line")
        structlog.get_logger("t").info("own", consumer_process="kept")  # a line's own field wins
    finally:
        logging.getLogger().handlers.clear()
    lines = [json.loads(line) for line in stream.getvalue().splitlines() if line.startswith("{")]
    assert [line["consumer_process"] for line in lines] == [2, 2, "kept"]

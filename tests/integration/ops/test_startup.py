"""`dayclose run` that cannot start says why in one JSON line naming the setting to check, and exits: no traceback,
no minutes of retries, no raw librdkafka lines (real PostgreSQL, the Kafka mock cluster, closed ports)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid

import pytest

from dayclose import exitcodes
from dayclose.keys import KeyVault
from devstack.kafka import KafkaCluster
from devstack.ports import free_port

pytestmark = pytest.mark.integration


def run(env: dict[str, str]) -> tuple[int, list[dict[str, object]]]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "KAFKA_", "BL_", "DAYCLOSE_"))}
    done = subprocess.run(
        [sys.executable, "-m", "dayclose", "run"],
        env={
            **base,
            "BL_CLIENT_ID": "c",
            "BL_CLIENT_SECRET": "s",
            "DAYCLOSE_KEY_ENCRYPTION_KEY": KeyVault.generate_key(),
            "DAYCLOSE_LOG_FORMAT": "json",
            "DAYCLOSE_HTTP_PORT": str(free_port()),
            "DAYCLOSE_STARTUP_TIMEOUT_SECONDS": "3",
            **env,
        },
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    lines = (done.stdout + done.stderr).splitlines()
    assert "Traceback" not in done.stderr
    return done.returncode, [json.loads(line) for line in lines]  # every line is JSON, librdkafka's too


def test_an_unreachable_kafka_is_named_and_the_process_exits_69(database_url: str) -> None:
    code, lines = run({"DATABASE_URL": database_url, "KAFKA_BOOTSTRAP_SERVERS": f"127.0.0.1:{free_port()}"})
    assert code == exitcodes.UNAVAILABLE
    (failure,) = [line for line in lines if line["event"] == "startup.dependency_unavailable"]
    assert "KAFKA_BOOTSTRAP_SERVERS" in str(failure["problem"]) and failure["level"] == "error"
    assert len(lines) <= 12, lines  # librdkafka's retries are rate-limited, not one line per attempt


def test_an_unreachable_database_is_named_without_its_password(tmp_path: object) -> None:
    url = f"postgresql://dayclose:hunter2@127.0.0.1:{free_port()}/books"
    code, lines = run({"DATABASE_URL": url, "KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:1"})
    assert code == exitcodes.UNAVAILABLE
    problem = str(next(line for line in lines if line["event"] == "startup.dependency_unavailable")["problem"])
    assert "DATABASE_URL" in problem and "127.0.0.1" in problem and "/books" in problem
    assert "hunter2" not in json.dumps(lines)


def test_a_topic_that_does_not_exist_is_a_configuration_error(database_url: str, kafka_cluster: KafkaCluster) -> None:
    missing = f"no-such-topic-{uuid.uuid4().hex[:8]}"
    commands = f"commands-{uuid.uuid4().hex[:8]}"
    kafka_cluster.create_topic(commands, 1)
    base = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "KAFKA_", "BL_", "DAYCLOSE_"))}
    done = subprocess.run(
        [sys.executable, "-m", "dayclose", "run"],
        env={
            **base,
            "DATABASE_URL": database_url,
            "KAFKA_BOOTSTRAP_SERVERS": kafka_cluster.bootstrap_servers,
            "DAYCLOSE_SALES_TOPIC": missing,
            "DAYCLOSE_COMMANDS_TOPIC": commands,
            "BL_CLIENT_ID": "c",
            "BL_CLIENT_SECRET": "s",
            "DAYCLOSE_KEY_ENCRYPTION_KEY": KeyVault.generate_key(),
            "DAYCLOSE_HTTP_PORT": str(free_port()),
        },
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == exitcodes.CONFIG
    assert f"dayclose: topic '{missing}' (DAYCLOSE_SALES_TOPIC) does not exist" in done.stderr
    assert "Traceback" not in done.stderr

"""The timeouts that bound a silent fault (#24) are settings with documented defaults, and reach the clients."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from dayclose.bootstrap import consumer_config
from dayclose.config import load_settings
from dayclose.settings import ConfigError
from storage.connections import ConnectionLimits

BASE = {
    "DATABASE_URL": "postgresql://localhost/dayclose?options=-c%20search_path%3Dpublic",
    "KAFKA_BOOTSTRAP_SERVERS": "localhost:9092",
    "BL_CLIENT_ID": "client",
    "BL_CLIENT_SECRET": "s3cret-value",
}
SETTINGS = {
    "DAYCLOSE_DB_CONNECT_TIMEOUT_SECONDS": ("connect_timeout_s", "3", 3),
    "DAYCLOSE_DB_KEEPALIVES_IDLE_SECONDS": ("keepalives_idle_s", "4", 4),
    "DAYCLOSE_DB_KEEPALIVES_INTERVAL_SECONDS": ("keepalives_interval_s", "2", 2),
    "DAYCLOSE_DB_KEEPALIVES_COUNT": ("keepalives_count", "5", 5),
    "DAYCLOSE_DB_TCP_USER_TIMEOUT_SECONDS": ("tcp_user_timeout_s", "7.5", 7.5),
    "DAYCLOSE_DB_STATEMENT_TIMEOUT_SECONDS": ("statement_timeout_s", "30", 30.0),
    "DAYCLOSE_DB_POOL_TIMEOUT_SECONDS": ("pool_timeout_s", "12", 12.0),
}
DOCS = Path(__file__).resolve().parents[3] / "README.md"


def test_the_database_limits_default_to_the_documented_bounds() -> None:
    limits = load_settings(BASE).database_limits
    assert limits == ConnectionLimits()
    assert (limits.connect_timeout_s, limits.tcp_user_timeout_s, limits.idle_detection_s) == (5, 25.0, 25)
    assert (limits.statement_timeout_s, limits.pool_timeout_s) == (120.0, 30.0)


@pytest.mark.parametrize("name", sorted(SETTINGS))
def test_each_database_limit_is_read_and_must_be_positive(name: str) -> None:
    attribute, raw, value = SETTINGS[name]
    assert getattr(load_settings({**BASE, name: raw}).database_limits, attribute) == value
    with pytest.raises(ConfigError, match=name):
        load_settings({**BASE, name: "0"})


def test_the_limits_reach_libpq_and_the_servers_session_keeping_the_urls_own_options() -> None:
    kwargs = load_settings({**BASE, "DAYCLOSE_DB_TCP_USER_TIMEOUT_SECONDS": "7.5"}).database_limits.connect_kwargs(
        BASE["DATABASE_URL"]
    )
    assert {k: kwargs[k] for k in ("connect_timeout", "keepalives", "keepalives_idle", "tcp_user_timeout")} == {
        "connect_timeout": 5,
        "keepalives": 1,
        "keepalives_idle": 10,
        "tcp_user_timeout": 7500,
    }
    options = kwargs["options"]
    assert options.startswith("-c search_path=public ")  # the URL's own, first
    assert "-c statement_timeout=120000ms" in options and "-c tcp_keepalives_idle=10" in options
    assert "-c tcp_user_timeout=7500ms" in options


def test_kafka_requests_time_out_after_the_socket_timeout_with_keepalives_on() -> None:
    assert load_settings(BASE).kafka.socket_timeout_ms == 30_000
    settings = load_settings({**BASE, "KAFKA_SOCKET_TIMEOUT_MS": "4000"})
    conf = consumer_config(settings)
    assert (conf["socket.timeout.ms"], conf["socket.keepalive.enable"]) == ("4000", "true")
    assert settings.kafka.producer_config()["socket.timeout.ms"] == "4000"
    with pytest.raises(ConfigError, match="KAFKA_SOCKET_TIMEOUT_MS"):
        load_settings({**BASE, "KAFKA_SOCKET_TIMEOUT_MS": "-1"})


def test_the_bl_connect_timeout_is_a_setting() -> None:
    assert load_settings(BASE).bl.connect_timeout_s == 5.0
    assert load_settings({**BASE, "BL_CONNECT_TIMEOUT_SECONDS": "1.5"}).bl.connect_timeout_s == 1.5


def test_every_silent_fault_setting_is_documented_in_the_readme_with_its_default() -> None:
    readme = DOCS.read_text()
    documented = {
        **{name: str(getattr(ConnectionLimits(), attr)).removesuffix(".0") for name, (attr, _, _) in SETTINGS.items()},
        "KAFKA_SOCKET_TIMEOUT_MS": "30000",
        "BL_CONNECT_TIMEOUT_SECONDS": "5",
    }
    for name, default in documented.items():
        assert re.search(rf"`{name}` \({re.escape(default)}\)", readme), f"{name} ({default}) not in README.md"

import pytest

from dayclose.config import load_settings
from dayclose.settings import ConfigError

BASE = {
    "DATABASE_URL": "postgresql://localhost/dayclose",
    "KAFKA_BOOTSTRAP_SERVERS": "localhost:9092",
    "BL_CLIENT_ID": "client",
    "BL_CLIENT_SECRET": "s3cret-value",
}


def test_reads_a_complete_environment_with_defaults() -> None:
    settings = load_settings(BASE)
    assert settings.kafka.bootstrap_servers == "localhost:9092"
    assert settings.bl.max_requests_per_second == 8.0
    assert settings.bl.client_secret.reveal() == "s3cret-value"


@pytest.mark.parametrize("missing", sorted(BASE))
def test_names_the_missing_setting(missing: str) -> None:
    env = {k: v for k, v in BASE.items() if k != missing}
    with pytest.raises(ConfigError, match=missing):
        load_settings(env)


def test_names_a_malformed_setting_without_echoing_it() -> None:
    with pytest.raises(ConfigError, match="BL_MAX_REQUESTS_PER_SECOND") as info:
        load_settings({**BASE, "BL_MAX_REQUESTS_PER_SECOND": "-3"})
    assert "-3" not in str(info.value).split(":")[0]


def test_secrets_never_show_in_reprs() -> None:
    settings = load_settings({**BASE, "DAYCLOSE_API_TOKENS": f"k1:tok-a-{'x' * 30},k2:tok-b-{'y' * 30}"})
    text = repr(settings)
    assert "s3cret-value" not in text
    assert "tok-a" not in text
    assert len(settings.api_tokens) == 2


def test_the_offset_commit_interval_defaults_to_librdkafkas_and_reaches_the_consumer() -> None:
    from dayclose.bootstrap import consumer_config

    assert load_settings(BASE).kafka.auto_commit_interval_ms == 5000
    settings = load_settings({**BASE, "KAFKA_AUTO_COMMIT_INTERVAL_MS": "100"})
    config = consumer_config(settings)
    assert config["auto.commit.interval.ms"] == 100
    assert config["enable.auto.commit"] is True and config["enable.auto.offset.store"] is False
    with pytest.raises(ConfigError, match="KAFKA_AUTO_COMMIT_INTERVAL_MS"):
        load_settings({**BASE, "KAFKA_AUTO_COMMIT_INTERVAL_MS": "0"})


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("no-key-id-" + "x" * 40, "entry 1 is not <kid>:<secret>"),
        ("k1:short", "key 'k1' is shorter than 32 bytes"),
        (f"k1:{'x' * 32},k1:{'y' * 32}", "key id 'k1' is used twice"),
        (f"bad kid:{'x' * 32}", "entry 1 is not"),
    ],
)
def test_api_signing_keys_are_kid_and_a_32_byte_secret(value: str, problem: str) -> None:
    with pytest.raises(ConfigError, match="DAYCLOSE_API_TOKENS") as info:
        load_settings({**BASE, "DAYCLOSE_API_TOKENS": value})
    assert problem in str(info.value)
    assert "x" * 32 not in str(info.value) and "short" not in str(info.value).replace("shorter", "")


def test_produced_events_are_gzip_compressed_unless_told_otherwise() -> None:
    from consumer.relay import OutboxRelay

    assert load_settings(BASE).kafka.producer_config()["compression.type"] == "gzip"
    settings = load_settings({**BASE, "DAYCLOSE_KAFKA_COMPRESSION": "ZSTD"})
    relay = OutboxRelay(None, "", settings.kafka.producer_config())  # type: ignore[arg-type]
    assert relay._producer_config["compression.type"] == "zstd"
    with pytest.raises(ConfigError, match="DAYCLOSE_KAFKA_COMPRESSION"):
        load_settings({**BASE, "DAYCLOSE_KAFKA_COMPRESSION": "brotli"})


def test_the_shutdown_deadline_defaults_to_30_s_and_must_be_positive() -> None:
    assert load_settings(BASE).shutdown_timeout_s == 30.0
    assert load_settings({**BASE, "DAYCLOSE_SHUTDOWN_TIMEOUT_SECONDS": "5"}).shutdown_timeout_s == 5.0
    with pytest.raises(ConfigError, match="DAYCLOSE_SHUTDOWN_TIMEOUT_SECONDS"):
        load_settings({**BASE, "DAYCLOSE_SHUTDOWN_TIMEOUT_SECONDS": "0"})


def test_one_consumer_process_per_pod_unless_told_and_never_none() -> None:
    assert load_settings(BASE).consumer_processes == 1
    assert load_settings({**BASE, "DAYCLOSE_CONSUMER_PROCESSES": "3"}).consumer_processes == 3
    with pytest.raises(ConfigError, match="DAYCLOSE_CONSUMER_PROCESSES"):
        load_settings({**BASE, "DAYCLOSE_CONSUMER_PROCESSES": "0"})


def test_sales_and_commands_are_consumed_in_groups_of_their_own() -> None:
    """Issue #27: in one group, cooperative-sticky balances the total partition count, not each topic's."""
    from dayclose.bootstrap import consumer_config

    settings = load_settings({**BASE, "DAYCLOSE_KAFKA_GROUP_ID": "shop"})
    assert consumer_config(settings)["group.id"] == "shop"
    commands = consumer_config(settings, group_id=settings.kafka.commands_group_id)
    assert commands["group.id"] == "shop.commands"


def test_the_key_encryption_key_is_checked_once_here_and_required_by_the_processes_that_need_it() -> None:
    from dayclose.settings import KEY_ENCRYPTION_KEY

    with pytest.raises(ConfigError, match=KEY_ENCRYPTION_KEY) as info:
        load_settings({**BASE, KEY_ENCRYPTION_KEY: "not-a-fernet-key"})
    assert "not-a-fernet-key" not in str(info.value)
    with pytest.raises(ConfigError, match=f"missing required setting {KEY_ENCRYPTION_KEY}"):
        load_settings(BASE, needs=(KEY_ENCRYPTION_KEY,))
    key = "u4mC9lQ0n7c3qgQ3vJm4n2Yc0q1J8m0bH9tV6yZk2aE="
    assert load_settings({**BASE, KEY_ENCRYPTION_KEY: key}, needs=(KEY_ENCRYPTION_KEY,)).kek.reveal() == key


def test_the_bl_clients_defaults_have_one_source() -> None:
    from dataclasses import fields

    from exporters.bl.config import BLConfig

    loaded = load_settings(BASE).bl
    defaults = BLConfig("client", "s3cret-value")
    assert loaded == defaults  # nothing set: every default is BLConfig's
    assert {f.name for f in fields(BLConfig)} >= {"timeout_s", "max_retries", "max_requests_per_second"}
    assert (loaded.timeout_s, loaded.max_retries) == (20.0, 5)  # as README and the chart's values document

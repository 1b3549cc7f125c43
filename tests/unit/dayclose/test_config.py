import pytest

from dayclose.config import ConfigError, load_settings

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
    settings = load_settings({**BASE, "DAYCLOSE_API_TOKENS": "tok-a,tok-b"})
    text = repr(settings)
    assert "s3cret-value" not in text
    assert "tok-a" not in text
    assert len(settings.api_tokens) == 2


def test_the_offset_commit_interval_defaults_to_librdkafkas_and_reaches_the_consumer() -> None:
    from consumer.service import consumer_config

    assert load_settings(BASE).kafka.auto_commit_interval_ms == 5000
    settings = load_settings({**BASE, "KAFKA_AUTO_COMMIT_INTERVAL_MS": "100"})
    config = consumer_config(settings)
    assert config["auto.commit.interval.ms"] == 100
    assert config["enable.auto.commit"] is True and config["enable.auto.offset.store"] is False
    with pytest.raises(ConfigError, match="KAFKA_AUTO_COMMIT_INTERVAL_MS"):
        load_settings({**BASE, "KAFKA_AUTO_COMMIT_INTERVAL_MS": "0"})

"""The dayclose command as an operator meets it: help everywhere, a version, exit codes, and start-up failures
that list every bad setting in one line each (exit 78) instead of a traceback."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from collections.abc import Iterator

import jwt
import pytest

from backoffice.auth import TokenVerifier
from dayclose import exitcodes
from dayclose.cli import build_parser, main
from dayclose.telemetry import version
from service.secrets import Secret

KEY = f"k1:{'s' * 40}"
SERVICE_ENV_PREFIXES = ("DATABASE_URL", "KAFKA_", "BL_", "DAYCLOSE_", "SCHEMA_REGISTRY")


def clean_env(**settings: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(SERVICE_ENV_PREFIXES)}
    return {**env, **settings}


def dayclose(*argv: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "dayclose", *argv], env=env, capture_output=True, text=True, timeout=60, check=False
    )


def test_three_bad_settings_print_three_lines_and_exit_78() -> None:
    result = dayclose(
        "run",
        env=clean_env(
            KAFKA_BOOTSTRAP_SERVERS="k:9092",
            BL_CLIENT_ID="c",
            BL_CLIENT_SECRET="s",
            DAYCLOSE_KEY_ENCRYPTION_KEY="u4mC9lQ0n7c3qgQ3vJm4n2Yc0q1J8m0bH9tV6yZk2aE=",
            # the three problems: missing, not a number, out of range
            DAYCLOSE_HTTP_PORT="eighty",
            BL_MAX_RETRIES="-1",
        ),
    )
    assert result.returncode == exitcodes.CONFIG == 78
    assert "Traceback" not in result.stderr
    assert sorted(result.stderr.splitlines()) == [
        "dayclose: malformed setting BL_MAX_RETRIES: must be > 0",
        "dayclose: malformed setting DAYCLOSE_HTTP_PORT: invalid literal for int() with base 10: 'eighty'",
        "dayclose: missing required setting DATABASE_URL",
    ]
    assert result.stdout == ""


def test_a_malformed_secret_is_named_never_shown() -> None:
    result = dayclose("api", env=clean_env(DAYCLOSE_API_TOKENS="k1:tooshort-secret", DATABASE_URL="postgresql://x"))
    assert result.returncode == 78
    assert "DAYCLOSE_API_TOKENS" in result.stderr and "tooshort-secret" not in result.stderr


def subcommands(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {choice.dest: choice.help for choice in action._choices_actions}
            for name, child in action.choices.items():
                assert helps.get(name), f"`dayclose {' '.join((*path, name))}` has no one-line help"
                assert child.description, f"`dayclose {' '.join((*path, name))}` has no description"
                yield (*path, name)
                yield from subcommands(child, (*path, name))


def test_every_command_has_help(capsys: pytest.CaptureFixture[str]) -> None:
    found = list(subcommands(build_parser()))
    assert {("run",), ("api",), ("migrate",), ("purge",), ("exports", "list"), ("token",)} <= set(found)
    for command in found:
        with pytest.raises(SystemExit) as exit_:
            main([*command, "--help"])
        assert exit_.value.code == 0
        assert "usage: dayclose" in capsys.readouterr().out


def test_version_and_the_exit_codes_are_in_the_help(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0 and capsys.readouterr().out.strip() == f"dayclose {version()}"
    with pytest.raises(SystemExit):
        main(["--help"])
    assert "78 a setting is missing or malformed" in capsys.readouterr().out


@pytest.mark.parametrize(
    "argv",
    [
        ["export-sie", "--org", "o", "--from", "2026-13-01", "--to", "2026-12-31"],
        ["reexport", "--org", "o", "--store", "s", "--date", "24/11/2026", "--reason", "r", "--user", "u"],
        ["exports", "list", "--from", "yesterday"],
        ["dead-letters", "show", "--limit", "0"],
    ],
)
def test_a_malformed_argument_is_a_usage_error_not_a_traceback(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == exitcodes.USAGE
    err = capsys.readouterr().err
    assert "Traceback" not in err and ("expected a date YYYY-MM-DD" in err or "whole number" in err)


def test_token_mints_what_the_api_accepts_and_an_independent_library_reads(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DAYCLOSE_API_TOKENS", f"k0:{'r' * 40},{KEY}")
    assert main(["token", "--org", "demo-org", "--kid", "k1", "--ttl", "600"]) == 0
    token = capsys.readouterr().out.strip()
    assert TokenVerifier((Secret(KEY),)).authorize(f"Bearer {token}", "demo-org") == "demo-org"
    claims = jwt.decode(token, KEY.split(":", 1)[1], algorithms=["HS256"], audience="dayclose-api")
    assert claims["org"] == "demo-org" and claims["exp"] - claims["iat"] == 600
    assert jwt.get_unverified_header(token)["kid"] == "k1"


def test_token_needs_only_the_signing_keys_and_names_them_when_missing(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in list(os.environ):
        if name.startswith(SERVICE_ENV_PREFIXES):
            monkeypatch.delenv(name)
    assert main(["token", "--org", "o"]) == exitcodes.CONFIG
    assert capsys.readouterr().err.strip() == "dayclose: missing required setting DAYCLOSE_API_TOKENS"
    monkeypatch.setenv("DAYCLOSE_API_TOKENS", KEY)
    assert main(["token", "--org", "o", "--kid", "nope"]) == exitcodes.FAILED
    assert main(["token", "--org", "o", "--ttl", "7200"]) == exitcodes.USAGE


def test_an_unreachable_database_is_named_with_its_setting_and_exits_69(capsys: pytest.CaptureFixture[str]) -> None:
    from devstack.ports import free_port

    env = clean_env(
        DATABASE_URL=f"postgresql://someone:hunter2@127.0.0.1:{free_port()}/books",
        KAFKA_BOOTSTRAP_SERVERS="k:9092",
        BL_CLIENT_ID="c",
        BL_CLIENT_SECRET="s",
    )
    result = dayclose("exports", "list", env=env)
    assert result.returncode == exitcodes.UNAVAILABLE == 69
    (line,) = result.stderr.splitlines()
    assert line.startswith("dayclose: cannot reach PostgreSQL at 127.0.0.1:") and "/books" in line
    assert line.endswith("check DATABASE_URL") and "hunter2" not in line and "someone" not in line
